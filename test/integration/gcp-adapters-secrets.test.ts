import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type SecretManagerEmulator, startSecretManagerEmulator } from '../../local/gcp/secret-manager.ts';
import { crc32c } from '../../shared/gcp/crc32c.ts';
import { GcpSecretReadError, readSecretVersion } from '../../shared/gcp/secrets.ts';

const project = 'fleetplane-test';
const TOKEN = 'sgp_0123456789abcdef';
const version = (id: string, v = 'latest') => `projects/${project}/secrets/${id}/versions/${v}`;

/** Everything an error would show in a log line: message, fields and cause chain. */
const rendered = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GcpSecretReadError);
  return JSON.stringify(error, Object.getOwnPropertyNames(error ?? {})) + String(error);
};

describe('readSecretVersion against the Secret Manager emulator', () => {
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

  it('reads the payload as UTF-8, latest or by number, checked against its CRC32C', async () => {
    // Prepare
    secrets.createSecret(project, 'token', 'first');
    secrets.addVersion(project, 'token', `${TOKEN} ✓`);

    // Act
    const latest = await readSecretVersion(client, version('token'));
    const first = await readSecretVersion(client, version('token', '1'));

    // Assess
    expect(latest).toBe(`${TOKEN} ✓`);
    expect(first).toBe('first');
  });

  it('refuses a payload whose CRC32C does not match, without showing it', async () => {
    // Prepare: the answer arrives with its checksum off by one
    secrets.createSecret(project, 'token', TOKEN);
    const tampered = new Proxy(client, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== 'accessSecretVersion' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (request: unknown) => {
          const [answer] = await value.call(target, request);
          return [{ ...answer, payload: { ...answer.payload, dataCrc32c: Number(answer.payload.dataCrc32c) + 1 } }];
        };
      },
    });

    // Act
    const read = readSecretVersion(tampered, version('token'));

    // Assess
    const text = await rendered(read);
    expect(text).toMatch(/does not match its CRC32C checksum/);
    expect(text).not.toContain(TOKEN);
    await expect(read).rejects.toMatchObject({ retryable: true, source: `secretmanager:${version('token')}` });
  });

  it('names a missing secret and a disabled version, not retryable, with the cause kept', async () => {
    // Prepare
    secrets.createSecret(project, 'token', TOKEN);
    await client.disableSecretVersion({ name: version('token', '1') });

    // Act
    const missing = readSecretVersion(client, version('nope'));
    const disabled = readSecretVersion(client, version('token', '1'));

    // Assess
    await expect(missing).rejects.toMatchObject({ retryable: false, cause: expect.objectContaining({ code: 5 }) });
    await expect(missing).rejects.toThrow(
      /secretmanager:projects\/fleetplane-test\/secrets\/nope\/versions\/latest: could not be read/,
    );
    await expect(disabled).rejects.toThrow(/DISABLED/);
  });

  it('refuses a payload that is not UTF-8, without showing it', async () => {
    // Prepare
    secrets.createSecret(project, 'token', Buffer.from([0x73, 0x67, 0xff, 0xfe]));

    // Act
    const text = await rendered(readSecretVersion(client, version('token')));

    // Assess
    expect(text).toMatch(/payload is not UTF-8 text/);
  });

  it('computes CRC32C (Castagnoli), as the RFC 3720 test vectors give it', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });
});
