import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SecretValue } from '../config/secret.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { SecretStoreError } from '../ports/errors.ts';
import type { ExecutorSecretStore, SecretVersion } from '../ports/executor-secret.ts';
import { awsErrorName, describeAwsError, isTransientAwsError } from './aws-errors.ts';

/** Secrets Manager's staging labels: what the rotation protocol (and every reader asking for no version) uses. */
const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';

/**
 * The executor secret in Secrets Manager, staged as its rotation protocol stages it: a rotation's id is the version's
 * `ClientRequestToken`, pending is `AWSPENDING`, current `AWSCURRENT`, and moving `AWSCURRENT` leaves `AWSPREVIOUS` on
 * the version it left. The same calls serve Secrets Manager's own rotation steps, whose token is the rotation id.
 */
export function createSecretsManagerExecutorSecret(client: SecretsManagerClient, secretId: string) {
  const call = async <T>(operation: string, options: CallOptions, send: (signal?: AbortSignal) => Promise<T>) => {
    try {
      options.signal?.throwIfAborted();
      return await send(options.signal);
    } catch (error) {
      // AWS messages name the secret and version, never the value.
      throw new SecretStoreError(operation, `${secretId}: ${describeAwsError(error)}`, {
        cause: error,
        retryable: isTransientAwsError(error),
      });
    }
  };
  const read = async (operation: string, input: { VersionId?: string; VersionStage?: string }, options: CallOptions) =>
    call(operation, options, async (abortSignal) => {
      try {
        const output = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...input }), { abortSignal });
        return output;
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') {
          // No such version (or the label is on none): nothing staged, not a failure.
          return undefined;
        }
        throw error;
      }
    });
  const versionOf = (
    operation: string,
    output:
      | { VersionId?: string | undefined; SecretString?: string | undefined; CreatedDate?: Date | undefined }
      | undefined,
  ): SecretVersion | undefined => {
    if (output === undefined) {
      return undefined;
    }
    if (output.VersionId === undefined || output.SecretString === undefined) {
      throw new SecretStoreError(operation, `${secretId}: the version has no id or no SecretString`);
    }
    return {
      versionId: output.VersionId,
      value: new SecretValue(output.SecretString),
      ...(output.CreatedDate === undefined ? {} : { createdAt: output.CreatedDate.getTime() }),
    };
  };
  const stagesOf = async (operation: string, options: CallOptions) => {
    const described = await call(operation, options, (abortSignal) =>
      client.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal }),
    );
    return new Map(Object.entries(described.VersionIdsToStages ?? {}));
  };

  return {
    async current(options: CallOptions = {}) {
      return versionOf('current', await read('current', { VersionStage: CURRENT }, options));
    },

    async staged(rotation: string, options: CallOptions = {}) {
      return versionOf('staged', await read('staged', { VersionId: rotation }, options));
    },

    async stage(rotation: string, value: SecretValue, options: CallOptions = {}) {
      const existing = versionOf('stage', await read('stage', { VersionId: rotation }, options));
      if (existing !== undefined) {
        return existing;
      }
      await call('stage', options, (abortSignal) =>
        client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: rotation,
            SecretString: value.reveal(),
            VersionStages: [PENDING],
          }),
          { abortSignal },
        ),
      );
      return { versionId: rotation, value };
    },

    async promote(rotation: string, options: CallOptions = {}) {
      const stages = await stagesOf('promote', options);
      const own = stages.get(rotation);
      if (own === undefined) {
        throw new SecretStoreError('promote', `${secretId}: no version was staged for rotation ${rotation}`);
      }
      if (!own.includes(CURRENT)) {
        const current = [...stages].find(([, labels]) => labels.includes(CURRENT))?.[0];
        await call('promote', options, (abortSignal) =>
          client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: secretId,
              VersionStage: CURRENT,
              MoveToVersionId: rotation,
              ...(current === undefined ? {} : { RemoveFromVersionId: current }),
            }),
            { abortSignal },
          ),
        );
      }
      if (own.includes(PENDING)) {
        // A label left on the current version would make the next RotateSecret report a rotation in progress.
        await call('promote', options, (abortSignal) =>
          client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: secretId,
              VersionStage: PENDING,
              RemoveFromVersionId: rotation,
            }),
            { abortSignal },
          ),
        );
      }
    },

    async pendingRotation(options: CallOptions = {}) {
      const stages = await stagesOf('pendingRotation', options);
      return [...stages].find(([, labels]) => labels.includes(PENDING) && !labels.includes(CURRENT))?.[0];
    },
  } satisfies ExecutorSecretStore;
}
