import { parse } from 'yaml';
import { FLEETPLANE_NAMESPACE } from '../shared/aws/fleetplane-metrics.ts';
import type { FleetplaneConfig } from '../shared/config/index.ts';
import { ConfigError, type Env, parseConfigText, parseWorkerEnv, type SecretSource } from '../shared/config/index.ts';
import { type AwsGroupTarget, type Fleet, guardsItsInstances, managedFleets } from '../shared/domain/fleet.ts';
import { allow, arnInDeployAccount, type CfnString, type IamStatement } from './iam.ts';

/** Lambda allows 4 KB of environment variables per function, all keys and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Seconds the function keeps after `invocationSeconds` for the last cycle's in-flight calls and the metric flush. */
export const TIMEOUT_MARGIN_SECONDS = 10;

/** Drop-in mode passes exactly these variables of the deploying shell to the function: the worker's, minus its keys. */
export const WORKER_VARIABLES = [
  'SRC_ENDPOINT',
  'SRC_ACCESS_TOKEN',
  'EXECUTOR_METRIC_ENVIRONMENT_LABEL',
  'EXECUTOR_METRIC_AWS_NAMESPACE',
  'EXECUTOR_METRIC_AWS_REGION',
  'EXECUTOR_ALLOCATIONS',
] as const;

export interface PlanInput {
  /** `provider.region`: Lambda sets it as `AWS_REGION`, which the config uses as its default region. */
  readonly region: string;
  /** The function's timeout; a scheduled invocation must end before it. */
  readonly timeoutSeconds: number;
  /** The config document (`--param config=<file>`); absent = drop-in mode. */
  readonly config?: { readonly text: string; readonly source: string };
  /** `--param configSsmParameter=<name>`: the function reads the document from SSM instead of its environment. */
  readonly configSsmParameter?: string;
  /** The deploying shell's environment; only the worker's variables (and `SRC_ACCESS_TOKEN`) are read. */
  readonly shellEnv: Env;
  /** `--param allowPlaintextToken=true`: accept a token stored in the function's environment. */
  readonly allowPlaintextToken?: boolean;
  /** `--param rotationSchedule=rate(30 days)`: also rotate the executor secret on this EventBridge schedule. */
  readonly rotationSchedule?: string;
  /** `--param healthSchedule=rate(10 minutes)`: check fleet health on this schedule instead of every 5 minutes. */
  readonly healthSchedule?: string;
}

export interface DeployPlan {
  readonly mode: 'config' | 'drop-in';
  /** The functions' environment variables (the rotate and health functions read the same config). */
  readonly environment: Readonly<Record<string, string>>;
  /** Least privilege: a statement only for a capability the configuration uses. */
  readonly iamStatements: readonly IamStatement[];
  /** The rotate function, planned only when the config names `executorSecret.awsSecretsManager`. */
  readonly rotate?: RotatePlan;
  /** The health function, planned with every config document (drop-in mode names no fleets to check). */
  readonly health?: HealthPlan;
}

/** The rotate function: its own role (the scale function never writes the executor secret), and its schedule. */
export interface RotatePlan {
  readonly iamStatements: readonly IamStatement[];
  /** An EventBridge `rate(…)` or `cron(…)` expression; absent = rotated only on demand or by Secrets Manager. */
  readonly schedule?: string;
}

/** The health function: its own role (it marks instances unhealthy; the scale function never does), its URL. */
export interface HealthPlan {
  readonly iamStatements: readonly IamStatement[];
  /** An EventBridge `rate(…)` or `cron(…)` expression. */
  readonly schedule: string;
  /**
   * The function URL's auth type: `aws_iam` (callers sign with SigV4; Lambda refuses the rest) for `webhook.auth: iam`,
   * `none` (a public URL; the function checks the HMAC signature) for `webhook.auth: hmac`.
   */
  readonly url: 'aws_iam' | 'none';
}

/** How often fleet health is checked unless `--param healthSchedule` says otherwise. */
export const DEFAULT_HEALTH_SCHEDULE = 'rate(5 minutes)';

