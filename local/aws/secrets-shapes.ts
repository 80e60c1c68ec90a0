import * as z from 'zod';
import { AwsServiceError } from './errors.ts';

/** Secrets Manager's request shapes (JSON 1.1). Types only: required members are checked with AWS's own wording. */

/** The SDK fills ClientRequestToken with a UUID when the caller leaves it out (an idempotency token). */
const token = z.string().optional();
const value = { SecretString: z.string().optional(), SecretBinary: z.string().optional() };

export const createSecretShape = z.object({
  Name: z.string().optional(),
  ClientRequestToken: token,
  Description: z.string().optional(),
  KmsKeyId: z.string().optional(),
  Tags: z.array(z.object({ Key: z.string().optional(), Value: z.string().optional() })).optional(),
  ...value,
});

export const secretIdShape = z.object({ SecretId: z.string().optional() });

export const getSecretValueShape = z.object({
  SecretId: z.string().optional(),
  VersionId: z.string().optional(),
  VersionStage: z.string().optional(),
});

export const putSecretValueShape = z.object({
  SecretId: z.string().optional(),
  ClientRequestToken: token,
  VersionStages: z.array(z.string()).optional(),
  RotationToken: z.string().optional(),
  ...value,
});

export const updateStageShape = z.object({
  SecretId: z.string().optional(),
  VersionStage: z.string().optional(),
  MoveToVersionId: z.string().optional(),
  RemoveFromVersionId: z.string().optional(),
});

export const randomPasswordShape = z.object({
  PasswordLength: z.number().optional(),
  ExcludeCharacters: z.string().optional(),
  ExcludeNumbers: z.boolean().optional(),
  ExcludePunctuation: z.boolean().optional(),
  ExcludeUppercase: z.boolean().optional(),
  ExcludeLowercase: z.boolean().optional(),
  IncludeSpace: z.boolean().optional(),
  RequireEachIncludedType: z.boolean().optional(),
});

/** A required member, refused the way AWS's JSON front end refuses a missing one. */
export function required<T>(value: T | undefined, member: string): T {
  if (value === undefined) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** ClientRequestToken and version ids: 32 to 64 characters. */
export function checkToken(value: string, member: string): string {
  if (value.length < 32 || value.length > 64) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length between 32 and 64`,
    );
  }
  return value;
}

/** Exactly one of SecretString and SecretBinary (base64 on the wire). */
export function secretValueOf(input: { SecretString?: string | undefined; SecretBinary?: string | undefined }) {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw new AwsServiceError('InvalidParameterException', "You can't specify both SecretString and SecretBinary.");
  }
  if (input.SecretString !== undefined) {
    return { string: input.SecretString };
  }
  return input.SecretBinary === undefined ? undefined : { binary: Buffer.from(input.SecretBinary, 'base64') };
}
