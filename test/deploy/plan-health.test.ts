import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEALTH_ROLE, healthExtras } from '../../deploy/health-function.ts';
import type { IamStatement } from '../../deploy/iam.ts';
import { CYCLE_ALARM, DASHBOARD } from '../../deploy/observability.ts';
import { DEFAULT_HEALTH_SCHEDULE, DeployPlanError, type PlanInput, planDeploy } from '../../deploy/plan.ts';
import { type OslsVariableContext, resolveDeployPlan } from '../../deploy/resolve.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE: Record<string, unknown> = parse(
  readFileSync(new URL('../../examples/fleetplane.yml', import.meta.url), 'utf8'),
);
const SETTINGS = { handler: 'functions/aws/health.handler', timeout: 120, reservedConcurrency: 1 };
const HMAC = { auth: 'hmac', secret: { awsSecretsManager: 'fleetplane/webhook-hmac' } };

/** The example document (two AWS fleets: codeintel direct, batches shadow; its token in Secrets Manager), changed. */
function exampleWith(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...EXAMPLE, ...changes });
}

function input(text: string | undefined, overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    region: 'us-east-1',
    timeoutSeconds: 60,
    config: text === undefined ? undefined : { text, source: 'file:test.yml' },
    shellEnv: {},
    ...overrides,
  };
}

function joinedArn(service: string, resource: string) {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:${service}:us-east-1:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  };
}

