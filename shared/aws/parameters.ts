import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { isRecord } from '../domain/guards.ts';
import { SecretSourceError } from '../ports/errors.ts';
import { describeAwsError, isTransientAwsError } from './aws-errors.ts';

/** SSM Parameter Store or Secrets Manager could not be read; see `SecretSourceError`. */
export class AwsConfigSourceError extends SecretSourceError {
  override readonly name = 'AwsConfigSourceError';
}

/** A SecureString is decrypted (WithDecryption), so the same call serves plain and secret parameters. */
export async function readSsmParameter(client: SSMClient, name: string): Promise<string> {
  const source = `ssm:${name}`;
  let value: string | undefined;
  try {
    const output = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    value = output.Parameter?.Value;
  } catch (error) {
    // ParameterNotFound, AccessDenied, KMS failures: AWS messages name the parameter, never its value.
    throw new AwsConfigSourceError(source, `could not be read (${describeAwsError(error)})`, {
      cause: error,
      retryable: isTransientAwsError(error),
    });
  }
  if (value === undefined || value.trim() === '') {
    throw new AwsConfigSourceError(source, 'is empty');
  }
  return value;
}

/**
 * The secret's `SecretString`, or one key of it when the secret is a JSON object (the console's key/value form).
 * Binary secrets are refused: every value fleetplane reads is text.
 */
export async function readSecretString(
  client: SecretsManagerClient,
  secretId: string,
  jsonKey?: string,
): Promise<string> {
  const source = jsonKey === undefined ? `secretsmanager:${secretId}` : `secretsmanager:${secretId}#${jsonKey}`;
  let secret: string | undefined;
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    secret = output.SecretString;
  } catch (error) {
    throw new AwsConfigSourceError(source, `could not be read (${describeAwsError(error)})`, {
      cause: error,
      retryable: isTransientAwsError(error),
    });
  }
  if (secret === undefined || secret.trim() === '') {
    throw new AwsConfigSourceError(source, 'has no SecretString (empty or binary secret)');
  }
  return jsonKey === undefined ? secret : keyOf(secret, jsonKey, source);
}

function keyOf(secret: string, jsonKey: string, source: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    // The SyntaxError is deliberately dropped: V8 quotes the offending text, which here is the secret itself.
    throw new AwsConfigSourceError(source, 'is not valid JSON, so the key cannot be read');
  }
  if (!isRecord(parsed)) {
    throw new AwsConfigSourceError(source, 'is not a JSON object, so the key cannot be read');
  }
  const value = parsed[jsonKey];
  if (typeof value !== 'string' || value.trim() === '') {
    // Name the keys that exist (they are not secret) but none of the values.
    const keys = Object.keys(parsed).join(', ') || 'none';
    throw new AwsConfigSourceError(source, `has no non-empty string under that key (keys: ${keys})`);
  }
  return value;
}
