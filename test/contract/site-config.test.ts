import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../shared/config/secret.ts';
import { createInMemorySiteConfig } from '../../shared/fakes/index.ts';
import { SiteConfigRejectedError } from '../../shared/ports/site-config.ts';
import { defineSiteConfigContract, SITE_CONFIG, TOKEN_A } from './site-config.contract.ts';

defineSiteConfigContract('in-memory fake', () => {
  const fake = createInMemorySiteConfig({ contents: SITE_CONFIG });
  return {
    store: fake,
    executorAuth: fake.executorAuth,
    raw: () => fake.snapshot(),
    editElsewhere: () => fake.replace(fake.snapshot().contents.replace('sourcegraph.example.com', 'code.example.com')),
    setEditsAllowed: (allowed) => fake.setEditsAllowed(allowed),
  };
});

/** The control helpers the contract does not cover. */
describe('createInMemorySiteConfig helpers', () => {
  it('fails the next calls of one operation with the given error, counting every call, changing nothing', async () => {
    // Prepare
    const fake = createInMemorySiteConfig({ contents: SITE_CONFIG });
    const outage = new Error('injected: Sourcegraph is down');
    fake.failNext('update', outage, 2);
    const { id, contents } = await fake.read();

    // Act
    const first = fake.update(id, contents);
    const second = fake.update(id, contents);
    await expect(first).rejects.toBe(outage);
    await expect(second).rejects.toBe(outage);
    const third = await fake.update(id, contents);

    // Assess
    expect(third).toEqual({ restartRequired: false });
    expect(fake.calls).toEqual({ read: 1, update: 3, check: 0 });
    expect(fake.snapshot().id).toBe(id + 1);
  });

  it('injects executor check failures separately from the site configuration', async () => {
    // Prepare
    const fake = createInMemorySiteConfig({ contents: SITE_CONFIG });
    fake.failNext('check', new Error('injected: network'));

    // Act
    const failed = fake.executorAuth.check(new SecretValue(TOKEN_A));
    await expect(failed).rejects.toThrow('injected: network');
    const answered = await fake.executorAuth.check(new SecretValue(TOKEN_A));

    // Assess
    expect(answered).toBe('accepted');
    expect(fake.calls.check).toBe(2);
  });

  it('starts from a default configuration, a token written into it, and answers restartRequired as told', async () => {
    // Prepare
    const fake = createInMemorySiteConfig({ executorToken: TOKEN_A, restartRequired: true });
    const { id, contents } = await fake.read();

    // Act
    const result = await fake.update(id, contents);

    // Assess
    expect(contents).toContain('"executors.accessToken": "REDACTED"');
    expect(fake.executorToken()).toBe(TOKEN_A);
    expect(result).toEqual({ restartRequired: true });
  });

  it('leaves a configuration without a secret as it is on read, and unconfigured for executors', async () => {
    // Prepare
    const fake = createInMemorySiteConfig();

    // Act
    const read = await fake.read();
    const check = await fake.executorAuth.check(new SecretValue(TOKEN_A));

    // Assess
    expect(read.contents).toBe(fake.snapshot().contents);
    expect(check).toBe('not-configured');
  });

  it('refuses a top-level value that is not an object, and setup input that is not JSONC or counts', async () => {
    // Prepare
    const fake = createInMemorySiteConfig({ contents: SITE_CONFIG });
    const { id } = await fake.read();

    // Act
    const array = fake.update(id, '[]');

    // Assess
    await expect(array).rejects.toBeInstanceOf(SiteConfigRejectedError);
    expect(() => createInMemorySiteConfig({ contents: '{' })).toThrow(RangeError);
    expect(() => fake.replace('not json')).toThrow(RangeError);
    expect(() => fake.failNext('read', new Error('x'), 0)).toThrow(RangeError);
  });
});
