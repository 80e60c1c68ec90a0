import { randomUUID } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rollTargetsOf } from '../app/fleet-roll.ts';
import type { RotationRuntime } from '../app/rotation.ts';
import { ConfigError, type Env, type FleetplaneConfig } from '../config/index.ts';
import { createFunctionLogger, type FunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import { rotationSourcegraphFor, withExecutorToken } from '../sourcegraph/index.ts';
import { createAsgFleetRoller } from './asg-fleet-roller.ts';
import {
  AWS_CLIENT_DEFAULTS,
  type AwsDepsOptions,
  loadAwsConfig,
  perRegion,
  regionOfSecret,
  sourcegraphTokenOf,
} from './deps.ts';
import { createEmfRotationMetrics } from './emf-rotation-metrics.ts';
import { createSecretsManagerExecutorSecret } from './secrets-manager-executor-secret.ts';

/** The AWS composition root for rotation: the executor secret in Secrets Manager, Sourcegraph from the config. */
export async function createAwsRotationRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
  log: FunctionLogger = createFunctionLogger(env, 'rotate'),
): Promise<RotationRuntime> {
  const { logger, secrets } = log;
  const config = await loadAwsConfig(env);
  return createAwsRotationDeps(config, { env, clock, sleep, logger, secrets });
}

export interface AwsRotationOptions extends AwsDepsOptions {
  readonly sleep: Sleep;
  /**
   * What another composition root of the same cold start already built (the health function rotates on
   * `POST /rotate`): one token cache and one Auto Scaling client per region serve both. Built here when absent.
   */
  readonly token?: () => Promise<string>;
  readonly autoScalingFor?: (region: string) => AutoScalingClient;
}

/** Rotation wired from a loaded config; throws `ConfigError` unless it names `executorSecret.awsSecretsManager`. */
export function createAwsRotationDeps(config: FleetplaneConfig, options: AwsRotationOptions): RotationRuntime {
  const { env, clock, sleep, logger } = options;
  const settings = config.executorSecret;
  if (settings?.store.kind !== 'aws-secrets-manager') {
    throw new ConfigError(config.source, [
      'executorSecret.awsSecretsManager: name the Secrets Manager secret the executors read their token from',
    ]);
  }
  const { secretId } = settings.store;
  const client = new SecretsManagerClient({ ...AWS_CLIENT_DEFAULTS, region: regionOfSecret(secretId, env) });
  const token = options.token ?? sourcegraphTokenOf(config, options);
  const autoScalingFor =
    options.autoScalingFor ?? perRegion((region) => new AutoScalingClient({ ...AWS_CLIENT_DEFAULTS, region }));
  return {
    config,
    tokenLength: settings.tokenLength,
    // Embedded metric format: log lines, so no client, no grant and no call that could fail the rotation.
    telemetry: { metrics: createEmfRotationMetrics(), clock },
    deps: {
      secret: createSecretsManagerExecutorSecret(client, secretId),
      ...rotationSourcegraphFor(config.sourcegraph, { token, clock, logger }),
      withExecutorToken,
      randomBytes: (count) => crypto.getRandomValues(new Uint8Array(count)),
      newRotationId: randomUUID,
      logger,
      rolls: {
        roller: createAsgFleetRoller({ autoScalingFor }),
        fleets: rollTargetsOf(config.fleets, 'aws', logger),
        clock,
        sleep,
      },
    },
  };
}
