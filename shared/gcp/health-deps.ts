import { MetricServiceClient } from '@google-cloud/monitoring';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type HealthDeps, healthConfigOn } from '../app/health.ts';
import type { WebhookApp } from '../app/webhook.ts';
import { ConfigError, type Env, type FleetplaneConfig, type SecretSource } from '../config/index.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import type { HealthMetrics } from '../ports/health-metrics.ts';
import { executorDirectoryFor } from '../sourcegraph/index.ts';
import { webhookAuthFor } from '../webhook/keys.ts';
import type { WebhookAuth } from '../webhook/router.ts';
import { endpointOverride } from './client-options.ts';
import {
  type GcpDepsOptions,
  loadGcpConfig,
  migClientsFor,
  platformTimeoutMs,
  REST,
  sourcegraphTokenOf,
} from './deps.ts';
import { createMigInstanceGroups } from './mig-instance-groups.ts';
import { createCloudMonitoringHealthMetrics } from './monitoring-health-metrics.ts';
import { gcpRotationRuntimeFor } from './rotation-deps.ts';
import { parseRotateBody } from './rotation-events.ts';
import { readSecretVersion } from './secrets.ts';

/** What both health entry points share, built once per instance. */
export interface GcpHealthRuntime {
  /** The document's GCP fleets only: an AWS fleet's group is no MIG, and the Lambda deployment judges it. */
  readonly config: FleetplaneConfig;
  readonly health: HealthDeps;
  /** The webhook's app: its authentication, the same health dependencies, and rotation when the config allows it. */
  readonly webhook: WebhookApp;
  /** Milliseconds the platform lets one request run (`FLEETPLANE_TIMEOUT_SECONDS`). */
  readonly platformTimeoutMs: number;
}

/**
 * The GCP composition root of the health functions: the config read once, every client built once. Instances are
 * read with their launch times (an instance without one is never judged broken); the Sourcegraph token, the webhook
 * keys and the rotation's tokens are registered with the logger as they are read.
 */
export async function createGcpHealthRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
  log: FunctionLogger = createFunctionLogger(env, 'health'),
): Promise<GcpHealthRuntime> {
  const { logger, secrets } = log;
  const timeoutMs = platformTimeoutMs(env);
  const loaded = await loadGcpConfig(env);
  const options: GcpDepsOptions = { env, clock, logger, secrets };
  const token = sourcegraphTokenOf(loaded, options);
  const migClients = migClientsFor(env);
  const secretManager = new SecretManagerServiceClient({ ...REST, ...endpointOverride(env, 'secret-manager') });
  const config = healthConfigOn(loaded, 'gcp');

  const health: HealthDeps = {
    groups: createMigInstanceGroups(migClients, {
      logger: logger.child({ module: 'compute' }),
      clock,
      launchTimes: true,
    }),
    executors: executorDirectoryFor(loaded.sourcegraph, { token, clock, logger }),
    ...healthMetricsOf(loaded, env),
    clock,
    logger,
  };
  // Only a secret in Secret Manager can be rotated from here (one in AWS is the Lambda deployment's): otherwise
  // POST /rotate answers 404. Rotation reads the whole document, to warn about fleets it cannot roll.
  const rotation =
    loaded.executorSecret?.store.kind === 'gcp-secret-manager'
      ? gcpRotationRuntimeFor(loaded, { ...options, sleep, secretManager, migClients, token })
      : undefined;
  const auth = webhookAuthOf(loaded, {
    clock,
    secrets,
    read: (name) => readSecretVersion(secretManager, name),
  });
  return {
    config,
    health,
    webhook: {
      auth,
      config,
      health,
      ...(rotation === undefined ? {} : { rotation }),
      parseRotate: parseRotateBody,
      logger,
    },
    platformTimeoutMs: timeoutMs,
  };
}

/**
 * Counts go to Cloud Monitoring beside the queue-size series, written as the function's own service account (which
 * holds timeSeries.create there), never with the worker's metric key. No project named: counts are only reported.
 */
function healthMetricsOf(config: FleetplaneConfig, env: Env): { readonly metrics?: HealthMetrics } {
  const projectId = config.cloudMonitoring?.projectId;
  if (projectId === undefined) {
    return {};
  }
  const client = new MetricServiceClient({ ...REST, projectId, ...endpointOverride(env, 'monitoring') });
  return { metrics: createCloudMonitoringHealthMetrics(client, { projectId }) };
}

interface WebhookAuthOptions {
  readonly clock: Clock;
  readonly secrets: Set<string>;
  /** Reads a Secret Manager version's payload. */
  readonly read: (name: string) => Promise<string>;
}

/** The webhook's authentication; with `hmac`, its keys come from the Secret Manager version the config names. */
export function webhookAuthOf(config: FleetplaneConfig, options: WebhookAuthOptions): WebhookAuth {
  const settings = config.webhook;
  const read = settings.auth === 'hmac' ? readerOf(settings.secret, config.source, options.read) : async () => '';
  return webhookAuthFor(settings, read, options);
}

function readerOf(source: SecretSource, configSource: string, read: (name: string) => Promise<string>) {
  if (source.kind === 'value') {
    return async () => source.value.reveal();
  }
  if (source.kind !== 'gcp-secret-manager') {
    throw new ConfigError(configSource, [
      'webhook.secret: the GCP function reads the webhook key from Secret Manager (gcpSecretManager), not AWS Secrets Manager',
    ]);
  }
  return () => read(source.name);
}
