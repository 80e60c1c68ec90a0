import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig, type SecretsManagerEmulator, startSecretsManagerEmulator } from '../../local/aws/index.ts';
import { AwsConfigSourceError, readSecretString } from '../../shared/aws/parameters.ts';

describe('Secrets Manager emulator with the real SecretsManagerClient', () => {
  let secrets: SecretsManagerEmulator;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    secrets = await startSecretsManagerEmulator({ region: 'eu-west-1' });
    client = new SecretsManagerClient({ ...awsClientConfig(secrets.emulator, 'eu-west-1'), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await secrets.close();
  });
  beforeEach(() => {
    secrets.clearSecrets();
    secrets.emulator.clearFaults();
  });

  it('goes through a rotation: pending version, retried steps, AWSCURRENT moved, AWSPREVIOUS left behind', async () => {
    // Prepare
    const created = await client.send(new CreateSecretCommand({ Name: 'fleetplane/token', SecretString: 'old-token' }));
    const token = '6a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const pending = { SecretId: 'fleetplane/token', ClientRequestToken: token, VersionStages: ['AWSPENDING'] };

    // Act: createSecret step, its retry, and a conflicting retry
    const before = await client
      .send(new GetSecretValueCommand({ SecretId: 'fleetplane/token', VersionId: token, VersionStage: 'AWSPENDING' }))
      .catch((error: unknown) => error);
    const { RandomPassword: password } = await client.send(
      new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }),
    );
    const put = await client.send(new PutSecretValueCommand({ ...pending, SecretString: password }));
    const retried = await client.send(new PutSecretValueCommand({ ...pending, SecretString: password }));
    const conflicting = await client
      .send(new PutSecretValueCommand({ ...pending, SecretString: 'something-else' }))
      .catch((error: unknown) => error);
    // finishSecret step
    const described = await client.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: created.ARN,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: created.VersionId,
      }),
    );
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'fleetplane/token' }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'fleetplane/token', VersionStage: 'AWSPREVIOUS' }),
    );

    // Assess
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:000000000000:secret:fleetplane\/token-[A-Za-z0-9]{6}$/,
    );
    expect(before).toMatchObject({ name: 'ResourceNotFoundException', $fault: 'client' });
    expect(password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(put).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    expect(retried).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    expect(conflicting).toMatchObject({ name: 'ResourceExistsException' });
    expect(described.VersionIdsToStages).toEqual({
      [created.VersionId ?? '']: ['AWSCURRENT'],
      [token]: ['AWSPENDING'],
    });
    expect(current).toMatchObject({
      VersionId: token,
      SecretString: password,
      VersionStages: ['AWSPENDING', 'AWSCURRENT'],
    });
    expect(previous).toMatchObject({
      VersionId: created.VersionId,
      SecretString: 'old-token',
      VersionStages: ['AWSPREVIOUS'],
    });
    expect(secrets.versions('fleetplane/token').map((version) => version.stages)).toEqual([
      ['AWSPREVIOUS'],
      ['AWSPENDING', 'AWSCURRENT'],
    ]);
  });

  it('refuses to move AWSCURRENT without naming the version that holds it', async () => {
    // Prepare
    const { arn } = secrets.createSecret('fleetplane/token', 'v1');
    const next = await client.send(
      new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2', VersionStages: ['AWSPENDING'] }),
    );

    // Act
    const move = client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: next.VersionId,
      }),
    );

    // Assess
    await expect(move).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('RemoveFromVersionId'),
    });
  });

  it('serves the product reader: the whole string, a JSON key, and a clear error for a missing secret', async () => {
    // Prepare
    secrets.createSecret('fleetplane/plain', 'sgp_local_token');
    secrets.createSecret('fleetplane/json', JSON.stringify({ token: 'sgp_json_token', note: 'x' }));

    // Act
    const plain = await readSecretString(client, 'fleetplane/plain');
    const key = await readSecretString(client, 'fleetplane/json', 'token');
    const missing = readSecretString(client, 'fleetplane/none');

    // Assess
    expect(plain).toBe('sgp_local_token');
    expect(key).toBe('sgp_json_token');
    await expect(missing).rejects.toBeInstanceOf(AwsConfigSourceError);
    await expect(missing).rejects.toThrow(/ResourceNotFoundException/);
  });

  it('throttles with ThrottlingException, which the product treats as retryable', async () => {
    // Prepare
    secrets.createSecret('fleetplane/plain', 'sgp_local_token');
    secrets.emulator.injectFault({ kind: 'throttle', operation: 'GetSecretValue', times: 1 });

    // Act
    const read = readSecretString(client, 'fleetplane/plain');

    // Assess
    await expect(read).rejects.toMatchObject({ retryable: true, cause: { name: 'ThrottlingException' } });
  });
});