const groupArn = (name: string) => joinedArn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`);
const actionsOf = (statements: readonly IamStatement[]) => statements.flatMap((statement) => statement.Action);
const READS = {
  Effect: 'Allow',
  Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies', 'ec2:DescribeInstances'],
  Resource: '*',
};
const REPLACE_CODEINTEL = {
  Effect: 'Allow',
  Action: ['autoscaling:SetInstanceHealth'],
  Resource: [groupArn('sourcegraph-executors-codeintel')],
};
const TOKEN_READ = {
  Effect: 'Allow',
  Action: ['secretsmanager:GetSecretValue'],
  Resource: joinedArn('secretsmanager', 'secret:fleetplane/sourcegraph-token-??????'),
};

describe('planDeploy and the health function', () => {
  it('plans it with every config document: every 5 minutes, an IAM-authenticated URL, exactly what it uses', () => {
    // Act
    const plan = planDeploy(input(exampleWith({})));

    // Assess: SetInstanceHealth on the direct fleet's group only, never the shadow fleet's
    expect(plan.health).toEqual({
      iamStatements: [READS, REPLACE_CODEINTEL, TOKEN_READ],
      schedule: DEFAULT_HEALTH_SCHEDULE,
      url: 'aws_iam',
    });
    expect(DEFAULT_HEALTH_SCHEDULE).toBe('rate(5 minutes)');
    // The counts are embedded metric format in the function's log: no CloudWatch permission at all.
    expect(actionsOf(plan.health?.iamStatements ?? []).filter((action) => action.startsWith('cloudwatch:'))).toEqual(
      [],
    );
    // The scale function (the provider role) never marks an instance unhealthy.
    expect(actionsOf(plan.iamStatements)).not.toContain('autoscaling:SetInstanceHealth');
  });

  it('serves an HMAC webhook on a public URL, reading only its key', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf';

    // Act
    const byName = planDeploy(input(exampleWith({ webhook: HMAC })));
    const byArn = planDeploy(input(exampleWith({ webhook: { auth: 'hmac', secret: { awsSecretsManager: arn } } })));

    // Assess
    expect(byName.health?.url).toBe('none');
    expect(byName.health?.iamStatements).toEqual([
      READS,
      REPLACE_CODEINTEL,
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: joinedArn('secretsmanager', 'secret:fleetplane/webhook-hmac-??????'),
      },
      TOKEN_READ,
    ]);
    expect(byArn.health?.iamStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: arn,
    });
    // Nothing else reads the webhook key.
    expect(JSON.stringify([byName.iamStatements, byName.rotate])).not.toContain('webhook-hmac');
  });

  it("adds the rotate role's statements when POST /rotate can rotate, without repeating the token read", () => {
    // Prepare
    const text = exampleWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } });

    // Act
    const plan = planDeploy(input(text, { configSsmParameter: '/fleetplane/config' }));

    // Assess: the rotate statements include the token and SSM reads
    expect(plan.health?.iamStatements).toEqual([READS, REPLACE_CODEINTEL, ...(plan.rotate?.iamStatements ?? [])]);
    expect(actionsOf(plan.health?.iamStatements ?? [])).toContain('secretsmanager:PutSecretValue');
    expect(actionsOf(plan.health?.iamStatements ?? []).filter((action) => action === 'ssm:GetParameter')).toHaveLength(
      1,
    );
  });

  it('reads the document from SSM when it lives there', () => {
    // Act
    const plan = planDeploy(input(exampleWith({}), { configSsmParameter: '/fleetplane/config' }));

    // Assess
    expect(plan.health?.iamStatements.at(-1)).toEqual({
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: joinedArn('ssm', 'parameter/fleetplane/config'),
    });
  });

  it('replaces nothing in a deployment of shadow fleets only, and reads no group without an AWS fleet', () => {
    // Prepare
    const fleets = Array.isArray(EXAMPLE.fleets) ? EXAMPLE.fleets : [];
    const shadowOnly = exampleWith({
      fleets: fleets.map((fleet: unknown) => ({ ...(typeof fleet === 'object' ? fleet : {}), mode: 'shadow' })),
    });
    // A metrics-mode fleet needs no group: it only shapes the published series.
    const noFleets = exampleWith({
      fleets: [
        { name: 'all', queues: ['codeintel', 'batches'], mode: 'metrics', jobsPerInstance: 4, maxInstances: 10 },
      ],
    });

    // Act
    const shadow = planDeploy(input(shadowOnly));
    const none = planDeploy(input(noFleets));

    // Assess
    expect(shadow.health?.iamStatements).toEqual([READS, TOKEN_READ]);
    expect(none.health?.iamStatements).toEqual([TOKEN_READ]);
  });

  it('takes --param healthSchedule, and checks the expression', () => {
    // Prepare
    const text = exampleWith({});

    // Act
    const rate = planDeploy(input(text, { healthSchedule: 'rate(10 minutes)' }));
    const cron = planDeploy(input(text, { healthSchedule: 'cron(*/15 * * * ? *)' }));
    const bad = () => planDeploy(input(text, { healthSchedule: 'every 10 minutes' }));

    // Assess
    expect(rate.health?.schedule).toBe('rate(10 minutes)');
    expect(cron.health?.schedule).toBe('cron(*/15 * * * ? *)');
    expect(bad).toThrow(DeployPlanError);
    expect(bad).toThrow(/healthSchedule "every 10 minutes" is not an EventBridge schedule expression/);
  });

  it('plans no health function in drop-in mode, and refuses a health schedule there', () => {
    // Prepare
    const shellEnv = {
      SRC_ENDPOINT: 'https://sourcegraph.example.com',
      SRC_ACCESS_TOKEN: 'sgp_0123456789abcdef0123456789abcdef01234567',
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
    };

    // Act
    const plan = planDeploy(input(undefined, { shellEnv, allowPlaintextToken: true }));
    const scheduled = () =>
      planDeploy(input(undefined, { shellEnv, allowPlaintextToken: true, healthSchedule: 'rate(5 minutes)' }));

    // Assess
    expect(plan.health).toBeUndefined();
    expect(healthExtras(plan, SETTINGS)).toEqual({ healthFunction: null, resources: { Resources: {} } });
    expect(scheduled).toThrow(/healthSchedule is set, but a drop-in deploy/);
  });

  it('refuses a webhook key in GCP Secret Manager', () => {
    // Prepare
    const text = exampleWith({
      webhook: { auth: 'hmac', secret: { gcpSecretManager: 'projects/p/secrets/webhook/versions/latest' } },
    });

    // Act
    const plan = () => planDeploy(input(text));

    // Assess
    expect(plan).toThrow(DeployPlanError);
    expect(plan).toThrow(/webhook\.secret names a GCP secret/);
  });
});

describe('healthExtras', () => {
  const iam = planDeploy(input(exampleWith({})));
  const hmac = planDeploy(input(exampleWith({ webhook: HMAC }), { healthSchedule: 'rate(10 minutes)' }));

  it('declares the function from its settings, with the environment, its own role, the schedule and the URL', () => {
    // Act
    const withIam = healthExtras(iam, SETTINGS).healthFunction;
    const withHmac = healthExtras(hmac, SETTINGS).healthFunction;

    // Assess
    expect(withIam).toEqual({
      ...SETTINGS,
      environment: iam.environment,
      role: HEALTH_ROLE,
      url: { authorizer: 'aws_iam' },
      events: [{ schedule: { rate: ['rate(5 minutes)'] } }],
    });
    expect(withHmac).toMatchObject({ url: true, events: [{ schedule: { rate: ['rate(10 minutes)'] } }] });
  });

  it("gives the role the plan's statements and its own log group only", () => {
    // Act
    const { resources } = healthExtras(hmac, SETTINGS);

    // Assess
    expect(Object.keys(resources.Resources)).toEqual([HEALTH_ROLE]);
    expect(resources.Resources[HEALTH_ROLE]).toMatchObject({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
          ],
        },
        Policies: [
          {
            PolicyName: 'fleetplane-health',
            PolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: { 'Fn::GetAtt': ['HealthLogGroup', 'Arn'] },
                },
                ...(hmac.health?.iamStatements ?? []),
              ],
            },
          },
        ],
      },
    });
  });

  it('needs the settings from serverless.yml', () => {
    // Act
    const extras = () => healthExtras(iam, undefined);

    // Assess
    expect(extras).toThrow(/serverless\.yml must set custom\.health/);
  });
});

describe('resolveDeployPlan and the health function', () => {
  function oslsContext(params: Readonly<Record<string, string>>): OslsVariableContext {
    const properties: Readonly<Record<string, unknown>> = {
      'provider.region': 'us-east-1',
      'functions.scale.timeout': 60,
      'custom.health': SETTINGS,
    };
    return {
      resolveVariable: async (variable) => {
        const match = /^param:(\w+), null$/.exec(variable);
        return match?.[1] === undefined ? undefined : (params[match[1]] ?? null);
      },
      resolveConfigurationProperty: async (path) => properties[path.join('.')],
    };
  }

  it('reads --param healthSchedule and the settings in custom.health', async () => {
    // Act
    const plan = await resolveDeployPlan(
      oslsContext({ config: 'examples/fleetplane.yml', healthSchedule: 'rate(15 minutes)' }),
      REPO_ROOT,
      {},
    );

    // Assess
    expect(plan.healthFunction).toMatchObject({ ...SETTINGS, events: [{ schedule: { rate: ['rate(15 minutes)'] } }] });
    expect(plan.rotateFunction).toBeNull();
    // Beside the role: the cycle alarm, one queue alarm per fleet sizing an AWS group, and the dashboard.
    expect(Object.keys(plan.resources.Resources)).toEqual([
      HEALTH_ROLE,
      CYCLE_ALARM,
      'QueueDeepAlarmcodeintel',
      'QueueDeepAlarmbatches',
      DASHBOARD,
    ]);
  });
});