/** The deployment cannot work as configured; the message says what to change. */
export class DeployPlanError extends Error {
  override readonly name = 'DeployPlanError';
}

/**
 * Validates the configuration exactly as the function will at cold start, and derives the function's environment and
 * IAM statements from it. Pure: the caller reads files and options.
 */
export function planDeploy(input: PlanInput): DeployPlan {
  if (input.config === undefined) {
    if (input.configSsmParameter !== undefined) {
      throw new DeployPlanError(
        'configSsmParameter needs the document as a file too (--param config=<file>): deploy validates it and derives ' +
          'the IAM policy from it; the function then reads the same document from the SSM parameter',
      );
    }
    return planDropIn(input);
  }
  return planWithConfig(input, input.config);
}

function planWithConfig(input: PlanInput, document: NonNullable<PlanInput['config']>): DeployPlan {
  const shellToken = nonEmpty(input.shellEnv.SRC_ACCESS_TOKEN);
  // The function sees AWS_REGION (set by Lambda) and whatever we put in its environment, nothing else.
  const runtimeEnv = { AWS_REGION: input.region, SRC_ACCESS_TOKEN: shellToken };
  const config = parseConfigText(document.text, document.source, runtimeEnv);
  checkCloudWatch(config);
  checkTimeout(config, input.timeoutSeconds);

  const environment: Record<string, string> = {};
  if (input.configSsmParameter === undefined) {
    // Compact JSON (JSON is YAML) drops comments and indentation, so a well-commented file still fits in 4 KB.
    environment.FLEETPLANE_CONFIG = JSON.stringify(parse(document.text));
  } else {
    environment.FLEETPLANE_CONFIG_SSM_PARAMETER = input.configSsmParameter;
  }
  // A document without a token relies on SRC_ACCESS_TOKEN, which the function only has if we pass it on.
  const token = config.sourcegraph.token;
  if (token.kind === 'value' && shellToken !== undefined && token.value.reveal() === shellToken) {
    environment.SRC_ACCESS_TOKEN = shellToken;
  }
  checkEnvironmentSize(environment, input.configSsmParameter === undefined);
  const inlineToken = environment.FLEETPLANE_CONFIG !== undefined && token.kind === 'value';
  if (inlineToken || environment.SRC_ACCESS_TOKEN !== undefined) {
    checkPlaintextToken(input);
  }

  const parameter =
    input.configSsmParameter === undefined ? [] : [parameterStatement(input.configSsmParameter, input.region)];
  const rotate = planRotate(config, input, parameter);
  const health = planHealth(
    config,
    input,
    rotate?.iamStatements ?? [...secretStatements(config, input.region), ...parameter],
  );
  return {
    mode: 'config',
    environment,
    iamStatements: [
      ...metricStatements(config),
      ...groupStatements(config),
      ...secretStatements(config, input.region),
      ...parameter,
    ],
    ...(rotate === undefined ? {} : { rotate }),
    health,
  };
}

function planDropIn(input: PlanInput): DeployPlan {
  const environment: Record<string, string> = {};
  for (const key of WORKER_VARIABLES) {
    const value = nonEmpty(input.shellEnv[key]);
    if (value !== undefined) {
      environment[key] = value;
    }
  }
  const config = parseDropIn({ ...environment, AWS_REGION: input.region });
  planRotate(config, input, []);
  if (nonEmpty(input.healthSchedule) !== undefined) {
    throw new DeployPlanError(
      'healthSchedule is set, but a drop-in deploy (no config document) has no fleets to check and deploys no health ' +
        'function: deploy with --param="config=<file>", or drop --param="healthSchedule=…"',
    );
  }
  checkCloudWatch(config);
  checkTimeout(config, input.timeoutSeconds);
  checkPlaintextToken(input);
  checkEnvironmentSize(environment, false);
  // The worker's own scope: write (and read back) its metric, resize nothing.
  return { mode: 'drop-in', environment, iamStatements: metricStatements(config) };
}

