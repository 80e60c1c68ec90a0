import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpClientOptions, type SecretManagerEmulator, startSecretManagerEmulator } from '../../local/gcp/index.ts';
import { SecretValue } from '../../shared/config/secret.ts';
import { createSecretManagerExecutorSecret } from '../../shared/gcp/secret-manager-executor-secret.ts';
import { SecretStoreError } from '../../shared/ports/errors.ts';
import { defineExecutorSecretContract } from '../contract/executor-secret.contract.ts';

const project = 'fleetplane-test';
let secrets: SecretManagerEmulator;
let client: SecretManagerServiceClient;
let created = 0;

beforeAll(async () => {
  secrets = await startSecretManagerEmulator();
  client = new SecretManagerServiceClient(gcpClientOptions(secrets.emulator));
});
afterAll(async () => {
  await client.close();
  await secrets.emulator.close();
});

// A secret as Terraform creates it: one version, no aliases.
defineExecutorSecretContract(
  'Secret Manager adapter over the emulator (real client, loopback REST)',
  async (current) => {
    const name = secrets.createSecret(project, `executor-token-${++created}`, current);
    return createSecretManagerExecutorSecret(client, name);
  },
);

describe('Secret Manager executor secret: what the aliases stand for', () => {
  const FIRST = '11111111-2222-4333-8444-555555555555';
  const SECOND = '66666666-7777-4888-8999-aaaaaaaaaaaa';
  const THIRD = 'cccccccc-dddd-4eee-8fff-000000000000';
  const subject = (value?: string) => {
    const id = `executor-token-${++created}`;
    const name = secrets.createSecret(project, id, value);
    return { id, name, store: createSecretManagerExecutorSecret(client, name) };
  };

  it('pins current on the Terraform version, then moves it, keeping previous and the live rotations only', async () => {
    // Prepare
    const { id, store } = subject('old-token-aaaaaaaaaaaaaaaaaaaa');

    // Act
    for (const [rotation, token] of [
      [FIRST, 'first-token-bbbbbbbbbbbbbbbbbbb'],
      [SECOND, 'second-token-cccccccccccccccccc'],
      [THIRD, 'third-token-ddddddddddddddddddd'],
    ] as const) {
      await store.stage(rotation, new SecretValue(token));
      await store.promote(rotation);
    }
    const current = await store.current();

    // Assess
    expect(secrets.versionAliases(project, id)).toEqual({
      current: 4,
      previous: 3,
      [`r-${SECOND}`]: 3,
      [`r-${THIRD}`]: 4,
    });
    expect(current?.versionId).toBe(THIRD);
    expect(current?.value.reveal()).toBe('third-token-ddddddddddddddddddd');
    expect(await store.staged(FIRST)).toBeUndefined();
  });

  it('leaves a version no alias names when the alias write fails, and a rerun stages a fresh one', async () => {
    // Prepare
    const { id, store } = subject('old-token-aaaaaaaaaaaaaaaaaaaa');
    await store.stage(FIRST, new SecretValue('first-token-bbbbbbbbbbbbbbbbbbb'));
    await store.promote(FIRST);
    secrets.emulator.injectFault({ kind: 'error', operation: 'updateSecret', status: 503, times: 1 });

    // Act
    const failed = await store
      .stage(SECOND, new SecretValue('lost-token-eeeeeeeeeeeeeeeeeeee'))
      .catch((e: unknown) => e);
    const before = await store.pendingRotation();
    const staged = await store.stage(SECOND, new SecretValue('second-token-cccccccccccccccccc'));

    // Assess
    expect(failed).toBeInstanceOf(SecretStoreError);
    expect(failed).toMatchObject({ retryable: true });
    expect(String(failed)).not.toContain('lost-token');
    expect(before).toBeUndefined();
    expect(staged.value.reveal()).toBe('second-token-cccccccccccccccccc');
    expect(secrets.versions(project, id).map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(secrets.versionAliases(project, id)).toMatchObject({ current: 2, pending: 4, [`r-${SECOND}`]: 4 });
    expect((await store.current())?.value.reveal()).toBe('first-token-bbbbbbbbbbbbbbbbbbb');
  });

  it('writes again on a fresh read when another writer changed the aliases first', async () => {
    // Prepare
    const { id, store } = subject('old-token-aaaaaaaaaaaaaaaaaaaa');
    secrets.emulator.clearRequests();
    // The first alias write is held back, so the other rotation's write lands under the etag both read.
    secrets.emulator.injectFault({ kind: 'latency', operation: 'updateSecret', latencyMs: 150, times: 1 });

    // Act
    const [first, second] = await Promise.all([
      store.stage(FIRST, new SecretValue('first-token-bbbbbbbbbbbbbbbbbbb')),
      store.stage(SECOND, new SecretValue('second-token-cccccccccccccccccc')),
    ]);

    // Assess
    const conflicts = secrets.emulator.requests.filter((r) => r.operation === 'updateSecret' && r.status === 400);
    expect(conflicts.length).toBeGreaterThan(0);
    expect((await store.staged(FIRST))?.value.reveal()).toBe(first.value.reveal());
    expect((await store.staged(SECOND))?.value.reveal()).toBe(second.value.reveal());
    expect([FIRST, SECOND]).toContain(await store.pendingRotation());
    expect(secrets.versionAliases(project, id)).toMatchObject({ current: 1 });
  });

  it('answers the first token to a rotation staged twice at once', async () => {
    // Prepare
    const { store } = subject('old-token-aaaaaaaaaaaaaaaaaaaa');
    await store.stage(SECOND, new SecretValue('second-token-cccccccccccccccccc'));
    await store.promote(SECOND);
    secrets.emulator.injectFault({ kind: 'latency', operation: 'updateSecret', latencyMs: 150, times: 1 });

    // Act
    const answers = await Promise.all([
      store.stage(FIRST, new SecretValue('one-token-fffffffffffffffffffff')),
      store.stage(FIRST, new SecretValue('two-token-ggggggggggggggggggggg')),
    ]);

    // Assess
    const [one, two] = answers.map((answer) => answer.value.reveal());
    expect(one).toBe(two);
    expect((await store.staged(FIRST))?.value.reveal()).toBe(one);
  });

  it('reports throttling as retryable and a missing secret as not', async () => {
    // Prepare
    const { store } = subject('old-token-aaaaaaaaaaaaaaaaaaaa');
    const missing = createSecretManagerExecutorSecret(client, `projects/${project}/secrets/nope`);
    secrets.emulator.injectFault({ kind: 'throttle', operation: 'getSecret', times: 1 });

    // Act
    const throttled = await store.current().catch((e: unknown) => e);
    const notFound = await missing.staged(FIRST).catch((e: unknown) => e);

    // Assess
    expect(throttled).toMatchObject({ name: 'SecretStoreError', retryable: true });
    expect(notFound).toMatchObject({ name: 'SecretStoreError', retryable: false });
    expect(String(throttled)).not.toContain('old-token');
  });
});
