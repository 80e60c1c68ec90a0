import { readFile } from 'node:fs/promises';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ScaleRuntime } from '../app/scale-invocation.ts';
import type { ScalingDeps } from '../app/scaling-cycle.ts';
import { scalingSettingsFor } from '../app/scaling-settings.ts';
import { ConfigError, type Env, type FleetplaneConfig, loadConfig, type SecretSource } from '../config/index.ts';
import { tokenReader } from '../config/secret-cache.ts';
import { fleetsOf, removesIdleOnly } from '../domain/fleet.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, systemClock, systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { busySignalFor, queueDepthSourceFor } from '../sourcegraph/index.ts';
import { createAsgInstanceGroups } from './asg-instance-groups.ts';
import { createCloudWatchMetricsSink, createCloudWatchQueueHistory } from './cloudwatch-queue-metrics.ts';
import { createCloudWatchRemovalLedger } from './cloudwatch-removal-ledger.ts';
import { createEmfCycleMetrics } from './emf-cycle-metrics.ts';
import { readSecretString, readSsmParameter } from './parameters.ts';

/**
 * The SDK waits forever for a silent socket by default, and its `requestTimeout` only logs a warning unless
 * `throwOnRequestTimeout` is set (seen with @smithy/node-http-handler in SDK 3.1164). These bound each attempt
 * (milliseconds) so a hung endpoint costs a cycle seconds, not the invocation; the cycle's deadline bounds the total.
 */
export const AWS_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

export type AwsScaleRuntime = ScaleRuntime<FleetplaneConfig>;

/**
 * The AWS composition root: reads the config once, builds every SDK client once (per cold start) and wires the
 * adapters. Secrets are registered with the logger as they are read, so no log line can carry them.
 */
export async function createAwsScaleRuntime(
  env: Env,
  clock: Clock = systemClock,
  log: FunctionLogger = createFunctionLogger(env, 'scale'),
): Promise<AwsScaleRuntime> {
  const { logger, secrets } = log;
  const config = await loadAwsConfig(env);
  for (const warning of config.warnings) {
    logger.warn('allocation', { warning });
  }
  return {
    config,
    deps: createAwsDeps(config, { env, clock, logger, secrets }),
    settings: scalingSettingsFor(config, 'aws'),
  };
}

/** The config document, wherever the environment says it is (a value, a file, or an SSM parameter). */
export function loadAwsConfig(env: Env): Promise<FleetplaneConfig> {
  const homeRegion = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return loadConfig(env, {
    readFile: (path) => readFile(path, 'utf8'),
    readSsmParameter: (name) => readSsmParameter(new SSMClient({ ...AWS_CLIENT_DEFAULTS, region: homeRegion }), name),
  });
}

/** The Sourcegraph access token, re-read from Secrets Manager every few minutes when it lives there. */
export function sourcegraphTokenOf(config: FleetplaneConfig, options: AwsDepsOptions): () => Promise<string> {
  return tokenReader(config.sourcegraph.token, {
    clock: options.clock,
    secrets: options.secrets,
    readStore: awsSecretReader(config.sourcegraph.token, options.env),
    onStale: (error) => options.logger.warn('token refresh failed; using the cached token', { error }),
  });
}

export interface AwsDepsOptions {
  readonly env: Env;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Receives every secret value read, for log scrubbing. */
  readonly secrets: Set<string>;
}

export function createAwsDeps(config: FleetplaneConfig, options: AwsDepsOptions): ScalingDeps {
  const { clock, logger, secrets } = options;
  const cloudwatchSettings = config.cloudwatch;
  if (cloudwatchSettings === undefined) {
    throw new ConfigError(config.source, [
      'metrics.cloudwatch: the AWS function writes the metric to CloudWatch; name it, or run where AWS_REGION is set',
    ]);
  }
  const credentials = cloudwatchSettings.credentials;
  if (credentials !== undefined) {
    secrets.add(credentials.secretAccessKey.reveal());
    if (credentials.sessionToken !== undefined) {
      secrets.add(credentials.sessionToken.reveal());
    }
  }
  const cloudwatch = new CloudWatchClient({
    ...AWS_CLIENT_DEFAULTS,
    region: cloudwatchSettings.region,
    ...(credentials && {
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey.reveal(),
        sessionToken: credentials.sessionToken?.reveal(),
      },
    }),
  });
  const autoScalingFor = perRegion((region) => new AutoScalingClient({ ...AWS_CLIENT_DEFAULTS, region }));
  const ec2For = removesIdleOnly(fleetsOf(config.fleets, 'aws'))
    ? { ec2For: perRegion((region) => new EC2Client({ ...AWS_CLIENT_DEFAULTS, region })) }
    : {};

  const token = sourcegraphTokenOf(config, options);
  return {
    depths: queueDepthSourceFor(config.sourcegraph, { token, clock, logger }),
    metrics: createCloudWatchMetricsSink(cloudwatch, { namespace: cloudwatchSettings.namespace }),
    history: createCloudWatchQueueHistory(cloudwatch, { namespace: cloudwatchSettings.namespace }),
    removals: createCloudWatchRemovalLedger(cloudwatch),
    // Embedded metric format: log lines, so no grant and no call that could fail a cycle.
    cycleMetrics: createEmfCycleMetrics(),
    groups: createAsgInstanceGroups(
      { autoScalingFor, ...ec2For },
      { logger: logger.child({ module: 'auto-scaling' }), clock },
    ),
    ...busySignalFor(config.busySignal, { clock, logger }),
    sleep: systemSleep,
    clock,
    logger,
  };
}

/** A client per region, built on first use and kept for the cold start. */
export function perRegion<T>(build: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    const existing = clients.get(region);
    if (existing !== undefined) {
      return existing;
    }
    const client = build(region);
    clients.set(region, client);
    return client;
  };
}

/** Reads the token from AWS Secrets Manager; a token from another store cannot be read by this function. */
export function awsSecretReader(source: SecretSource, env: Env): () => Promise<string> {
  if (source.kind === 'value') {
    return async () => source.value.reveal();
  }
  if (source.kind !== 'aws-secrets-manager') {
    throw new ConfigError('token', [
      'sourcegraph.tokenSecret: the AWS function reads its token from AWS Secrets Manager (awsSecretsManager)',
    ]);
  }
  const region = regionOfSecret(source.secretId, env);
  const client = new SecretsManagerClient({ ...AWS_CLIENT_DEFAULTS, region });
  return () => readSecretString(client, source.secretId, source.jsonKey);
}

/** An ARN names its secret's region; a bare name lives in the function's own region. */
export function regionOfSecret(secretId: string, env: Env): string | undefined {
  return /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretId)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
}
