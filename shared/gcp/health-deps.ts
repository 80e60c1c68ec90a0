import { MetricServiceClient } from '@google-cloud/monitoring';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type HealthDeps, healthConfigOn } from '../app/health.ts';
import type { WebhookApp } from '../app/webhook.ts';
import { ConfigError, type Env, type FleetplaneConfig, type SecretSource } from '../config/index.ts';
import { createFunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import type { HealthMetrics } from '../ports/health-metrics.ts';
import { executorDirectoryFor } from '../sourcegraph/index.ts';
import { createHmacAuthenticator } from '../webhook/hmac.ts';
import { createInMemoryReplayGuard } from '../webhook/replay-guard.ts';
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

/**
 * Milliseconds the webhook's HMAC keys are reused before Secret Manager is read again: short, so a key added or
 * withdrawn (the secret's value is the current key, or the current and previous ones) takes effect within a minute.
 */
export const WEBHOOK_SECRET_CACHE_MS = 60_000;

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
): Promise<GcpHealthRuntime> {
  const { logger, secrets } = createFunctionLogger(env, 'health');
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

/**
 * `iam`: Cloud Run has checked the caller's identity token before the code runs. `hmac`: every request is signed with
 * a key from Secret Manager. The replay guard lives in this instance's memory, which is enough because the webhook
 * runs on one instance at most (infra/gcp sets max_instance_count = 1): a signature accepted here is refused here
 * until it expires. A fresh instance (a cold start after idling, a new revision) starts with an empty guard, so a
 * request captured in the last few minutes could be sent once more then.
 */
export function webhookAuthOf(config: FleetplaneConfig, options: WebhookAuthOptions): WebhookAuth {
  const settings = config.webhook;
  if (settings.auth === 'iam') {
    return 'iam';
  }
  return createHmacAuthenticator({
    secrets: webhookKeysReader(readerOf(settings.secret, config.source, options.read), options),
    replayGuard: createInMemoryReplayGuard({ clock: options.clock }),
    // The guard lives in this instance: it has seen nothing signed before it started.
    guardSince: options.clock(),
    clock: options.clock,
    toleranceSeconds: settings.toleranceSeconds,
  });
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

/**
 * The webhook keys: the secret's value split on white space, empty parts dropped, read again once
 * `WEBHOOK_SECRET_CACHE_MS` have passed. A failed read is not papered over with old keys: it throws, and the router
 * refuses the request (503) rather than judge it with keys that may have been withdrawn.
 */
export function webhookKeysReader(
  read: () => Promise<string>,
  options: { readonly clock: Clock; readonly secrets: Set<string>; readonly cacheMs?: number },
): () => Promise<readonly string[]> {
  const cacheMs = options.cacheMs ?? WEBHOOK_SECRET_CACHE_MS;
  let cached: { readonly keys: readonly string[]; readonly until: number } | undefined;
  let pending: Promise<readonly string[]> | undefined;
  const refresh = async (): Promise<readonly string[]> => {
    const keys = (await read()).split(/\s+/).filter((key) => key !== '');
    for (const key of keys) {
      options.secrets.add(key);
    }
    cached = { keys, until: options.clock() + cacheMs };
    return keys;
  };
  return async () => {
    if (cached !== undefined && options.clock() < cached.until) {
      return cached.keys;
    }
    // Requests arriving together share one read.
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
