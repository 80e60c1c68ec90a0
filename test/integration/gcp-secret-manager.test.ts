import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type SecretManagerEmulator, startSecretManagerEmulator } from '../../local/gcp/secret-manager.ts';
import { crc32c } from '../../shared/gcp/crc32c.ts';

const project = 'fleetplane-test';
const secret = `projects/${project}/secrets/executor-token`;

describe('Secret Manager emulator with the real SecretManagerServiceClient (REST)', () => {
  let secrets: SecretManagerEmulator;
  let client: SecretManagerServiceClient;

  beforeEach(async () => {
    secrets = await startSecretManagerEmulator({ clock: () => Date.parse('2025-03-01T12:00:00Z') });
    client = new SecretManagerServiceClient(gcpClientOptions(secrets.emulator));
  });

  afterEach(async () => {
    await client.close();
    await secrets.emulator.close();
  });

  it('adds a version and reads it back as latest and by number, with its CRC32C', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'first');
    const data = Buffer.from('second');

    // Act
    const [added] = await client.addSecretVersion({ parent: secret, payload: { data, dataCrc32c: crc32c(data) } });
    const [latest] = await client.accessSecretVersion({ name: `${secret}/versions/latest` });
    const [first] = await client.accessSecretVersion({ name: `${secret}/versions/1` });

    // Assess
    expect(added).toMatchObject({
      name: `${secret}/versions/2`,
      state: 'ENABLED',
      clientSpecifiedPayloadChecksum: true,
    });
    expect(added.createTime).toMatchObject({ seconds: String(Date.parse('2025-03-01T12:00:00Z') / 1000) });
    expect(latest.name).toBe(`${secret}/versions/2`);
    expect(latest.payload?.data?.toString()).toBe('second');
    expect(Number(latest.payload?.dataCrc32c)).toBe(crc32c(data));
    expect(first.payload?.data?.toString()).toBe('first');
  });

  it('refuses a payload whose checksum does not match', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token');

    // Act
    const refused = await client
      .addSecretVersion({ parent: secret, payload: { data: Buffer.from('x'), dataCrc32c: 1 } })
      .catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ code: 3 });
    expect(secrets.versions(project, 'executor-token')).toEqual([]);
  });

  it('disables the newest version: latest then fails, the older one still reads, enable restores it', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'old');
    secrets.addVersion(project, 'executor-token', 'new');

    // Act
    const [disabled] = await client.disableSecretVersion({ name: `${secret}/versions/2` });
    const latest = await client.accessSecretVersion({ name: `${secret}/versions/latest` }).catch((e: unknown) => e);
    const [older] = await client.accessSecretVersion({ name: `${secret}/versions/1` });
    const [enabled] = await client.enableSecretVersion({ name: `${secret}/versions/2`, etag: disabled.etag ?? '' });

    // Assess
    expect(disabled.state).toBe('DISABLED');
    expect(latest).toMatchObject({ code: 9, message: expect.stringMatching(/is in DISABLED state/) });
    expect(older.payload?.data?.toString()).toBe('old');
    expect(enabled.state).toBe('ENABLED');
  });

  it('lists versions newest first, filters by state, and destroys payloads for good', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'a');
    secrets.addVersion(project, 'executor-token', 'b');
    secrets.addVersion(project, 'executor-token', 'c');

    // Act
    await client.destroySecretVersion({ name: `${secret}/versions/1` });
    const [all] = await client.listSecretVersions({ parent: secret });
    const [enabled] = await client.listSecretVersions({ parent: secret, filter: 'state:ENABLED' });
    const destroyed = await client.accessSecretVersion({ name: `${secret}/versions/1` }).catch((e: unknown) => e);

    // Assess
    expect(all.map((v) => [v.name?.split('/').at(-1), v.state])).toEqual([
      ['3', 'ENABLED'],
      ['2', 'ENABLED'],
      ['1', 'DESTROYED'],
    ]);
    expect(enabled.map((v) => v.name?.split('/').at(-1))).toEqual(['3', '2']);
    expect(destroyed).toMatchObject({ code: 9 });
    expect(secrets.versions(project, 'executor-token')[0]).toEqual({
      version: 1,
      state: 'DESTROYED',
      value: undefined,
    });
  });

  it('patches version aliases under the etag, answers them on getSecret, and resolves them on access and get', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'old');
    secrets.addVersion(project, 'executor-token', 'new');
    const [before] = await client.getSecret({ name: secret });

    // Act
    const [patched] = await client.updateSecret({
      secret: { name: secret, etag: before.etag ?? '', versionAliases: { current: 2, previous: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    const [read] = await client.getSecret({ name: secret });
    const [accessed] = await client.accessSecretVersion({ name: `${secret}/versions/current` });
    const [got] = await client.getSecretVersion({ name: `${secret}/versions/previous` });

    // Assess
    expect(before.versionAliases).toEqual({});
    expect(patched.etag).not.toBe(before.etag);
    expect(read.etag).toBe(patched.etag);
    expect(read.versionAliases).toEqual({ current: '2', previous: '1' });
    expect(accessed.name).toBe(`${secret}/versions/2`);
    expect(accessed.payload?.data?.toString()).toBe('new');
    expect(got.name).toBe(`${secret}/versions/1`);
    expect(secrets.versionAliases(project, 'executor-token')).toEqual({ current: 2, previous: 1 });
  });

  it('refuses a patch under a stale etag with FAILED_PRECONDITION and applies one without an etag', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'old');
    secrets.addVersion(project, 'executor-token', 'new');
    const [before] = await client.getSecret({ name: secret });
    await client.updateSecret({
      secret: { name: secret, etag: before.etag ?? '', versionAliases: { current: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });

    // Act
    const stale = await client
      .updateSecret({
        secret: { name: secret, etag: before.etag ?? '', versionAliases: { current: 2 } },
        updateMask: { paths: ['version_aliases'] },
      })
      .catch((e: unknown) => e);
    const [unconditional] = await client.updateSecret({
      secret: { name: secret, versionAliases: { pending: 2 } },
      updateMask: { paths: ['versionAliases'] },
    });

    // Assess
    expect(stale).toMatchObject({ code: 9, message: expect.stringMatching(/etag/) });
    expect(unconditional.versionAliases).toEqual({ pending: '2' });
  });

  it('refuses what secrets.patch refuses and leaves the aliases as they were', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'a');
    secrets.addVersion(project, 'executor-token', 'b');
    await client.destroySecretVersion({ name: `${secret}/versions/1` });
    const patch = (versionAliases: Record<string, number>, paths = ['version_aliases']) =>
      client
        .updateSecret({ secret: { name: secret, versionAliases }, updateMask: { paths } })
        .then(() => 'applied')
        .catch((e: unknown) => e);

    // Act
    const refusals = {
      noMask: await patch({ current: 2 }, []),
      unknownField: await patch({ current: 2 }, ['version_aliases', 'colour']),
      unmodelledField: await patch({ current: 2 }, ['labels']),
      missingVersion: await patch({ current: 3 }),
      destroyedVersion: await patch({ current: 1 }),
      reserved: await patch({ Latest: 2 }),
      digitFirst: await patch({ '2nd': 2 }),
      tooLong: await patch({ [`a${'b'.repeat(63)}`]: 2 }),
    };
    const longest = await patch({ [`a${'b'.repeat(62)}`]: 2, 'under_score-Mixed': 2 });
    const byAlias = await client
      .disableSecretVersion({ name: `${secret}/versions/under_score-Mixed` })
      .catch((e: unknown) => e);

    // Assess
    expect(refusals).toMatchObject({
      noMask: { code: 3 },
      unknownField: { code: 3 },
      unmodelledField: { code: 12 },
      missingVersion: { code: 3 },
      destroyedVersion: { code: 9 },
      reserved: { code: 3 },
      digitFirst: { code: 3 },
      tooLong: { code: 3 },
    });
    expect(longest).toBe('applied');
    expect(byAlias).toMatchObject({ code: 5 });
    expect(Object.keys(secrets.versionAliases(project, 'executor-token'))).toHaveLength(2);
  });

  it('answers an alias the secret does not have with NOT_FOUND', async () => {
    // Prepare
    secrets.createSecret(project, 'executor-token', 'a');

    // Act
    const missing = await client.accessSecretVersion({ name: `${secret}/versions/current` }).catch((e: unknown) => e);

    // Assess
    expect(missing).toMatchObject({ code: 5 });
  });

  it('answers a missing secret with NOT_FOUND in Google format', async () => {
    // Act
    const missing = await client
      .accessSecretVersion({ name: `projects/${project}/secrets/nope/versions/latest` })
      .catch((e: unknown) => e);
    const missingSecret = await client.getSecret({ name: `projects/${project}/secrets/nope` }).catch((e: unknown) => e);

    // Assess
    expect(missing).toMatchObject({ code: 5, message: expect.stringMatching(/not found or has no versions/) });
    expect(missingSecret).toMatchObject({ code: 5, message: expect.stringMatching(/not found/) });
  });
});
