import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEALTH_ROLE } from '../../deploy/health-function.ts';
import type { IamStatement } from '../../deploy/iam.ts';
import { CYCLE_ALARM, DASHBOARD, ROTATION_ALARM } from '../../deploy/observability.ts';
import { DeployPlanError, type PlanInput, planDeploy } from '../../deploy/plan.ts';
import { type OslsVariableContext, resolveDeployPlan } from '../../deploy/resolve.ts';
import { ROTATE_PERMISSION, ROTATE_ROLE, serverlessExtras } from '../../deploy/rotate-function.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE: Record<string, unknown> = parse(
  readFileSync(new URL('../../examples/fleetplane.yml', import.meta.url), 'utf8'),
);
const SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];
const SETTINGS = { handler: 'functions/aws/rotate.handler', timeout: 120, reservedConcurrency: 1 };
const ROLL_READS = ['autoscaling:DescribeInstanceRefreshes', 'autoscaling:DescribeAutoScalingGroups'];

/** The example document (its token in Secrets Manager), with `changes` applied on top. */
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

function joinedArn(service: string, region: string, resource: string) {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  };
}

const actionsOf = (statements: readonly IamStatement[]) => statements.flatMap((statement) => statement.Action);

/** The example's fleets, each with `changes` applied by index. */
function fleetsWith(changes: Readonly<Record<number, Record<string, unknown>>>): unknown[] {
  const fleets = Array.isArray(EXAMPLE.fleets) ? EXAMPLE.fleets : [];
  return fleets.map((fleet: unknown, index) => ({
    ...(typeof fleet === 'object' && fleet !== null ? fleet : {}),
    ...changes[index],
  }));
}

const groupArn = (name: string) =>
  joinedArn('autoscaling', 'us-east-1', `autoScalingGroup:*:autoScalingGroupName/${name}`);

describe('planDeploy and the rotate function', () => {
  it('plans no rotate function when the config names no executor secret', () => {
    // Act
    const plan = planDeploy(input(exampleWith({})));

    // Assess
    expect(plan.rotate).toBeUndefined();
    expect(serverlessExtras(plan, SETTINGS)).toEqual({ rotateFunction: null, resources: { Resources: {} } });
  });

  it('grants the rotate function the four rotation actions on the executor secret, and the token read', () => {
    // Prepare
    const text = exampleWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(plan.rotate).toEqual({
      iamStatements: [
        {
          Effect: 'Allow',
          Action: SECRET_ACTIONS,
          Resource: joinedArn('secretsmanager', 'us-east-1', 'secret:fleetplane/executor-token-??????'),
        },
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue'],
          Resource: joinedArn('secretsmanager', 'us-east-1', 'secret:fleetplane/sourcegraph-token-??????'),
        },
        {
          Effect: 'Allow',
          Action: ['autoscaling:StartInstanceRefresh'],
          Resource: [groupArn('sourcegraph-executors-codeintel'), groupArn('sourcegraph-executors-batches')],
        },
        { Effect: 'Allow', Action: ROLL_READS, Resource: '*' },
      ],
    });
    // The scale function (the provider role) gains nothing: it never touches the executor secret.
    expect(plan.iamStatements).toEqual(planDeploy(input(exampleWith({}))).iamStatements);
    expect(JSON.stringify(plan.iamStatements)).not.toContain('executor-token');
  });

  it('uses an executor secret ARN as given, and adds SSM only when the document is read from there', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:executor-AbCdEf';
    const text = exampleWith({ executorSecret: { awsSecretsManager: arn } });

    // Act
    const inline = planDeploy(input(text));
    const fromSsm = planDeploy(input(text, { configSsmParameter: '/fleetplane/config' }));

    // Assess
    expect(inline.rotate?.iamStatements[0]).toEqual({ Effect: 'Allow', Action: SECRET_ACTIONS, Resource: arn });
    expect(actionsOf(inline.rotate?.iamStatements ?? [])).not.toContain('ssm:GetParameter');
    expect(fromSsm.rotate?.iamStatements.at(-1)).toEqual({
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: joinedArn('ssm', 'us-east-1', 'parameter/fleetplane/config'),
    });
  });

  it('needs no token read when the token is not in Secrets Manager', () => {
    // Prepare
    const text = exampleWith({
      sourcegraph: { endpoint: 'https://sourcegraph.example.com', token: 'sgp_0123456789abcdef0123456789abcdef012345' },
      executorSecret: { awsSecretsManager: 'fleetplane/executor-token' },
    });

    // Act
    const plan = planDeploy(input(text, { allowPlaintextToken: true }));

    // Assess
    expect(actionsOf(plan.rotate?.iamStatements ?? [])).toEqual([
      ...SECRET_ACTIONS,
      'autoscaling:StartInstanceRefresh',
      ...ROLL_READS,
    ]);
  });

  it('lets the rotate function refresh only the groups it rolls, whatever the fleet mode', () => {
    // Prepare
    const executorSecret = { awsSecretsManager: 'fleetplane/executor-token' };
    const oneRolled = exampleWith({ executorSecret, fleets: fleetsWith({ 0: { roll: false } }) });
    const noneRolled = exampleWith({ executorSecret, fleets: fleetsWith({ 0: { roll: false }, 1: { roll: false } }) });
    const custom = exampleWith({
      executorSecret,
      fleets: fleetsWith({ 1: { roll: { maxUnavailable: 1, maxSurge: '25%' } } }),
    });

    // Act
    const one = planDeploy(input(oneRolled));
    const none = planDeploy(input(noneRolled));
    const customRoll = planDeploy(input(custom));

    // Assess
    expect(one.rotate?.iamStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['autoscaling:StartInstanceRefresh'],
      Resource: [groupArn('sourcegraph-executors-batches')],
    });
    expect(actionsOf(none.rotate?.iamStatements ?? []).filter((action) => action.startsWith('autoscaling:'))).toEqual(
      [],
    );
    expect(actionsOf(customRoll.rotate?.iamStatements ?? [])).toContain('autoscaling:StartInstanceRefresh');
    // The scale function (the provider role) never starts a refresh.
    expect(actionsOf(customRoll.iamStatements)).not.toContain('autoscaling:StartInstanceRefresh');
  });

  it('adds a rotation schedule only when asked, and checks the expression', () => {
    // Prepare
    const text = exampleWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } });

    // Act
    const scheduled = planDeploy(input(text, { rotationSchedule: 'rate(30 days)' }));
    const cron = planDeploy(input(text, { rotationSchedule: 'cron(0 3 1 * ? *)' }));
    const bad = () => planDeploy(input(text, { rotationSchedule: '30 days' }));

    // Assess
    expect(scheduled.rotate?.schedule).toBe('rate(30 days)');
    expect(cron.rotate?.schedule).toBe('cron(0 3 1 * ? *)');
    expect(bad).toThrow(DeployPlanError);
    expect(bad).toThrow(/rotationSchedule "30 days" is not an EventBridge schedule expression/);
  });

  it('refuses a rotation schedule with nothing to rotate, with a document or drop-in', () => {
    // Prepare
    const workerEnv = {
      SRC_ENDPOINT: 'https://sourcegraph.example.com',
      SRC_ACCESS_TOKEN: 'sgp_0123456789abcdef0123456789abcdef01234567',
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
    };

    // Act
    const withDocument = () => planDeploy(input(exampleWith({}), { rotationSchedule: 'rate(30 days)' }));
    const dropIn = () =>
      planDeploy(
        input(undefined, { shellEnv: workerEnv, allowPlaintextToken: true, rotationSchedule: 'rate(30 days)' }),
      );

    // Assess
    expect(withDocument).toThrow(/rotationSchedule is set, but the config names no executor secret/);
    expect(dropIn).toThrow(/rotationSchedule is set, but the config names no executor secret/);
  });
});

