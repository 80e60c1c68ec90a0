import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { IamStatement } from '../../deploy/iam.ts';
import { DeployPlanError, LAMBDA_ENVIRONMENT_LIMIT_BYTES, type PlanInput, planDeploy } from '../../deploy/plan.ts';
import { ConfigError, parseConfigText } from '../../shared/config/index.ts';

const EXAMPLE = readFileSync(new URL('../../examples/fleetplane.yml', import.meta.url), 'utf8');
const TOKEN = 'sgp_0123456789abcdef0123456789abcdef01234567';

interface FleetSpec {
  readonly name: string;
  readonly mode: 'metrics' | 'direct' | 'shadow';
  readonly group?: string;
  readonly region?: string;
  readonly scaleIn?: 'resize' | 'busy-signal' | 'attrition';
}

/** A config document as JSON (JSON is YAML), with only the parts a test varies. */
function documentText(options: { fleets: readonly FleetSpec[]; sourcegraph?: object; extra?: object }): string {
  return JSON.stringify({
    environment: 'prod',
    sourcegraph: options.sourcegraph ?? { endpoint: 'https://sourcegraph.example.com', token: TOKEN },
    metrics: { cloudwatch: { namespace: 'custom-namespace' } },
    fleets: options.fleets.map((fleet) => ({
      name: fleet.name,
      queues: [fleet.name === 'batches' ? 'batches' : 'codeintel'],
      mode: fleet.mode,
      ...(fleet.group
        ? { target: { cloud: 'aws', region: fleet.region ?? 'us-east-1', autoScalingGroup: fleet.group } }
        : {}),
      jobsPerInstance: 4,
      maxInstances: 5,
      ...(fleet.scaleIn ? { scaleIn: { mode: fleet.scaleIn } } : {}),
    })),
    ...options.extra,
  });
}

function input(text: string | undefined, overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    region: 'us-east-1',
    timeoutSeconds: 60,
    config: text === undefined ? undefined : { text, source: 'file:test.yml' },
    shellEnv: {},
    // Most documents here carry a literal token for brevity; the refusal itself is tested on its own.
    allowPlaintextToken: true,
    ...overrides,
  };
}

function statementFor(statements: readonly IamStatement[], action: string): IamStatement | undefined {
  return statements.find((statement) => statement.Action.includes(action));
}

function actionsOf(statements: readonly IamStatement[]): string[] {
  return statements.flatMap((statement) => statement.Action).sort();
}

function joinedArn(service: string, region: string, resource: string) {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  };
}

describe('planDeploy and plaintext tokens', () => {
  const workerEnv = {
    SRC_ENDPOINT: 'https://sourcegraph.example.com',
    SRC_ACCESS_TOKEN: TOKEN,
    EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
  };

  it.each([
    ['a token written in the document', input(documentText({ fleets: [{ name: 'codeintel', mode: 'metrics' }] }))],
    [
      'a token taken from the shell',
      input(
        documentText({
          fleets: [{ name: 'codeintel', mode: 'metrics' }],
          sourcegraph: { endpoint: 'https://sourcegraph.example.com' },
        }),
        { shellEnv: { SRC_ACCESS_TOKEN: TOKEN } },
      ),
    ],
    ['a drop-in deploy', input(undefined, { shellEnv: workerEnv })],
  ])('refuses %s unless allowPlaintextToken is given, without quoting it', (_name, given) => {
    // Act
    const refused = () => planDeploy({ ...given, allowPlaintextToken: false });
    const allowed = () => planDeploy({ ...given, allowPlaintextToken: true });

    // Assess
    expect(refused).toThrow(DeployPlanError);
    expect(refused).toThrow(/plain text.*tokenSecret.*allowPlaintextToken=true/s);
    expect(refused).not.toThrow(TOKEN);
    expect(allowed).not.toThrow();
  });

  it('needs no opt-in for a token in Secrets Manager, or a document kept in SSM', () => {
    // Prepare
    const inline = documentText({ fleets: [{ name: 'codeintel', mode: 'metrics' }] });

    // Act
    const fromSecret = () => planDeploy(input(EXAMPLE, { allowPlaintextToken: false }));
    const fromSsm = () =>
      planDeploy(input(inline, { allowPlaintextToken: false, configSsmParameter: '/fleetplane/config' }));

    // Assess
    expect(fromSecret).not.toThrow();
    expect(fromSsm).not.toThrow();
  });
});

