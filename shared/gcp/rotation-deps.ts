import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { RotationRuntime } from '../app/rotation.ts';
import { ConfigError, type Env, loadConfig } from '../config/index.ts';
import { tokenReader } from '../config/secret-cache.ts';
import { createFunctionLogger } from '../observability/function-logger.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { rotationSourcegraphFor, withExecutorToken } from '../sourcegraph/index.ts';
import { endpointOverride } from './client-options.ts';
import { gcpSecretReader, REST } from './deps.ts';
import { createSecretManagerExecutorSecret } from './secret-manager-executor-secret.ts';

/** The GCP composition root for rotation: the executor secret in Secret Manager, Sourcegraph from the config. */
export async function createGcpRotationRuntime(env: Env, clock: Clock = systemClock): Promise<RotationRuntime> {
  const { logger, secrets } = createFunctionLogger(env, 'rotate');
  const config = await loadConfig(env, {
    readFile: (path) => readFile(path, 'utf8'),
    readSsmParameter: async (name) => {
      throw new ConfigError(`ssm:${name}`, ['FLEETPLANE_CONFIG_SSM_PARAMETER: SSM Parameter Store is AWS-only']);
    },
  });
  const settings = config.executorSecret;
  if (settings?.store.kind !== 'gcp-secret-manager') {
    throw new ConfigError(config.source, [
      'executorSecret.gcpSecretManager: name the Secret Manager secret (projects/<p>/secrets/<s>) the executors read',
    ]);
  }
  const client = new SecretManagerServiceClient({ ...REST, ...endpointOverride(env, 'secret-manager') });
  const token = tokenReader(config.sourcegraph.token, {
    clock,
    secrets,
    readStore: gcpSecretReader(config.sourcegraph.token, env),
    onStale: (error) => logger.warn('token refresh failed; using the cached token', { error }),
  });
  return {
    config,
    tokenLength: settings.tokenLength,
    deps: {
      secret: createSecretManagerExecutorSecret(client, settings.store.name),
      ...rotationSourcegraphFor(config.sourcegraph, { token, clock, logger }),
      withExecutorToken,
      randomBytes: (count) => crypto.getRandomValues(new Uint8Array(count)),
      newRotationId: randomUUID,
      logger,
    },
  };
}
