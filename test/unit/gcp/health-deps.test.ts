import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../../shared/config/index.ts';
import { webhookAuthOf } from '../../../shared/gcp/health-deps.ts';
import { webhookSignatureHeaders } from '../../../shared/webhook/hmac.ts';
import { WEBHOOK_SECRET_CACHE_MS, webhookKeysReader } from '../../../shared/webhook/keys.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const CURRENT = 'current-key-0123456789abcdef0123456789abcdef';
const PREVIOUS = 'previous-key-0123456789abcdef0123456789abcdef';
const WEBHOOK_SECRET = 'projects/my-project/secrets/fleetplane-webhook/versions/latest';

const config = (webhook?: object) =>
  parseConfigText(
    JSON.stringify({
      sourcegraph: { endpoint: 'https://sourcegraph.example.com', token: 'sgp_0123456789abcdef0123456789abcdef0123' },
      metrics: { cloudMonitoring: { projectId: 'my-project' } },
      fleets: [{ name: 'codeintel', queues: ['codeintel'], mode: 'metrics', jobsPerInstance: 4, maxInstances: 5 }],
      ...(webhook === undefined ? {} : { webhook }),
    }),
    'test',
    {},
  );

describe('webhookKeysReader', () => {
  it('splits the value on white space, drops empty parts and registers each key for log scrubbing', async () => {
    // Prepare
    const secrets = new Set<string>();
    const read = webhookKeysReader(async () => `\n ${CURRENT}\t\n${PREVIOUS}  \n`, { clock: () => NOW, secrets });

    // Act
    const keys = await read();

    // Assess
    expect(keys).toEqual([CURRENT, PREVIOUS]);
    expect([...secrets]).toEqual([CURRENT, PREVIOUS]);
  });

  it('reads the secret again only once the cache time has passed', async () => {
    // Prepare
    let now = NOW;
    let reads = 0;
    const values = [PREVIOUS, CURRENT];
    const read = webhookKeysReader(async () => values[reads++] ?? '', { clock: () => now, secrets: new Set() });

    // Act
    const first = await read();
    now += WEBHOOK_SECRET_CACHE_MS - 1;
    const cached = await read();
    now += 1;
    const refreshed = await read();

    // Assess
    expect([first, cached, refreshed]).toEqual([[PREVIOUS], [PREVIOUS], [CURRENT]]);
    expect(reads).toBe(2);
  });

  it('shares one read between requests arriving together and throws when the read fails, keeping no old keys', async () => {
    // Prepare
    let now = NOW;
    let reads = 0;
    const read = webhookKeysReader(
      async () => {
        reads += 1;
        if (reads > 1) {
          throw new Error('PERMISSION_DENIED');
        }
        return CURRENT;
      },
      { clock: () => now, secrets: new Set() },
    );

    // Act
    const together = await Promise.all([read(), read()]);
    now += WEBHOOK_SECRET_CACHE_MS;
    const failed = read();

    // Assess
    expect(together).toEqual([[CURRENT], [CURRENT]]);
    await expect(failed).rejects.toThrow('PERMISSION_DENIED');
    expect(reads).toBe(2);
  });
});

describe('webhookAuthOf', () => {
  it('leaves authentication to the platform with webhook.auth iam (the default)', () => {
    // Act
    const auth = webhookAuthOf(config(), { clock: () => NOW, secrets: new Set(), read: async () => CURRENT });

    // Assess
    expect(auth).toBe('iam');
  });

  it('checks HMAC signatures against the keys in the named Secret Manager version, each signature once', async () => {
    // Prepare
    const names: string[] = [];
    const auth = webhookAuthOf(config({ auth: 'hmac', secret: { gcpSecretManager: WEBHOOK_SECRET } }), {
      clock: () => NOW,
      secrets: new Set(),
      read: async (name) => {
        names.push(name);
        return `${CURRENT} ${PREVIOUS}`;
      },
    });
    const signed = (key: string) => ({
      method: 'GET',
      path: '/health',
      headers: webhookSignatureHeaders(key, NOW, ''),
      body: new Uint8Array(0),
    });
    if (auth === 'iam') {
      throw new Error('expected an HMAC authenticator');
    }

    // Act
    const previous = await auth.authenticate(signed(PREVIOUS));
    const replayed = await auth.authenticate(signed(PREVIOUS));
    const forged = await auth.authenticate(signed('forged-key-0123456789abcdef0123456789abcdef'));

    // Assess
    expect([previous, replayed, forged]).toEqual([
      { accepted: true },
      { accepted: false, reason: 'replayed' },
      { accepted: false, reason: 'signature-mismatch' },
    ]);
    expect(names).toEqual([WEBHOOK_SECRET]);
  });

  it('refuses a webhook key in AWS Secrets Manager, which the GCP function cannot read', () => {
    // Act
    const build = () =>
      webhookAuthOf(config({ auth: 'hmac', secret: { awsSecretsManager: 'fleetplane/webhook' } }), {
        clock: () => NOW,
        secrets: new Set(),
        read: async () => CURRENT,
      });

    // Assess
    expect(build).toThrow(ConfigError);
  });
});