describe('planDeploy with a config document', () => {
  it('grants the example exactly what its fleets and token source use', () => {
    // Prepare
    const example = input(EXAMPLE);

    // Act
    const plan = planDeploy(example);

    // Assess
    const codeintel = joinedArn(
      'autoscaling',
      'us-east-1',
      'autoScalingGroup:*:autoScalingGroupName/sourcegraph-executors-codeintel',
    );
    expect(plan.mode).toBe('config');
    expect(plan.iamStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['cloudwatch:PutMetricData'],
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': ['sourcegraph-executor', 'fleetplane'] } },
      },
      { Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['autoscaling:SetDesiredCapacity'],
        Resource: [codeintel],
      },
      {
        Effect: 'Allow',
        Action: ['autoscaling:SetInstanceProtection'],
        Resource: [codeintel],
      },
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: joinedArn('secretsmanager', 'us-east-1', 'secret:fleetplane/sourcegraph-token-??????'),
      },
    ]);
    expect(JSON.stringify(plan.iamStatements)).not.toContain('sourcegraph-executors-batches');
  });

  it('inlines the document as compact JSON that parses to the same config', () => {
    // Prepare
    const env = { AWS_REGION: 'us-east-1' };

    // Act
    const plan = planDeploy(input(EXAMPLE));

    // Assess
    expect(Object.keys(plan.environment)).toEqual(['FLEETPLANE_CONFIG']);
    const inline = plan.environment.FLEETPLANE_CONFIG ?? '';
    expect(inline).not.toContain('#');
    const { source: _inline, ...fromInline } = parseConfigText(inline, 'inline', env);
    const { source: _file, ...fromFile } = parseConfigText(EXAMPLE, 'file', env);
    expect(fromInline).toEqual(fromFile);
  });

  it('grants no autoscaling at all when every fleet only publishes metrics', () => {
    // Prepare
    const text = documentText({ fleets: [{ name: 'codeintel', mode: 'metrics' }] });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(actionsOf(plan.iamStatements)).toEqual(['cloudwatch:PutMetricData']);
    expect(statementFor(plan.iamStatements, 'cloudwatch:PutMetricData')?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'custom-namespace' },
    });
  });

  it('lets shadow fleets describe groups but never resize them', () => {
    // Prepare
    const text = documentText({ fleets: [{ name: 'batches', mode: 'shadow', group: 'executors-batches' }] });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(statementFor(plan.iamStatements, 'autoscaling:DescribeAutoScalingGroups')).toBeDefined();
    expect(statementFor(plan.iamStatements, 'autoscaling:SetDesiredCapacity')).toBeUndefined();
  });

  it('limits SetDesiredCapacity to each direct group, in the group region', () => {
    // Prepare
    const text = documentText({
      fleets: [
        { name: 'codeintel', mode: 'direct', group: 'executors-codeintel', region: 'eu-west-1' },
        { name: 'batches', mode: 'direct', group: 'executors-batches' },
      ],
    });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(statementFor(plan.iamStatements, 'autoscaling:SetDesiredCapacity')?.Resource).toEqual([
      joinedArn('autoscaling', 'eu-west-1', 'autoScalingGroup:*:autoScalingGroupName/executors-codeintel'),
      joinedArn('autoscaling', 'us-east-1', 'autoScalingGroup:*:autoScalingGroupName/executors-batches'),
    ]);
  });

  it('allows removing and protecting instances only in busy-aware direct groups, and reading EC2 host names', () => {
    // Prepare
    const text = documentText({
      fleets: [
        { name: 'codeintel', mode: 'direct', group: 'executors-codeintel', scaleIn: 'busy-signal' },
        { name: 'batches', mode: 'direct', group: 'executors-batches', scaleIn: 'resize' },
      ],
      extra: { busySignal: { url: 'http://sourcegraph-worker:6996/metrics' } },
    });
    const resizeOnly = documentText({ fleets: [{ name: 'batches', mode: 'direct', group: 'b', scaleIn: 'resize' }] });

    // Act
    const plan = planDeploy(input(text));
    const plain = planDeploy(input(resizeOnly));

    // Assess
    const busyAware = [
      joinedArn('autoscaling', 'us-east-1', 'autoScalingGroup:*:autoScalingGroupName/executors-codeintel'),
    ];
    expect(statementFor(plan.iamStatements, 'autoscaling:TerminateInstanceInAutoScalingGroup')?.Resource).toEqual(
      busyAware,
    );
    expect(statementFor(plan.iamStatements, 'autoscaling:SetInstanceProtection')?.Resource).toEqual(busyAware);
    expect(statementFor(plan.iamStatements, 'ec2:DescribeInstances')?.Resource).toBe('*');
    expect(actionsOf(plain.iamStatements)).not.toContain('autoscaling:TerminateInstanceInAutoScalingGroup');
    expect(actionsOf(plain.iamStatements)).not.toContain('ec2:DescribeInstances');
  });

  it('lets a fleet limiting removals per window keep its ledger in the fleetplane namespace', () => {
    // Prepare
    const limited = JSON.parse(documentText({ fleets: [{ name: 'codeintel', mode: 'direct', group: 'g' }] }));
    limited.fleets[0].scaleIn = { maxPerWindow: 4 };

    // Act
    const plan = planDeploy(input(JSON.stringify(limited)));
    const plain = planDeploy(input(documentText({ fleets: [{ name: 'codeintel', mode: 'direct', group: 'g' }] })));

    // Assess
    expect(statementFor(plan.iamStatements, 'cloudwatch:PutMetricData')?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': ['custom-namespace', 'fleetplane'] },
    });
    expect(statementFor(plain.iamStatements, 'cloudwatch:PutMetricData')?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'custom-namespace' },
    });
  });

  it('lets attrition fleets protect their instances, and nothing more', () => {
    // Prepare
    const text = documentText({
      fleets: [{ name: 'codeintel', mode: 'direct', group: 'executors-codeintel', scaleIn: 'attrition' }],
    });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(statementFor(plan.iamStatements, 'autoscaling:SetInstanceProtection')?.Resource).toEqual([
      joinedArn('autoscaling', 'us-east-1', 'autoScalingGroup:*:autoScalingGroupName/executors-codeintel'),
    ]);
    expect(actionsOf(plan.iamStatements)).not.toContain('autoscaling:TerminateInstanceInAutoScalingGroup');
    expect(actionsOf(plan.iamStatements)).not.toContain('ec2:DescribeInstances');
  });

  it('uses a secret ARN as given', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sourcegraph-AbCdEf';
    const text = documentText({
      fleets: [{ name: 'codeintel', mode: 'metrics' }],
      sourcegraph: { endpoint: 'https://sourcegraph.example.com', tokenSecret: { awsSecretsManager: arn } },
    });

    // Act
    const plan = planDeploy(input(text));

    // Assess
    expect(statementFor(plan.iamStatements, 'secretsmanager:GetSecretValue')?.Resource).toBe(arn);
  });

  it('passes SRC_ACCESS_TOKEN on only when the document relies on it', () => {
    // Prepare
    const withoutToken = documentText({
      fleets: [{ name: 'codeintel', mode: 'metrics' }],
      sourcegraph: { endpoint: 'https://sourcegraph.example.com' },
    });
    const withToken = documentText({ fleets: [{ name: 'codeintel', mode: 'metrics' }] });
    const shellEnv = { SRC_ACCESS_TOKEN: 'sgp_from_the_shell', SRC_ENDPOINT: 'https://other.example.com' };

    // Act
    const relying = planDeploy(input(withoutToken, { shellEnv }));
    const own = planDeploy(input(withToken, { shellEnv }));

    // Assess
    expect(relying.environment.SRC_ACCESS_TOKEN).toBe('sgp_from_the_shell');
    expect(relying.environment.SRC_ENDPOINT).toBeUndefined();
    expect(own.environment.SRC_ACCESS_TOKEN).toBeUndefined();
    expect(statementFor(own.iamStatements, 'secretsmanager:GetSecretValue')).toBeUndefined();
  });

  it('refuses a document that does not fit in the 4 KB environment and names the SSM alternative', () => {
    // Prepare
    const text = documentText({
      // Enough fleets that the document alone outgrows Lambda's environment.
      fleets: Array.from({ length: LAMBDA_ENVIRONMENT_LIMIT_BYTES / 64 }, (_, i) => ({
        name: `metrics-fleet-${i}`,
        mode: 'metrics' as const,
      })),
    });

    // Act
    const plan = () => planDeploy(input(text));

    // Assess
    expect(plan).toThrow(DeployPlanError);
    expect(plan).toThrow(/configSsmParameter/);
  });

  it('reads a large document from SSM, granting GetParameter on that parameter only', () => {
    // Prepare
    const text = documentText({
      // Enough fleets that the document alone outgrows Lambda's environment.
      fleets: Array.from({ length: LAMBDA_ENVIRONMENT_LIMIT_BYTES / 64 }, (_, i) => ({
        name: `metrics-fleet-${i}`,
        mode: 'metrics' as const,
      })),
    });

    // Act
    const plan = planDeploy(input(text, { configSsmParameter: '/fleetplane/config' }));

    // Assess
    expect(plan.environment).toEqual({ FLEETPLANE_CONFIG_SSM_PARAMETER: '/fleetplane/config' });
    expect(statementFor(plan.iamStatements, 'ssm:GetParameter')?.Resource).toEqual(
      joinedArn('ssm', 'us-east-1', 'parameter/fleetplane/config'),
    );
  });

  it('needs the document as a file when it is read from SSM', () => {
    // Act
    const plan = () => planDeploy(input(undefined, { configSsmParameter: '/fleetplane/config' }));

    // Assess
    expect(plan).toThrow(/--param config=<file>/);
  });

  it('rejects an invocation that cannot end before the function times out', () => {
    // Prepare
    const text = documentText({ fleets: [{ name: 'codeintel', mode: 'metrics' }], extra: { invocationSeconds: 55 } });

    // Act
    const plan = () => planDeploy(input(text));

    // Assess
    expect(plan).toThrow(/invocationSeconds 55/);
  });

  it('reports an invalid document with every problem, as the function would', () => {
    // Prepare
    const text = documentText({ fleets: [{ name: 'codeintel', mode: 'direct' }] });

    // Act
    const plan = () => planDeploy(input(text));

    // Assess
    expect(plan).toThrow(ConfigError);
    expect(plan).toThrow(/fleets\[0\]\.target: required in direct mode/);
  });
});

