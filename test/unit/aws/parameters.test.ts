import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsConfigSourceError, readSecretString, readSsmParameter } from '../../../shared/aws/parameters.ts';

expect.extend(allCustomMatcherWithAliases);

const ssm = mockClient(SSMClient);
const secrets = mockClient(SecretsManagerClient);
const ssmClient = new SSMClient({ region: 'us-west-2' });
const secretsClient = new SecretsManagerClient({ region: 'us-west-2' });
const SECRET = 'sgp_0123456789abcdef';

/** Everything an error would show in a log line: message and cause chain. */
const rendered = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AwsConfigSourceError);
  return JSON.stringify(error, Object.getOwnPropertyNames(error ?? {})) + String(error);
};

beforeEach(() => {
  ssm.reset();
  secrets.reset();
});

describe('readSsmParameter', () => {
  it('reads the decrypted value', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'https://sourcegraph.example.com' } });

    // Act
    const value = await readSsmParameter(ssmClient, '/fleetplane/url');

    // Assess
    expect(value).toBe('https://sourcegraph.example.com');
    expect(ssm).toReceiveCommandExactlyOnceWith(GetParameterCommand, { Name: '/fleetplane/url', WithDecryption: true });
  });

  it('names the parameter and keeps the cause when it does not exist', async () => {
    // Prepare
    const cause = new ParameterNotFound({ message: '', $metadata: {} });
    ssm.on(GetParameterCommand).rejects(cause);

    // Act
    const read = readSsmParameter(ssmClient, '/fleetplane/missing');

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'AwsConfigSourceError',
      source: 'ssm:/fleetplane/missing',
      cause,
    });
  });

  it('refuses an empty value', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '  ' } });

    // Act
    const read = readSsmParameter(ssmClient, '/fleetplane/empty');

    // Assess
    await expect(read).rejects.toThrow(/ssm:\/fleetplane\/empty: is empty/);
  });
});

describe('readSecretString', () => {
  it('reads the whole SecretString', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });

    // Act
    const value = await readSecretString(secretsClient, 'fleetplane/token');

    // Assess
    expect(value).toBe(SECRET);
    expect(secrets).toReceiveCommandWith(GetSecretValueCommand, { SecretId: 'fleetplane/token' });
  });

  it('reads one key of a JSON secret', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: SECRET, user: 'x' }) });

    // Act
    const value = await readSecretString(secretsClient, 'fleetplane/sourcegraph', 'token');

    // Assess
    expect(value).toBe(SECRET);
  });

  it.each([
    ['not JSON', `${SECRET}}`],
    ['not an object', JSON.stringify([SECRET])],
    ['missing the key', JSON.stringify({ other: SECRET })],
    ['holding a non-string', JSON.stringify({ token: { nested: SECRET } })],
  ])('fails without showing the secret when it is %s', async (_, secretString) => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: secretString });

    // Act
    const shown = await rendered(readSecretString(secretsClient, 'fleetplane/sourcegraph', 'token'));

    // Assess
    expect(shown).toContain('secretsmanager:fleetplane/sourcegraph#token');
    expect(shown).not.toContain(SECRET);
  });

  it('refuses a binary secret', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });

    // Act
    const read = readSecretString(secretsClient, 'fleetplane/binary');

    // Assess
    await expect(read).rejects.toThrow(AwsConfigSourceError);
  });
});
