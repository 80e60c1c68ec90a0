import { readFile } from 'node:fs/promises';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ScalingDeps, ScalingSettings } from '../app/scaling-cycle.ts';
import { ConfigError, type Env, type FleetplaneConfig, loadConfig, type SecretSource } from '../config/index.ts';
import { fleetsOf } from '../domain/fleet.ts';
import { createJsonLogger, type LogLevel } from '../observability/logger.ts';
import { type Clock, systemClock, systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { createGraphQLTransport, createSourcegraphQueueDepthSource } from '../sourcegraph/index.ts';
import { createAsgInstanceGroups } from './asg-instance-groups.ts';
import { createCloudWatchMetricsSink, createCloudWatchQueueHistory } from './cloudwatch-queue-metrics.ts';
import { readSecretString, readSsmParameter } from './parameters.ts';

/** Milliseconds a token read from Secrets Manager is reused: a rotated token is picked up within this time. */
const TOKEN_CACHE_MS = 5 * 60_000;

/**
 * The SDK waits forever for a silent socket by default, and its `requestTimeout` only logs a warning unless
 * `throwOnRequestTimeout` is set (seen with @smithy/node-http-handler in SDK 3.1164). These bound each attempt
 * (milliseconds) so a hung endpoint costs a cycle seconds, not the invocation; the cycle's deadline bounds the total.
 */
const AWS_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

export interface AwsScaleRuntime {
  readonly config: FleetplaneConfig;
  readonly deps: ScalingDeps;
  readonly settings: ScalingSettings;
}

/**
 * The AWS composition root: reads the config once, builds every SDK client once (per cold start) and wires the
 * adapters. Secrets are registered with the logger as they are read, so no log line can carry them.
 */
export async function createAwsScaleRuntime(env: Env, clock: Clock = systemClock): Promise<AwsScaleRuntime> {
  const secrets = new Set<string>();
  const logger = createJsonLogger({
    level: logLevel(env.FLEETPLANE_LOG_LEVEL),
    bindings: { service: 'fleetplane', function: 'scale' },
    secrets: () => [...secrets],
  });
  const homeRegion = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const config = await loadConfig(env, {
    readFile: (path) => readFile(path, 'utf8'),
    readSsmParameter: (name) => readSsmParameter(new SSMClient({ ...AWS_CLIENT_DEFAULTS, region: homeRegion }), name),
  });
  for (const warning of config.warnings) {
    logger.warn('allocation', { warning });
  }
  return { config, deps: createAwsDeps(config, { env, clock, logger, secrets }), settings: scalingSettings(config) };
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
  const autoScaling = new Map<string, AutoScalingClient>();
  const autoScalingIn = (region: string) => {
    const existing = autoScaling.get(region);
    if (existing !== undefined) {
      return existing;
    }
    const client = new AutoScalingClient({ ...AWS_CLIENT_DEFAULTS, region });
    autoScaling.set(region, client);
    return client;
  };

  const transport = createGraphQLTransport({
    endpoint: config.sourcegraph.endpoint,
    token: tokenProvider(config.sourcegraph.token, { env: options.env, clock, secrets }),
    sleep: systemSleep,
    random: Math.random,
    clock,
    timeoutMs: config.sourcegraph.timeoutMs,
    maxAttempts: config.sourcegraph.maxAttempts,
    logger: logger.child({ module: 'sourcegraph' }),
  });
  return {
    depths: createSourcegraphQueueDepthSource(transport, {
      clock,
      maxBatchSpecs: config.sourcegraph.maxBatchSpecs,
      batchSpecPageSize: config.sourcegraph.batchSpecPageSize,
      logger: logger.child({ module: 'sourcegraph' }),
    }),
    metrics: createCloudWatchMetricsSink(cloudwatch, { namespace: cloudwatchSettings.namespace }),
    history: createCloudWatchQueueHistory(cloudwatch, { namespace: cloudwatchSettings.namespace }),
    groups: createAsgInstanceGroups(autoScalingIn, { logger: logger.child({ module: 'auto-scaling' }), clock }),
    clock,
    logger,
  };
}

export function scalingSettings(config: FleetplaneConfig): ScalingSettings {
  return {
    cloud: 'aws',
    environment: config.environment,
    allocations: config.allocations,
    series: config.series,
    fleets: fleetsOf(config.fleets, 'aws'),
  };
}

function tokenProvider(
  source: SecretSource,
  options: { env: Env; clock: Clock; secrets: Set<string> },
): () => Promise<string> {
  if (source.kind === 'value') {
    const token = source.value.reveal();
    options.secrets.add(token);
    return async () => token;
  }
  if (source.kind !== 'aws-secrets-manager') {
    throw new ConfigError('token', [
      'sourcegraph.tokenSecret: the AWS function reads its token from AWS Secrets Manager (awsSecretsManager)',
    ]);
  }
  let cached: { token: string; readAt: number } | undefined;
  // An ARN names its region; a bare name lives in the function's own region.
  const region = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(source.secretId)?.[1] ?? options.env.AWS_REGION;
  const client = new SecretsManagerClient({ ...AWS_CLIENT_DEFAULTS, region });
  return async () => {
    if (cached === undefined || options.clock() - cached.readAt > TOKEN_CACHE_MS) {
      const token = await readSecretString(client, source.secretId, source.jsonKey);
      options.secrets.add(token);
      cached = { token, readAt: options.clock() };
    }
    return cached.token;
  };
}

function logLevel(value: string | undefined): LogLevel {
  return value === 'debug' || value === 'warn' || value === 'error' ? value : 'info';
}
