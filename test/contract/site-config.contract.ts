import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../shared/config/secret.ts';
import type { ExecutorAuthCheck } from '../../shared/ports/executor-auth.ts';
import {
  SiteConfigConflictError,
  SiteConfigReadOnlyError,
  SiteConfigRejectedError,
  type SiteConfigSnapshot,
  type SiteConfigStore,
} from '../../shared/ports/site-config.ts';

export const TOKEN_A = 'executor-token-a-0123456789abcdefghij';
export const TOKEN_B = 'executor-token-b-9876543210zyxwvutsrq';

/** A configuration with comments, a trailing comma and keys on both sides of the secret: every byte must survive. */
export const SITE_CONFIG = `{
  // Where users reach the instance.
  "externalURL": "https://sourcegraph.example.com",
  /* Executors */
  "executors.accessToken": "${TOKEN_A}", // rotated by fleetplane
  "codeIntelAutoIndexing.enabled": true,
}
`;

export interface SiteConfigSubject {
  readonly store: SiteConfigStore;
  /** The executor check of the same instance. */
  readonly executorAuth: ExecutorAuthCheck;
  /** What the instance holds, secrets included, and its revision. */
  raw(): SiteConfigSnapshot;
  /** An admin saves a change elsewhere: a new revision. */
  editElsewhere(): void | Promise<void>;
  /** `false`: the configuration is file-managed. */
  setEditsAllowed(allowed: boolean): void | Promise<void>;
  close?(): Promise<void>;
}

/**
 * What the Sourcegraph adapter and the in-memory fake do alike (style.md #12). `makeSubject` starts an instance whose
 * configuration is `SITE_CONFIG`, edits allowed.
 */
export function defineSiteConfigContract(
  name: string,
  makeSubject: () => SiteConfigSubject | Promise<SiteConfigSubject>,
): void {
  describe(`SiteConfigStore contract: ${name}`, () => {
    let subject: SiteConfigSubject;
    let store: SiteConfigStore;
    beforeEach(async () => {
      subject = await makeSubject();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close?.();
    });
    const withToken = (contents: string, token: string) =>
      contents.replace('"executors.accessToken": "REDACTED"', `"executors.accessToken": ${JSON.stringify(token)}`);

    it('reads the configuration as stored, the executor secret REDACTED, with its revision', async () => {
      // Act
      const read = await store.read();

      // Assess
      expect(read).toEqual({ id: subject.raw().id, contents: SITE_CONFIG.replace(TOKEN_A, 'REDACTED') });
      expect(read.contents).not.toContain(TOKEN_A);
    });

    it('writes a new secret over the revision read, every other byte kept', async () => {
      // Prepare
      const before = await store.read();

      // Act
      const result = await store.update(before.id, withToken(before.contents, TOKEN_B));
      const after = await store.read();

      // Assess
      expect(result).toEqual({ restartRequired: expect.any(Boolean) });
      expect(subject.raw().contents).toBe(SITE_CONFIG.replace(TOKEN_A, TOKEN_B));
      expect(after.id).toBeGreaterThan(before.id);
      expect(after.contents).toBe(before.contents);
    });

    it('keeps the current secret when REDACTED is sent back, and still makes a new revision', async () => {
      // Prepare
      const before = await store.read();
      const changed = before.contents.replace(
        '"codeIntelAutoIndexing.enabled": true',
        '"codeIntelAutoIndexing.enabled": false',
      );

      // Act
      await store.update(before.id, changed);

      // Assess
      expect(subject.raw().contents).toBe(SITE_CONFIG.replace('true', 'false'));
      expect((await store.read()).id).toBeGreaterThan(before.id);
    });

    it('refuses a stale lastID with SiteConfigConflictError, writing nothing; a fresh read then succeeds', async () => {
      // Prepare
      const stale = await store.read();
      await subject.editElsewhere();
      const edited = subject.raw();

      // Act
      const refused = store.update(stale.id, withToken(stale.contents, TOKEN_B));
      await expect(refused).rejects.toBeInstanceOf(SiteConfigConflictError);
      const fresh = await store.read();
      await store.update(fresh.id, withToken(fresh.contents, TOKEN_B));

      // Assess
      await expect(refused).rejects.toMatchObject({ name: 'SiteConfigConflictError', lastID: stale.id });
      expect(fresh.id).toBe(edited.id);
      expect(subject.raw().contents).toBe(withToken(edited.contents.replace(TOKEN_A, 'REDACTED'), TOKEN_B));
    });

    it('refuses every edit of a file-managed configuration, stale or not, with SiteConfigReadOnlyError', async () => {
      // Prepare
      const read = await store.read();
      await subject.setEditsAllowed(false);

      // Act
      const current = store.update(read.id, withToken(read.contents, TOKEN_B));
      const stale = store.update(read.id - 1, withToken(read.contents, TOKEN_B));

      // Assess: the read-only check comes first, so retrying after a re-read would not help either
      await expect(current).rejects.toBeInstanceOf(SiteConfigReadOnlyError);
      await expect(stale).rejects.toBeInstanceOf(SiteConfigReadOnlyError);
      expect(subject.raw()).toEqual({ id: read.id, contents: SITE_CONFIG });
    });

    it.each([
      ['blank', ' \n\t'],
      ['not JSONC', '{ "externalURL": "https://sourcegraph.example.com", '],
    ])('refuses %s text with SiteConfigRejectedError, writing nothing', async (_case, text) => {
      // Prepare
      const read = await store.read();

      // Act
      const refused = store.update(read.id, text);

      // Assess
      await expect(refused).rejects.toBeInstanceOf(SiteConfigRejectedError);
      expect(subject.raw()).toEqual({ id: read.id, contents: SITE_CONFIG });
    });

    it('writes nothing once the deadline has passed', async () => {
      // Prepare
      const read = await store.read();

      // Act
      const late = store.update(read.id, withToken(read.contents, TOKEN_B), { signal: AbortSignal.abort() });

      // Assess
      await expect(late).rejects.toBeInstanceOf(Error);
      expect(subject.raw()).toEqual({ id: read.id, contents: SITE_CONFIG });
    });

    it('moves the executor check with the secret: only the token written is accepted, none once it is removed', async () => {
      // Prepare
      const check = (token: string) => subject.executorAuth.check(new SecretValue(token));
      const before = [await check(TOKEN_A), await check(TOKEN_B)];
      const first = await store.read();

      // Act
      await store.update(first.id, withToken(first.contents, TOKEN_B));
      const rotated = [await check(TOKEN_A), await check(TOKEN_B)];
      const second = await store.read();
      await store.update(second.id, second.contents.replace(/^.*executors\.accessToken.*\n/m, ''));
      const removed = await check(TOKEN_B);

      // Assess: one token at a time, no grace period for the old one
      expect(before).toEqual(['accepted', 'rejected']);
      expect(rotated).toEqual(['rejected', 'accepted']);
      expect(removed).toBe('not-configured');
    });
  });
}
