import { describe, expect, it } from 'vitest';
import { AWSCURRENT, createSecretStore as createAwsStore } from '../../../local/aws/secrets-store.ts';
import { createSecretStore as createGcpStore } from '../../../local/gcp/secret-store.ts';

/** What an executor reads at boot, at a moment that may be in the past (the world replaying a launch). */

const OLD = 'old-executor-shared-secret-000';
const NEW = 'new-executor-shared-secret-111';

describe('Secrets Manager store: AWSCURRENT over time', () => {
  it('answers what AWSCURRENT held at each moment, a staged version only once it is current', () => {
    // Prepare
    const time = { now: 1_000 };
    const store = createAwsStore({ region: 'us-east-1', clock: () => time.now });
    const secret = store.create('executor-token', undefined);
    store.addVersion(secret, 'v1', { string: OLD }, [AWSCURRENT]);

    // Act: a pending version at 2 000, made current at 3 000
    time.now = 2_000;
    const pending = store.addVersion(secret, 'v2', { string: NEW }, ['AWSPENDING']);
    time.now = 3_000;
    store.attach(secret, pending, AWSCURRENT);

    // Assess
    expect(store.currentStringAt('executor-token', 999)).toBeUndefined();
    expect(store.currentStringAt('executor-token', 2_500)).toBe(OLD);
    expect(store.currentStringAt(secret.arn, 3_000)).toBe(NEW);
    expect(store.currentStringAt('missing', 3_000)).toBeUndefined();
  });
});

describe('Secret Manager store: the current version over time', () => {
  it('takes the newest enabled version until the `current` alias exists, then the version it names', () => {
    // Prepare
    const time = { now: 1_000 };
    const store = createGcpStore(() => time.now);
    const name = 'projects/p/secrets/executor-token';
    store.create(name);
    store.add(name, Buffer.from(OLD), undefined);

    // Act
    time.now = 2_000;
    store.add(name, Buffer.from(NEW), undefined);
    time.now = 3_000;
    store.update(name, { paths: ['version_aliases'], etag: undefined, versionAliases: { current: '1' } });
    time.now = 4_000;
    store.transition(name, '1', 'DISABLED', undefined);

    // Assess
    expect(store.currentValueAt(name, 1_500)).toBe(OLD);
    expect(store.currentValueAt(name, 2_000)).toBe(NEW);
    expect(store.currentValueAt(name, 3_500)).toBe(OLD);
    // The alias names a version that cannot be read: the executor gets nothing.
    expect(store.currentValueAt(name, 4_000)).toBeUndefined();
  });
});
