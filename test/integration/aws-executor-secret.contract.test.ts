import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll } from 'vitest';
import { awsClientConfig, type SecretsManagerEmulator, startSecretsManagerEmulator } from '../../local/aws/index.ts';
import { createSecretsManagerExecutorSecret } from '../../shared/aws/secrets-manager-executor-secret.ts';
import { defineExecutorSecretContract } from '../contract/executor-secret.contract.ts';

let secrets: SecretsManagerEmulator;
let client: SecretsManagerClient;
let created = 0;

beforeAll(async () => {
  secrets = await startSecretsManagerEmulator({ region: 'eu-west-1' });
  client = new SecretsManagerClient({ ...awsClientConfig(secrets.emulator, 'eu-west-1'), maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await secrets.close();
});

defineExecutorSecretContract('Secrets Manager adapter over the emulator (real SDK, loopback HTTP)', async (current) => {
  const name = `fleetplane/executor-token-${++created}`;
  await client.send(
    new CreateSecretCommand({ Name: name, ...(current === undefined ? {} : { SecretString: current }) }),
  );
  return createSecretsManagerExecutorSecret(client, name);
});
