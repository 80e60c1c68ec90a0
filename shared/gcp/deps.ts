import { readFile } from 'node:fs/promises';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { ScaleRuntime } from '../app/scale-invocation.ts';
import type { ScalingDeps } from '../app/scaling-cycle.ts';
import { scalingSettingsFor } from '../app/scaling-settings.ts';
import { ConfigError, type Env, type FleetplaneConfig, loadConfig, type SecretSource } from '../config/index.ts';
import { tokenReader } from '../config/secret-cache.ts';
import { type Fleet, fleetsOf, type GcpGroupTarget, removesIdleOnly, targetKey } from '../domain/fleet.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, systemClock, systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { busySignalFor, queueDepthSourceFor } from '../sourcegraph/index.ts';
import { credentialOptions, endpointOverride } from './client-options.ts';
import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from './compute-clients.ts';
import { createMigInstanceGroups, type GroupBounds, type MigClients } from './mig-instance-groups.ts';
import { createCloudMonitoringCycleMetrics } from './monitoring-cycle-metrics.ts';
import { createCloudMonitoringMetricsSink, createCloudMonitoringQueueHistory } from './monitoring-queue-metrics.ts';
import { createCloudMonitoringRemovalLedger } from './monitoring-removal-ledger.ts';
import { readSecretVersion } from './secrets.ts';

/** REST over HTTP/1.1 for every client: no gRPC stack in the bundle, and what the local emulators speak. */
export const REST = { fallback: true } as const;

export type GcpScaleRuntime = ScaleRuntime<FleetplaneConfig> & {
  /** Milliseconds the platform lets one request run (Cloud Functions gives no remaining-time API, unlike Lambda). */
  readonly platformTimeoutMs: number;
};

/** `FLEETPLANE_TIMEOUT_SECONDS`, which infra/gcp sets to the function's own timeout; 60 when unset. */
export function platformTimeoutMs(env: Env): number {
  const text = env.FLEETPLANE_TIMEOUT_SECONDS ?? '60';
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ConfigError('FLEETPLANE_TIMEOUT_SECONDS', [
      `FLEETPLANE_TIMEOUT_SECONDS: "${text}" is not the function's timeout in seconds (above 0, at most 3600)`,
    ]);
  }
  return seconds * 1000;
}

/**
 * The GCP composition root: reads the config once, builds every client once (per instance) and wires the adapters.
 * Secrets are registered with the logger as they are read, so no log line can carry them.
 */
export async function createGcpScaleRuntime(
  env: Env,
  clock: Clock = systemClock,
  log: FunctionLogger = createFunctionLogger(env, 'scale'),
): Promise<GcpScaleRuntime> {
  const { logger, secrets } = log;
  const timeoutMs = platformTimeoutMs(env);
  const config = await loadGcpConfig(env);
  for (const warning of config.warnings) {
    logger.warn('allocation', { warning });
  }
  return {
    config,
    deps: createGcpDeps(config, { env, clock, logger, secrets }),
    settings: scalingSettingsFor(config, 'gcp'),
    platformTimeoutMs: timeoutMs,
  };
}

/** The config document from `FLEETPLANE_CONFIG` (a value or a file path); SSM is AWS-only. */
export function loadGcpConfig(env: Env): Promise<FleetplaneConfig> {
  return loadConfig(env, {
    readFile: (path) => readFile(path, 'utf8'),
    readSsmParameter: async (name) => {
      throw new ConfigError(`ssm:${name}`, [
        'FLEETPLANE_CONFIG_SSM_PARAMETER: SSM Parameter Store is AWS-only; on GCP mount the config from Secret Manager as FLEETPLANE_CONFIG (a value or a file path)',
      ]);
    },
  });
}

/** The Sourcegraph access token, re-read from Secret Manager every few minutes when it lives there. */
export function sourcegraphTokenOf(config: FleetplaneConfig, options: GcpDepsOptions): () => Promise<string> {
  return tokenReader(config.sourcegraph.token, {
    clock: options.clock,
    secrets: options.secrets,
    readStore: gcpSecretReader(config.sourcegraph.token, options.env),
    onStale: (error) => options.logger.warn('token refresh failed; using the cached token', { error }),
  });
}

