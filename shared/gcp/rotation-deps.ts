import { randomUUID } from 'node:crypto';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { rollTargetsOf } from '../app/fleet-roll.ts';
import type { RotationRuntime } from '../app/rotation.ts';
import { ConfigError, type Env, type FleetplaneConfig } from '../config/index.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { rotationSourcegraphFor, withExecutorToken } from '../sourcegraph/index.ts';
import { endpointOverride } from './client-options.ts';
import { loadGcpConfig, migClientsFor, REST, sourcegraphTokenOf } from './deps.ts';
import { createMigFleetRoller } from './mig-fleet-roller.ts';
import type { MigClients } from './mig-instance-groups.ts';
import { createCloudMonitoringRotationMetrics } from './monitoring-rotation-metrics.ts';
import { createSecretManagerExecutorSecret } from './secret-manager-executor-secret.ts';

/** The GCP composition root for rotation: the executor secret in Secret Manager, Sourcegraph from the config. */
export async function createGcpRotationRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
  log: FunctionLogger = createFunctionLogger(env, 'rotate'),
): Promise<RotationRuntime> {
  const { logger, secrets } = log;
  const config = await loadGcpConfig(env);
  return gcpRotationRuntimeFor(config, { env, clock, sleep, logger, secrets });
}

export interface GcpRotationOptions {
  readonly env: Env;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly logger: Logger;
  /** Receives every secret value read, for log scrubbing. */
  readonly secrets: Set<string>;
  /** A composition root that already has these (the health function) passes them, so no client is built twice. */
  readonly secretManager?: SecretManagerServiceClient;
  readonly migClients?: MigClients;
  readonly token?: () => Promise<string>;
}

/** Rotation wired from a config already loaded: what every function that can rotate shares. */
export function gcpRotationRuntimeFor(config: FleetplaneConfig, options: GcpRotationOptions): RotationRuntime {
  const { env, clock, sleep, logger } = options;
  const settings = config.executorSecret;
  if (settings?.store.kind !== 'gcp-secret-manager') {
    throw new ConfigError(config.source, [
      'executorSecret.gcpSecretManager: name the Secret Manager secret (projects/<p>/secrets/<s>) the executors read',
    ]);
  }
  const client =
    options.secretManager ?? new SecretManagerServiceClient({ ...REST, ...endpointOverride(env, 'secret-manager') });
  const token = options.token ?? sourcegraphTokenOf(config, options);
  const projectId = config.cloudMonitoring?.projectId;
  return {
    config,
    tokenLength: settings.tokenLength,
    // Written as the function's own service account, beside the cycle series; no project named: only logged.
    ...(projectId === undefined
      ? {}
      : {
          telemetry: {
            metrics: createCloudMonitoringRotationMetrics(
              new MetricServiceClient({ ...REST, projectId, ...endpointOverride(env, 'monitoring') }),
              { projectId },
            ),
            clock,
          },
        }),
    deps: {
      secret: createSecretManagerExecutorSecret(client, settings.store.name),
      ...rotationSourcegraphFor(config.sourcegraph, { token, clock, logger }),
      withExecutorToken,
      randomBytes: (count) => crypto.getRandomValues(new Uint8Array(count)),
      newRotationId: randomUUID,
      logger,
      rolls: {
        roller: createMigFleetRoller(options.migClients ?? migClientsFor(env), {
          logger: logger.child({ module: 'compute' }),
          clock,
        }),
        fleets: rollTargetsOf(config.fleets, 'gcp', logger),
        clock,
        sleep,
      },
    },
  };
}