describe('planDeploy in drop-in mode (no document)', () => {
  const workerEnv = {
    SRC_ENDPOINT: 'https://sourcegraph.example.com',
    SRC_ACCESS_TOKEN: TOKEN,
    EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
    EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'prod',
    EXECUTOR_ALLOCATIONS: '',
  };

  it('passes on only the worker variables that are set, and grants only the metric', () => {
    // Prepare
    const shellEnv = {
      ...workerEnv,
      AWS_SECRET_ACCESS_KEY: 'deployer-key',
      EXECUTOR_METRIC_AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      HOME: '/home/deployer',
    };

    // Act
    const plan = planDeploy(input(undefined, { shellEnv }));

    // Assess
    expect(plan.mode).toBe('drop-in');
    expect(plan.environment).toEqual({
      SRC_ENDPOINT: 'https://sourcegraph.example.com',
      SRC_ACCESS_TOKEN: TOKEN,
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'prod',
    });
    expect(plan.iamStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['cloudwatch:PutMetricData'],
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'sourcegraph-executor' } },
      },
    ]);
  });

  it('lists every missing worker variable and how to deploy with a document instead', () => {
    // Prepare
    const shellEnv = { SRC_ENDPOINT: 'https://sourcegraph.example.com' };

    // Act
    const plan = () => planDeploy(input(undefined, { shellEnv }));

    // Assess
    expect(plan).toThrow(DeployPlanError);
    expect(plan).toThrow(/--param="config=<file>"[\s\S]*SRC_ACCESS_TOKEN[\s\S]*EXECUTOR_METRIC_AWS_NAMESPACE/);
  });
});