export interface GcpDepsOptions {
  readonly env: Env;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Receives every secret value read, for log scrubbing. */
  readonly secrets: Set<string>;
}

/** The Compute clients managed instance groups are read and changed with, as the function's own service account. */
export function migClientsFor(env: Env): MigClients {
  const compute = { ...REST, ...endpointOverride(env, 'compute') };
  return {
    zonal: new InstanceGroupManagersClient(compute),
    regional: new RegionInstanceGroupManagersClient(compute),
    zoneOperations: new ZoneOperationsClient(compute),
    regionOperations: new RegionOperationsClient(compute),
    autoscalers: new AutoscalersClient(compute),
    regionAutoscalers: new RegionAutoscalersClient(compute),
    instances: new InstancesClient(compute),
  };
}

export function createGcpDeps(config: FleetplaneConfig, options: GcpDepsOptions): ScalingDeps {
  const { env, clock, logger, secrets } = options;
  const monitoringSettings = config.cloudMonitoring;
  if (monitoringSettings === undefined) {
    throw new ConfigError(config.source, [
      'metrics.cloudMonitoring: the GCP function writes the metric to Cloud Monitoring; name its project (EXECUTOR_METRIC_GCP_PROJECT_ID)',
    ]);
  }
  const { projectId } = monitoringSettings;
  // The metric may be written with the worker's own credentials; the override's PassThroughClient replaces them.
  const monitoring = new MetricServiceClient({
    ...REST,
    projectId,
    ...credentialOptions(monitoringSettings.credentials, secrets),
    ...endpointOverride(env, 'monitoring'),
  });
  // Instance groups are read and resized as the function's own service account (ADC), never with the metric key.
  const groups = createMigInstanceGroups(migClientsFor(env), {
    logger: logger.child({ module: 'compute' }),
    clock,
    bounds: fleetBounds(fleetsOf(config.fleets, 'gcp')),
    launchTimes: removesIdleOnly(fleetsOf(config.fleets, 'gcp')),
  });

  const token = sourcegraphTokenOf(config, options);
  return {
    depths: queueDepthSourceFor(config.sourcegraph, { token, clock, logger }),
    metrics: createCloudMonitoringMetricsSink(monitoring, { projectId, clock }),
    history: createCloudMonitoringQueueHistory(monitoring, { projectId }),
    removals: createCloudMonitoringRemovalLedger(monitoring, { projectId, clock }),
    cycleMetrics: createCloudMonitoringCycleMetrics(monitoring, { projectId }),
    groups,
    ...busySignalFor(config.busySignal, { clock, logger }),
    sleep: systemSleep,
    clock,
    logger,
  };
}

/**
 * A MIG has no bounds of its own, so the configured fleet's stand in: reported as the group's and enforced on resize
 * and removal, as an ASG's MinSize/MaxSize would be. Fleets sharing a group get the widest of their bounds.
 */
function fleetBounds(fleets: readonly Fleet[]): (target: GcpGroupTarget) => GroupBounds | undefined {
  const byKey = new Map<string, GroupBounds>();
  for (const fleet of fleets) {
    if (fleet.target?.cloud !== 'gcp') {
      continue;
    }
    const key = targetKey(fleet.target);
    const seen = byKey.get(key);
    byKey.set(key, {
      min: Math.min(seen?.min ?? fleet.minInstances, fleet.minInstances),
      max: Math.max(seen?.max ?? fleet.maxInstances, fleet.maxInstances),
    });
  }
  return (target) => byKey.get(targetKey(target));
}

/** Reads the token from Secret Manager; a token from another store cannot be read by this function. */
export function gcpSecretReader(source: SecretSource, env: Env): () => Promise<string> {
  if (source.kind === 'value') {
    return async () => source.value.reveal();
  }
  if (source.kind !== 'gcp-secret-manager') {
    throw new ConfigError('token', [
      'sourcegraph.tokenSecret: the GCP function reads its token from Secret Manager (gcpSecretManager), not AWS Secrets Manager',
    ]);
  }
  // ADC: the function's service account holds secretAccessor on this one secret.
  const client = new SecretManagerServiceClient({ ...REST, ...endpointOverride(env, 'secret-manager') });
  return () => readSecretVersion(client, source.name);
}