describe('serverlessExtras', () => {
  const plan = planDeploy(
    input(exampleWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } }), {
      rotationSchedule: 'rate(30 days)',
    }),
  );

  it('declares the rotate function from its settings, with the environment, its own role and the schedule', () => {
    // Act
    const { rotateFunction } = serverlessExtras(plan, SETTINGS);

    // Assess
    expect(rotateFunction).toEqual({
      ...SETTINGS,
      environment: plan.environment,
      role: ROTATE_ROLE,
      events: [{ schedule: { rate: ['rate(30 days)'] } }],
    });
  });

  it("gives the role the plan's statements and its own log group only", () => {
    // Act
    const { resources } = serverlessExtras(plan, SETTINGS);

    // Assess
    expect(resources.Resources[ROTATE_ROLE]).toMatchObject({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
          ],
        },
        Policies: [
          {
            PolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: { 'Fn::GetAtt': ['RotateLogGroup', 'Arn'] },
                },
                ...(plan.rotate?.iamStatements ?? []),
              ],
            },
          },
        ],
      },
    });
  });

  it('lets Secrets Manager invoke the function, for secrets of this account only', () => {
    // Act
    const { resources } = serverlessExtras(plan, SETTINGS);

    // Assess
    expect(resources.Resources[ROTATE_PERMISSION]).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': ['RotateLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    });
  });

  it('needs the settings from serverless.yml', () => {
    // Act
    const extras = () => serverlessExtras(plan, undefined);

    // Assess
    expect(extras).toThrow(/serverless\.yml must set custom\.rotate/);
  });
});

describe('resolveDeployPlan and the rotate function', () => {
  let directory: string;
  let configFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-plan-rotate-'));
    configFile = join(directory, 'fleetplane.json');
    await writeFile(configFile, exampleWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } }));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function oslsContext(params: Readonly<Record<string, string>>): OslsVariableContext {
    const properties: Readonly<Record<string, unknown>> = {
      'provider.region': 'us-east-1',
      'functions.scale.timeout': 60,
      'custom.rotate': SETTINGS,
      'custom.health': { handler: 'functions/aws/health.handler', timeout: 120, reservedConcurrency: 1 },
    };
    return {
      resolveVariable: async (variable) => {
        const match = /^param:(\w+), null$/.exec(variable);
        return match?.[1] === undefined ? undefined : (params[match[1]] ?? null);
      },
      resolveConfigurationProperty: async (path) => properties[path.join('.')],
    };
  }

  it('reads --param rotationSchedule and the settings in custom.rotate', async () => {
    // Act
    const plan = await resolveDeployPlan(
      oslsContext({ config: configFile, rotationSchedule: 'rate(7 days)' }),
      REPO_ROOT,
      {},
    );

    // Assess
    expect(plan.rotate?.schedule).toBe('rate(7 days)');
    expect(plan.rotateFunction).toMatchObject({ ...SETTINGS, events: [{ schedule: { rate: ['rate(7 days)'] } }] });
    // The health function, deployed with every config document, brings its own role.
    // Then the alarms (the rotation one with the rotate function) and the dashboard (deploy/observability.ts).
    expect(Object.keys(plan.resources.Resources)).toEqual([
      ROTATE_ROLE,
      ROTATE_PERMISSION,
      HEALTH_ROLE,
      CYCLE_ALARM,
      'QueueDeepAlarmcodeintel',
      'QueueDeepAlarmbatches',
      ROTATION_ALARM,
      DASHBOARD,
    ]);
  });
});