function parseDropIn(env: Env): FleetplaneConfig {
  try {
    return parseWorkerEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    throw new DeployPlanError(
      'no config document given (--param="config=<file>"), so this is a drop-in deploy from the worker\'s ' +
        `variables in this shell, and they are incomplete:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`,
      { cause: error },
    );
  }
}

function metricStatements(config: FleetplaneConfig): IamStatement[] {
  const namespace = config.cloudwatch?.namespace;
  if (namespace === undefined) {
    return [];
  }
  // A fleet limiting removals per window keeps its ledger in fleetplane's own namespace, beside the worker's.
  const limits = managedFleets(config.fleets, 'aws').some(
    (fleet) => fleet.mode === 'direct' && fleet.controls?.maxScaleInPerWindow !== undefined,
  );
  const namespaces = limits ? [namespace, FLEETPLANE_NAMESPACE] : namespace;
  const put = allow(['cloudwatch:PutMetricData'], '*', { StringEquals: { 'cloudwatch:namespace': namespaces } });
  // Only a fleet that can scale in reads the published series back (its stabilization window). GetMetricData
  // supports no resource-level permissions or namespace condition.
  const readsBack = managedFleets(config.fleets, 'aws').length > 0;
  return readsBack ? [put, allow(['cloudwatch:GetMetricData'], '*')] : [put];
}

