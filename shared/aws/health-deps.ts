import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { type HealthDeps, healthConfigOn } from '../app/health.ts';
import type { WebhookApp } from '../app/webhook.ts';
import { ConfigError, type Env, type FleetplaneConfig } from '../config/index.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import { executorDirectoryFor } from '../sourcegraph/index.ts';
import { webhookAuthFor } from '../webhook/keys.ts';
import type { WebhookAuth } from '../webhook/router.ts';
import { createAsgInstanceGroups } from './asg-instance-groups.ts';
import {
  AWS_CLIENT_DEFAULTS,
  type AwsDepsOptions,
  awsSecretReader,
  loadAwsConfig,
  perRegion,
  sourcegraphTokenOf,
} from './deps.ts';
import { createEmfHealthMetrics } from './emf-health-metrics.ts';
import { parseWebhookRotateBody } from './health-events.ts';
import { createAwsRotationDeps } from './rotation-deps.ts';

/** The health function's cold-start state: the scheduled check reads `app.health`, the webhook the whole `app`. */
export interface AwsHealthRuntime {
  readonly config: FleetplaneConfig;
  readonly app: WebhookApp;
}

/**
 * The AWS composition root for fleet health and its webhook: Auto Scaling and EC2 (every instance with its host name
 * and launch time, which judging needs), Sourcegraph's executor list, the counts as embedded metric format, the
 * webhook's authenticator and, when the config names an executor secret in Secrets Manager, the rotation
 * `POST /rotate` runs, sharing this root's logger, token cache and Auto Scaling clients.
 */
export async function createAwsHealthRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
  log: FunctionLogger = createFunctionLogger(env, 'health'),
): Promise<AwsHealthRuntime> {
  const { logger, secrets } = log;
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
    // Always: EMF is a line on stdout, so it needs no region, client or grant; CloudWatch Logs extracts it in the
    // function's own region.
    metrics: createEmfHealthMetrics(),
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

/** The webhook's authentication; with `hmac`, its keys come from Secrets Manager. */
function webhookAuthOf(config: FleetplaneConfig, options: AwsDepsOptions): WebhookAuth {
  const webhook = config.webhook;
  if (webhook.auth === 'hmac' && webhook.secret.kind === 'gcp-secret-manager') {
    throw new ConfigError(config.source, [
      'webhook.secret: the AWS function reads the webhook secret from AWS Secrets Manager (awsSecretsManager)',
    ]);
  }
  const read = webhook.auth === 'hmac' ? awsSecretReader(webhook.secret, options.env) : () => Promise.resolve('');
  return webhookAuthFor(webhook, read, options);
}
