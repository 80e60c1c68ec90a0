import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { type HealthDeps, healthConfigOn } from '../app/health.ts';
import type { WebhookApp } from '../app/webhook.ts';
import { ConfigError, type Env, type FleetplaneConfig, type SecretSource } from '../config/index.ts';
import { createFunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import { executorDirectoryFor } from '../sourcegraph/index.ts';
import { createHmacAuthenticator } from '../webhook/hmac.ts';
import { createInMemoryReplayGuard } from '../webhook/replay-guard.ts';
import type { WebhookAuth } from '../webhook/router.ts';
import { createAsgInstanceGroups } from './asg-instance-groups.ts';
import { createCloudWatchHealthMetrics } from './cloudwatch-health-metrics.ts';
import {
  AWS_CLIENT_DEFAULTS,
  type AwsDepsOptions,
  awsSecretReader,
  loadAwsConfig,
  perRegion,
  sourcegraphTokenOf,
} from './deps.ts';
import { parseWebhookRotateBody } from './health-events.ts';
import { createAwsRotationDeps } from './rotation-deps.ts';

/**
 * Milliseconds the webhook's keys are reused once read. Short, unlike the Sourcegraph token's cache: dropping a leaked
 * key from the secret should lock its holder out within a minute, and a key that cannot be re-read is not kept on
 * (the request is refused with a 503), since authenticating with a key the store may have revoked fails open.
 */
export const WEBHOOK_SECRET_CACHE_MS = 60_000;

/** The health function's cold-start state: the scheduled check reads `app.health`, the webhook the whole `app`. */
export interface AwsHealthRuntime {
  readonly config: FleetplaneConfig;
  readonly app: WebhookApp;
}

/**
 * The AWS composition root for fleet health and its webhook: Auto Scaling and EC2 (every instance with its host name
 * and launch time, which judging needs), Sourcegraph's executor list, CloudWatch for the counts, the webhook's
 * authenticator and, when the config names an executor secret in Secrets Manager, the rotation `POST /rotate` runs,
 * sharing this root's logger, token cache and Auto Scaling clients.
 */
export async function createAwsHealthRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
): Promise<AwsHealthRuntime> {
  const { logger, secrets } = createFunctionLogger(env, 'health');
  const config = await loadAwsConfig(env);
  const options: AwsDepsOptions = { env, clock, logger, secrets };
  const token = sourcegraphTokenOf(config, options);
  const autoScalingFor = perRegion((region) => new AutoScalingClient({ ...AWS_CLIENT_DEFAULTS, region }));
  const ec2For = perRegion((region) => new EC2Client({ ...AWS_CLIENT_DEFAULTS, region }));
  const health: HealthDeps = {
    groups: createAsgInstanceGroups(
      { autoScalingFor, ec2For },
      { logger: logger.child({ module: 'auto-scaling' }), clock },
    ),
    executors: executorDirectoryFor(config.sourcegraph, { token, clock, logger }),
    ...healthMetricsOf(config, env),
    clock,
    logger,
  };
  const rotation =
    config.executorSecret?.store.kind === 'aws-secrets-manager'
      ? createAwsRotationDeps(config, { ...options, sleep, token, autoScalingFor })
      : undefined;
  return {
    config,
    app: {
      auth: webhookAuthOf(config, options),
      config: healthConfigOn(config, 'aws'),
      health,
      ...(rotation === undefined ? {} : { rotation }),
      parseRotate: parseWebhookRotateBody,
      logger,
    },
  };
}

/**
 * The counts go to fleetplane's own namespace with the function's own role (the one the deploy grants
 * `cloudwatch:PutMetricData` in that namespace), in the configured CloudWatch region. The worker's static keys exist
 * only in drop-in mode, which deploys no health function.
 */
function healthMetricsOf(config: FleetplaneConfig, env: Env): Pick<HealthDeps, 'metrics'> {
  const region = config.cloudwatch?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined) {
    return {};
  }
  return { metrics: createCloudWatchHealthMetrics(new CloudWatchClient({ ...AWS_CLIENT_DEFAULTS, region })) };
}

/**
 * `iam`: the function URL's `AWS_IAM` auth type has already checked the caller's SigV4 signature. `hmac`: signed
 * requests, with signatures remembered in this instance's memory. That guard is enough because the function runs one
 * instance at a time (reserved concurrency 1); a fresh instance after a cold start has not seen a signature, so a
 * request captured in the last few minutes (the tolerance) could be accepted once more there.
 */
function webhookAuthOf(config: FleetplaneConfig, options: AwsDepsOptions): WebhookAuth {
  const webhook = config.webhook;
  if (webhook.auth === 'iam') {
    return 'iam';
  }
  return createHmacAuthenticator({
    secrets: webhookKeysOf(config, webhook.secret, options),
    replayGuard: createInMemoryReplayGuard({ clock: options.clock }),
    // The guard lives in this instance: it has seen nothing signed before it started.
    guardSince: options.clock(),
    clock: options.clock,
    toleranceSeconds: webhook.toleranceSeconds,
  });
}

/**
 * The keys in the webhook secret: its value split on white space (current key, then the previous one while clients
 * move over), read again at most every `WEBHOOK_SECRET_CACHE_MS`. Concurrent requests share one read. Every key is
 * registered for log scrubbing before anything can log it.
 */
function webhookKeysOf(
  config: FleetplaneConfig,
  source: SecretSource,
  options: AwsDepsOptions,
): () => Promise<readonly string[]> {
  if (source.kind === 'gcp-secret-manager') {
    throw new ConfigError(config.source, [
      'webhook.secret: the AWS function reads the webhook secret from AWS Secrets Manager (awsSecretsManager)',
    ]);
  }
  const read = awsSecretReader(source, options.env);
  let cached: { readonly keys: readonly string[]; readonly until: number } | undefined;
  let pending: Promise<readonly string[]> | undefined;
  return () => {
    if (cached !== undefined && options.clock() < cached.until) {
      return Promise.resolve(cached.keys);
    }
    pending ??= read()
      .then((value) => {
        const keys = value.split(/\s+/).filter((key) => key !== '');
        for (const key of keys) {
          options.secrets.add(key);
        }
        cached = { keys, until: options.clock() + WEBHOOK_SECRET_CACHE_MS };
        return keys;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
