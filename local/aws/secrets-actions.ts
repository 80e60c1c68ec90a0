import type { Clock } from '../../shared/ports/clock.ts';
import { AwsServiceError } from './errors.ts';
import { parseShape } from './json-protocol.ts';
import { randomPassword } from './random-password.ts';
import {
  checkToken,
  createSecretShape,
  getSecretValueShape,
  putSecretValueShape,
  randomPasswordShape,
  required,
  secretIdShape,
  secretValueOf,
  updateStageShape,
} from './secrets-shapes.ts';
import { AWSCURRENT, type Secret, type SecretStore, type SecretVersion, sameValue } from './secrets-store.ts';

/** The Secrets Manager actions a rotation function calls, each from a parsed JSON body to the JSON answer. */

/** JSON 1.1 timestamps are epoch seconds. */
const seconds = (ms: number) => ms / 1000;

export const stagesOf = (version: SecretVersion) => [...version.stages];

export function createSecretActions(
  store: SecretStore,
  clock: Clock,
): Readonly<Record<string, (body: unknown) => unknown>> {
  const ids = (secret: Secret) => ({ ARN: secret.arn, Name: secret.name });
  const valueFields = (version: SecretVersion) =>
    version.value.string === undefined
      ? { SecretBinary: version.value.binary?.toString('base64') }
      : { SecretString: version.value.string };

  return {
    CreateSecret(body) {
      const input = parseShape(createSecretShape, body);
      const name = required(input.Name, 'name');
      if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
        throw new AwsServiceError(
          'InvalidParameterException',
          "The secret name contains characters that aren't allowed.",
        );
      }
      const value = secretValueOf(input);
      const versionId = checkToken(input.ClientRequestToken ?? store.newVersionId(), 'clientRequestToken');
      const secret = store.create(name, input.Description);
      // A secret created without a value has no version until the first PutSecretValue.
      return value === undefined
        ? ids(secret)
        : { ...ids(secret), VersionId: store.addVersion(secret, versionId, value, [AWSCURRENT]).id };
    },

    DescribeSecret(body) {
      const secret = store.find(required(parseShape(secretIdShape, body).SecretId, 'secretId'));
      // Versions without a label are deprecated and, as in AWS, no longer listed.
      const labelled = [...secret.versions.values()].filter((version) => version.stages.size > 0);
      return {
        ...ids(secret),
        Description: secret.description,
        RotationEnabled: secret.rotationEnabled,
        RotationLambdaARN: secret.rotationLambdaArn,
        LastChangedDate: seconds(secret.lastChangedAt),
        LastAccessedDate: secret.lastAccessedAt === undefined ? undefined : seconds(secret.lastAccessedAt),
        CreatedDate: seconds(secret.createdAt),
        VersionIdsToStages: Object.fromEntries(labelled.map((version) => [version.id, stagesOf(version)])),
        Tags: [],
      };
    },

    GetSecretValue(body) {
      const input = parseShape(getSecretValueShape, body);
      const secret = store.find(required(input.SecretId, 'secretId'));
      const version = store.resolve(secret, input.VersionId, input.VersionStage);
      // AWS records access to the day only.
      secret.lastAccessedAt = Math.floor(clock() / 86_400_000) * 86_400_000;
      return {
        ...ids(secret),
        VersionId: version.id,
        ...valueFields(version),
        VersionStages: stagesOf(version),
        CreatedDate: seconds(version.createdAt),
      };
    },

    PutSecretValue(body) {
      const input = parseShape(putSecretValueShape, body);
      const secret = store.find(required(input.SecretId, 'secretId'));
      const value = secretValueOf(input);
      if (value === undefined) {
        throw new AwsServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
      }
      const token = checkToken(input.ClientRequestToken ?? store.newVersionId(), 'clientRequestToken');
      const existing = secret.versions.get(token);
      if (existing !== undefined) {
        // A retried step: the same token with the same value changes nothing; with another value it is refused.
        if (!sameValue(existing.value, value)) {
          throw new AwsServiceError(
            'ResourceExistsException',
            "You can't modify an existing version, you can only create a new version.",
          );
        }
        return { ...ids(secret), VersionId: existing.id, VersionStages: stagesOf(existing) };
      }
      const created = store.addVersion(secret, token, value, input.VersionStages ?? [AWSCURRENT]);
      return { ...ids(secret), VersionId: created.id, VersionStages: stagesOf(created) };
    },

    UpdateSecretVersionStage(body) {
      const input = parseShape(updateStageShape, body);
      const secret = store.find(required(input.SecretId, 'secretId'));
      const stage = required(input.VersionStage, 'versionStage');
      const holder = store.holderOf(secret, stage);
      const moveTo = input.MoveToVersionId === undefined ? undefined : store.version(secret, input.MoveToVersionId);
      const removeFrom =
        input.RemoveFromVersionId === undefined ? undefined : store.version(secret, input.RemoveFromVersionId);
      if (removeFrom !== undefined && removeFrom !== holder) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `The staging label ${stage} is not attached to version ${removeFrom.id}.`,
        );
      }
      if (moveTo !== undefined && holder !== undefined && holder !== moveTo && removeFrom === undefined) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (moveTo !== undefined) {
        store.attach(secret, moveTo, stage);
      } else if (removeFrom !== undefined) {
        if (stage === AWSCURRENT) {
          throw new AwsServiceError(
            'InvalidParameterException',
            "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
          );
        }
        removeFrom.stages.delete(stage);
      }
      return ids(secret);
    },

    GetRandomPassword: (body) => ({ RandomPassword: randomPassword(parseShape(randomPasswordShape, body)) }),
  };
}
