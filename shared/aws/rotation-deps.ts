import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RotationRuntime } from '../app/rotation.ts';
import { ConfigError, type Env, loadConfig } from '../config/index.ts';
import { tokenReader } from '../config/secret-cache.ts';
import { createFunctionLogger } from '../observability/function-logger.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { rotationSourcegraphFor, withExecutorToken } from '../sourcegraph/index.ts';
import { AWS_CLIENT_DEFAULTS, awsSecretReader } from './deps.ts';
import { readSsmParameter } from './parameters.ts';
import { createSecretsManagerExecutorSecret } from './secrets-manager-executor-secret.ts';

/** The AWS composition root for rotation: the executor secret in Secrets Manager, Sourcegraph from the config. */
export async function createAwsRotationRuntime(env: Env, clock: Clock = systemClock): Promise<RotationRuntime> {
  const { logger, secrets } = createFunctionLogger(env, 'rotate');
  const homeRegion = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const config = await loadConfig(env, {
    readFile: (path) => readFile(path, 'utf8'),
    readSsmParameter: (name) => readSsmParameter(new SSMClient({ ...AWS_CLIENT_DEFAULTS, region: homeRegion }), name),
  });
  const settings = config.executorSecret;
  if (settings?.store.kind !== 'aws-secrets-manager') {
    throw new ConfigError(config.source, [
      'executorSecret.awsSecretsManager: name the Secrets Manager secret the executors read their token from',
    ]);
  }
  const { secretId } = settings.store;
  // An ARN names its region; a bare name lives in the function's own region.
  const region = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretId)?.[1] ?? homeRegion;
  const client = new SecretsManagerClient({ ...AWS_CLIENT_DEFAULTS, region });
  const token = tokenReader(config.sourcegraph.token, {
    clock,
    secrets,
    readStore: awsSecretReader(config.sourcegraph.token, env),
    onStale: (error) => logger.warn('token refresh failed; using the cached token', { error }),
  });
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
    },
  };
}