function groupStatements(config: FleetplaneConfig): IamStatement[] {
  const managed = managedFleets(config.fleets, 'aws');
  if (managed.length === 0) {
    return [];
  }
  // The ARNs of the direct groups whose fleets pass `which`: mutating actions are granted per group, never on `*`.
  const directGroups = (which: (fleet: Fleet) => boolean) =>
    managed.flatMap((fleet) =>
      fleet.mode === 'direct' && fleet.target?.cloud === 'aws' && which(fleet) ? [asgArn(fleet.target)] : [],
    );
  // Describe actions support no resource ARNs; shadow fleets need them to decide, but never resize.
  const statements = [allow(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies'], '*')];
  const resized = directGroups(() => true);
  if (resized.length > 0) {
    statements.push(allow(['autoscaling:SetDesiredCapacity'], resized));
  }
  // Busy-aware and attrition fleets keep the group from picking instances itself.
  const protecting = directGroups(guardsItsInstances);
  if (protecting.length > 0) {
    statements.push(allow(['autoscaling:SetInstanceProtection'], protecting));
  }
  const removing = directGroups((fleet) => fleet.scaleIn?.mode === 'busy-signal');
  if (removing.length > 0) {
    // Busy-aware scale-in removes chosen instances; host names come from EC2, whose DescribeInstances supports no
    // resource-level permissions.
    statements.push(
      allow(['autoscaling:TerminateInstanceInAutoScalingGroup'], removing),
      allow(['ec2:DescribeInstances'], '*'),
    );
  }
  return statements;
}

function secretStatements(config: FleetplaneConfig, region: string): IamStatement[] {
  const token = config.sourcegraph.token;
  if (token.kind !== 'aws-secrets-manager') {
    return [];
  }
  return [allow(['secretsmanager:GetSecretValue'], secretResource(token.secretId, region))];
}

/** A name matches the secret's ARN, which ends in `-` and six random characters; an ARN is used as given. */
function secretResource(secretId: string, region: string): CfnString {
  return secretId.startsWith('arn:')
    ? secretId
    : arnInDeployAccount('secretsmanager', region, `secret:${secretId}-??????`);
}

/** What a rotation schedule may be: EventBridge checks the rest at deploy. */
const SCHEDULE_EXPRESSION = /^(rate|cron)\(.+\)$/;

/**
 * The rotate function rotates the executor secret: it reads the Sourcegraph token (and the document) as the scale
 * function does, reads, writes and relabels the executor secret, and rolls each AWS fleet's group (an instance
 * refresh) so every executor boots with the new token. The token comes from `crypto`, so no `GetRandomPassword`; a
 * secret encrypted with a customer managed key also needs `kms:Decrypt` and `kms:GenerateDataKey` on that key, which
 * the config does not name.
 */
function planRotate(
  config: FleetplaneConfig,
  input: PlanInput,
  parameter: readonly IamStatement[],
): RotatePlan | undefined {
  const store = config.executorSecret?.store;
  const schedule = nonEmpty(input.rotationSchedule);
  if (store?.kind !== 'aws-secrets-manager') {
    if (schedule !== undefined) {
      throw new DeployPlanError(
        'rotationSchedule is set, but the config names no executor secret to rotate: set ' +
          'executorSecret.awsSecretsManager in the config document, or drop --param="rotationSchedule=…"',
      );
    }
    return undefined;
  }
  if (schedule !== undefined && !SCHEDULE_EXPRESSION.test(schedule)) {
    throw new DeployPlanError(
      `rotationSchedule ${JSON.stringify(schedule)} is not an EventBridge schedule expression: use one such as ` +
        '"rate(30 days)" or "cron(0 3 1 * ? *)"',
    );
  }
  const executorSecret = allow(
    [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ],
    secretResource(store.secretId, input.region),
  );
  return {
    iamStatements: [executorSecret, ...secretStatements(config, input.region), ...rollStatements(config), ...parameter],
    ...(schedule === undefined ? {} : { schedule }),
  };
}

/**
 * Starting an instance refresh is granted per group, on the fleets the rotation rolls (those with an AWS target and
 * `roll` not turned off), whatever their mode: every executor reads the token. Reading refreshes and the group's
 * desired capacity (to turn a fixed roll count into a percentage) supports no resource-level permissions.
 */
function rollStatements(config: FleetplaneConfig): IamStatement[] {
  const groups = config.fleets.flatMap((fleet) =>
    fleet.roll !== undefined && fleet.target?.cloud === 'aws' ? [asgArn(fleet.target)] : [],
  );
  if (groups.length === 0) {
    return [];
  }
  return [
    allow(['autoscaling:StartInstanceRefresh'], groups),
    allow(['autoscaling:DescribeInstanceRefreshes', 'autoscaling:DescribeAutoScalingGroups'], '*'),
  ];
}

/**
 * The health function judges every fleet with an AWS target, whatever its mode, and replaces broken instances of
 * direct fleets only:
 * - reading groups, their scaling policies (the adapter reads them with every describe; without the permission each
 *   check logs a warning) and EC2 instances (host names and launch times) supports no resource-level permissions;
 * - `SetInstanceHealth` supports the group as its resource (Service Authorization Reference: `autoScalingGroup*`), so
 *   it is granted per direct group, never on `*`;
 * - the counts are embedded metric format, lines in the function's log, which its role writes anyway: no CloudWatch
 *   grant;
 * - the HMAC webhook reads its key from Secrets Manager;
 * - `shared`: the token read and the SSM document read, or, when `POST /rotate` can rotate the executor secret, the
 *   rotate role's statements, which include both.
 */
function planHealth(config: FleetplaneConfig, input: PlanInput, shared: readonly IamStatement[]): HealthPlan {
  const schedule = nonEmpty(input.healthSchedule) ?? DEFAULT_HEALTH_SCHEDULE;
  if (!SCHEDULE_EXPRESSION.test(schedule)) {
    throw new DeployPlanError(
      `healthSchedule ${JSON.stringify(schedule)} is not an EventBridge schedule expression: use one such as ` +
        '"rate(5 minutes)" or "cron(*/10 * * * ? *)"',
    );
  }
  const targets = config.fleets.flatMap((fleet) => (fleet.target?.cloud === 'aws' ? [fleet.target] : []));
  const replaced = config.fleets.flatMap((fleet) =>
    fleet.mode === 'direct' && fleet.target?.cloud === 'aws' ? [asgArn(fleet.target)] : [],
  );
  const webhook = config.webhook;
  return {
    iamStatements: [
      ...(targets.length === 0
        ? []
        : [
            allow(
              ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies', 'ec2:DescribeInstances'],
              '*',
            ),
          ]),
      ...(replaced.length === 0 ? [] : [allow(['autoscaling:SetInstanceHealth'], replaced)]),
      ...(webhook.auth === 'hmac' ? webhookSecretStatements(webhook.secret, input.region) : []),
      ...shared,
    ],
    schedule,
    url: webhook.auth === 'iam' ? 'aws_iam' : 'none',
  };
}

function webhookSecretStatements(secret: SecretSource, region: string): IamStatement[] {
  if (secret.kind === 'gcp-secret-manager') {
    throw new DeployPlanError(
      'webhook.secret names a GCP secret, which the AWS health function cannot read: store the key in Secrets ' +
        'Manager and set webhook.secret.awsSecretsManager',
    );
  }
  return secret.kind === 'value'
    ? []
    : [allow(['secretsmanager:GetSecretValue'], secretResource(secret.secretId, region))];
}

/** A group's ARN in the deploy account; the `*` stands for the group id, which only AWS knows. */
function asgArn(target: AwsGroupTarget): CfnString {
  return arnInDeployAccount(
    'autoscaling',
    target.region,
    `autoScalingGroup:*:autoScalingGroupName/${target.autoScalingGroup}`,
  );
}

function parameterStatement(name: string, region: string): IamStatement {
  // `/fleetplane/config` has the ARN `…:parameter/fleetplane/config`; a name without a leading slash gains one.
  const resource = name.startsWith('arn:')
    ? name
    : arnInDeployAccount('ssm', region, `parameter/${name.replace(/^\//, '')}`);
  return allow(['ssm:GetParameter'], resource);
}

/**
 * A token in the function's environment is also in the CloudFormation template, the deployment bucket and every
 * `GetFunctionConfiguration` answer. It is a site-admin credential, so that takes an explicit opt-in.
 */
function checkPlaintextToken(input: PlanInput): void {
  if (input.allowPlaintextToken === true) {
    return;
  }
  throw new DeployPlanError(
    'the Sourcegraph token would be stored in plain text in the function environment and the CloudFormation ' +
      'template. Store it in Secrets Manager and set sourcegraph.tokenSecret.awsSecretsManager in the config ' +
      '(or keep the whole document in SSM with --param="configSsmParameter=<name>"), or accept the risk with ' +
      '--param="allowPlaintextToken=true"',
  );
}

/** The AWS function writes the metric to CloudWatch; a configuration without it has nothing for it to do. */
function checkCloudWatch(config: FleetplaneConfig): void {
  if (config.cloudwatch === undefined) {
    throw new DeployPlanError(
      'this configuration writes no CloudWatch metric (metrics.cloudMonitoring only, or no EXECUTOR_METRIC_AWS_NAMESPACE): ' +
        'deploy it to GCP with infra/gcp, or add metrics.cloudwatch',
    );
  }
}

function checkTimeout(config: FleetplaneConfig, timeoutSeconds: number): void {
  if (config.invocationSeconds + TIMEOUT_MARGIN_SECONDS > timeoutSeconds) {
    throw new DeployPlanError(
      `invocationSeconds ${config.invocationSeconds} leaves less than ${TIMEOUT_MARGIN_SECONDS} s of the function's ` +
        `${timeoutSeconds} s timeout: lower invocationSeconds to at most ${timeoutSeconds - TIMEOUT_MARGIN_SECONDS}`,
    );
  }
}

function checkEnvironmentSize(environment: Readonly<Record<string, string>>, inlineConfig: boolean): void {
  // Counted as JSON, a little more than keys plus values, to stay clear of the limit however Lambda counts it.
  const bytes = Buffer.byteLength(JSON.stringify(environment));
  if (bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    return;
  }
  const hint = inlineConfig
    ? ' Store the document in SSM Parameter Store (aws ssm put-parameter --name /fleetplane/config --type String ' +
      '--value file://fleetplane.yml) and deploy with --param="configSsmParameter=/fleetplane/config" as well.'
    : '';
  throw new DeployPlanError(
    `the function environment would be ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} in total.${hint}`,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
