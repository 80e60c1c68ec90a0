import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsClientConfig } from '../../local/aws/index.ts';
import { LOCAL_EXECUTOR_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { createAwsHealthRuntime } from '../../shared/aws/health-deps.ts';
import { ConfigError } from '../../shared/config/index.ts';
import { webhookSignatureHeaders } from '../../shared/webhook/hmac.ts';
import { WEBHOOK_SECRET_CACHE_MS } from '../../shared/webhook/keys.ts';
import type { RequestAuthenticator } from '../../shared/webhook/request.ts';
import { captureStdout, emfDocuments, flattenEmf } from '../support/emf.ts';

/**
 * The health function's composition root, in process on a manual clock against the local stack: how it reads the
 * webhook's keys from Secrets Manager, and what it wires for each config.
 */

const START = Date.UTC(2026, 2, 2, 10);
const WEBHOOK_SECRET = 'fleetplane/webhook-hmac';
const EXECUTOR_SECRET = 'fleetplane/executor-token';
const KEY = 'a1'.repeat(32);
const OLD_KEY = 'b2'.repeat(32);

describe('createAwsHealthRuntime', () => {
  const time = { now: START };
  let stack: LocalStack;
  let secrets: SecretsManagerClient;

  beforeEach(async () => {
    time.now = START;
    stack = await startLocalStack({ clock: () => time.now });
    // The AWS SDK reads endpoints and credentials from the process environment: point it at the stack, nowhere else.
    for (const [name, value] of Object.entries(stack.env())) {
      vi.stubEnv(name, value);
    }
    secrets = new SecretsManagerClient({
      ...awsClientConfig(stack.secretsManager.emulator, LOCAL_REGION),
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    secrets.destroy();
    await stack.close();
  });

  const runtimeFor = (changes: object) =>
    createAwsHealthRuntime(
      { ...stack.env(), FLEETPLANE_CONFIG: JSON.stringify({ ...stack.config(), ...changes }) },
      () => time.now,
    );
  const hmac = { webhook: { auth: 'hmac', secret: { awsSecretsManager: WEBHOOK_SECRET } } };
  const authenticatorOf = async (changes: object): Promise<RequestAuthenticator> => {
    const { auth } = (await runtimeFor(changes)).app;
    if (auth === 'iam') {
      throw new Error('expected an HMAC authenticator');
    }
    return auth;
  };
  /** A GET signed now (on the test's clock) with `key`; each call a new second, so never a replay. */
  const signedWith = (key: string) => {
    time.now += 1_000;
    return {
      method: 'GET',
      path: '/health',
      headers: webhookSignatureHeaders(key, time.now, ''),
      body: new Uint8Array(),
    };
  };
  const secretReads = () =>
    stack.secretsManager.emulator.requests.filter((request) => request.operation === 'GetSecretValue').length;

  it('reads the keys at most once a minute: a key dropped from the secret stops working within a minute', async () => {
    // Prepare: the current and the previous key, separated by white space
    stack.secretsManager.createSecret(WEBHOOK_SECRET, ` ${KEY}\n\t${OLD_KEY} `);
    const auth = await authenticatorOf(hmac);

    // Act
    const before = [await auth.authenticate(signedWith(KEY)), await auth.authenticate(signedWith(OLD_KEY))];
    await secrets.send(new PutSecretValueCommand({ SecretId: WEBHOOK_SECRET, SecretString: KEY }));
    time.now += WEBHOOK_SECRET_CACHE_MS / 2;
    const cached = await auth.authenticate(signedWith(OLD_KEY));
    time.now += WEBHOOK_SECRET_CACHE_MS / 2;
    const after = [await auth.authenticate(signedWith(KEY)), await auth.authenticate(signedWith(OLD_KEY))];

    // Assess
    expect(before).toEqual([{ accepted: true }, { accepted: true }]);
    expect(cached).toEqual({ accepted: true });
    expect(after).toEqual([{ accepted: true }, { accepted: false, reason: 'signature-mismatch' }]);
    expect(secretReads()).toBe(2);
  });

  it('reads no key for a request that fails the header checks, and keeps no failed read', async () => {
    // Prepare: the secret does not exist yet
    const auth = await authenticatorOf(hmac);

    // Act
    const unsigned = await auth.authenticate({ ...signedWith(KEY), headers: {} });
    const readsForUnsigned = secretReads();
    const unreadable = await auth.authenticate(signedWith(KEY)).catch((error: unknown) => error);
    stack.secretsManager.createSecret(WEBHOOK_SECRET, KEY);
    const readable = await auth.authenticate(signedWith(KEY));

    // Assess
    expect(unsigned).toEqual({ accepted: false, reason: 'missing-timestamp' });
    expect(readsForUnsigned).toBe(0);
    expect(unreadable).toMatchObject({ name: 'AwsConfigSourceError' });
    expect(String(unreadable)).toContain(WEBHOOK_SECRET);
    expect(readable).toEqual({ accepted: true });
  });

  it('wires rotation only for an executor secret in Secrets Manager, on the same logger', async () => {
    // Prepare
    stack.secretsManager.createSecret(EXECUTOR_SECRET, LOCAL_EXECUTOR_TOKEN);

    // Act
    const plain = await runtimeFor({});
    const rotating = await runtimeFor({ executorSecret: { awsSecretsManager: EXECUTOR_SECRET } });

    // Assess: IAM authentication (the default) is the platform's
    expect(plain.app.auth).toBe('iam');
    expect(plain.app.rotation).toBeUndefined();
    expect(rotating.app.rotation?.deps.logger).toBe(rotating.app.logger);
    expect(rotating.app.rotation?.tokenLength).toBe(40);
    expect(rotating.app.parseRotate({ rotation: 'r'.repeat(32) })).toEqual({ rotation: 'r'.repeat(32) });
  });

  it('always wires the counts as EMF on stdout, in the function’s region, never through CloudWatch’s API', async () => {
    // Prepare: the worker's series goes to another region than the function's
    const runtime = await runtimeFor({
      metrics: { cloudwatch: { namespace: 'sourcegraph-executor', region: 'eu-west-1' } },
    });
    const written = captureStdout();

    // Act
    await runtime.app.health.metrics?.publish({
      environment: 'prod',
      at: Date.now() - 10_000,
      fleets: [],
      unexplainedExecutors: 2,
    });

    // Assess
    vi.restoreAllMocks();
    expect(flattenEmf(emfDocuments(written))).toEqual(['UnexplainedExecutors{environment=prod} = 2 Count']);
    expect(stack.cloudWatch.emulator.requests).toEqual([]);
  });

  it('refuses a webhook key it could not read at cold start', async () => {
    // Act
    const runtime = runtimeFor({
      webhook: { auth: 'hmac', secret: { gcpSecretManager: 'projects/p/secrets/webhook/versions/latest' } },
    });

    // Assess
    await expect(runtime).rejects.toBeInstanceOf(ConfigError);
    await expect(runtime).rejects.toThrow(/webhook\.secret: the AWS function reads the webhook secret/);
  });
});
