import { randomUUID } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rollTargetsOf } from '../app/fleet-roll.ts';
import type { RotationRuntime } from '../app/rotation.ts';
import { ConfigError, type Env } from '../config/index.ts';
import { createFunctionLogger } from '../observability/function-logger.ts';
import { type Clock, type Sleep, systemClock, systemSleep } from '../ports/clock.ts';
import { rotationSourcegraphFor, withExecutorToken } from '../sourcegraph/index.ts';
import { createAsgFleetRoller } from './asg-fleet-roller.ts';
import { AWS_CLIENT_DEFAULTS, loadAwsConfig, perRegion, regionOfSecret, sourcegraphTokenOf } from './deps.ts';
import { createSecretsManagerExecutorSecret } from './secrets-manager-executor-secret.ts';

/** The AWS composition root for rotation: the executor secret in Secrets Manager, Sourcegraph from the config. */
export async function createAwsRotationRuntime(
  env: Env,
  clock: Clock = systemClock,
  sleep: Sleep = systemSleep,
): Promise<RotationRuntime> {
  const { logger, secrets } = createFunctionLogger(env, 'rotate');
  const config = await loadAwsConfig(env);
  const settings = config.executorSecret;
  if (settings?.store.kind !== 'aws-secrets-manager') {
    throw new ConfigError(config.source, [
      'executorSecret.awsSecretsManager: name the Secrets Manager secret the executors read their token from',
    ]);
  }
  const { secretId } = settings.store;
  const region = regionOfSecret(secretId, env);
  const client = new SecretsManagerClient({ ...AWS_CLIENT_DEFAULTS, region });
  const token = sourcegraphTokenOf(config, { env, clock, logger, secrets });
  return {
    config,
    tokenLength: settings.tokenLength,
    deps: {
      secret: createSecretsManagerExecutorSecret(client, secretId),
      ...rotationSourcegraphFor(config.sourcegraph, { token, clock, logger }),
      withExecutorToken,
      randomBytes: (count) => crypto.getRandomValues(new Uint8Array(count)),
      newRotationId: randomUUID,
      logger,
      rolls: {
        roller: createAsgFleetRoller({
          autoScalingFor: perRegion(
            (groupRegion) => new AutoScalingClient({ ...AWS_CLIENT_DEFAULTS, region: groupRegion }),
          ),
        }),
        fleets: rollTargetsOf(config.fleets, 'aws', logger),
        clock,
        sleep,
      },
    },
  };
}
