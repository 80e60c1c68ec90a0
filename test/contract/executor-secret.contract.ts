import { beforeEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../shared/config/secret.ts';
import { SecretStoreError } from '../../shared/ports/errors.ts';
import type { ExecutorSecretStore } from '../../shared/ports/executor-secret.ts';

/** Rotation ids are Secrets Manager client request tokens: UUIDs. */
const FIRST = '11111111-2222-4333-8444-555555555555';
const SECOND = '66666666-7777-4888-8999-aaaaaaaaaaaa';
const OLD = 'old-token-aaaaaaaaaaaaaaaaaaaa';
const NEW = 'new-token-bbbbbbbbbbbbbbbbbbbb';

/** What every executor secret store and the in-memory fake do alike. `makeSubject` seeds a current value. */
export function defineExecutorSecretContract(
  name: string,
  makeSubject: (current: string | undefined) => Promise<ExecutorSecretStore>,
): void {
  describe(`ExecutorSecretStore contract: ${name}`, () => {
    let store: ExecutorSecretStore;
    beforeEach(async () => {
      store = await makeSubject(OLD);
    });
    const reveal = (version: { value: SecretValue } | undefined) => version?.value.reveal();

    it('stages a token as pending without touching the current one', async () => {
      // Act
      const staged = await store.stage(FIRST, new SecretValue(NEW));

      // Assess
      expect(staged.versionId).toBe(FIRST);
      expect(reveal(await store.staged(FIRST))).toBe(NEW);
      expect(reveal(await store.current())).toBe(OLD);
      expect(await store.pendingRotation()).toBe(FIRST);
    });

    it('answers a rotation staged again with what it staged first', async () => {
      // Prepare
      await store.stage(FIRST, new SecretValue(NEW));

      // Act
      const again = await store.stage(FIRST, new SecretValue('another-token-cccccccccccccc'));

      // Assess
      expect(reveal(again)).toBe(NEW);
      expect(reveal(await store.staged(FIRST))).toBe(NEW);
    });

    it('promotes the staged token to current, once however often asked, leaving no rotation pending', async () => {
      // Prepare
      await store.stage(FIRST, new SecretValue(NEW));

      // Act
      await store.promote(FIRST);
      await store.promote(FIRST);

      // Assess
      expect(reveal(await store.current())).toBe(NEW);
      expect(await store.pendingRotation()).toBeUndefined();
      expect(reveal(await store.staged(FIRST))).toBe(NEW);
    });

    it('knows nothing of a rotation that staged nothing, and refuses to promote it', async () => {
      // Act
      const staged = await store.staged(SECOND);
      const promotion = store.promote(SECOND).catch((error: unknown) => error);

      // Assess
      expect(staged).toBeUndefined();
      expect(await promotion).toBeInstanceOf(SecretStoreError);
      expect(reveal(await store.current())).toBe(OLD);
    });

    it('starts a secret that has no current version yet', async () => {
      // Prepare
      store = await makeSubject(undefined);

      // Act
      const before = await store.current();
      await store.stage(FIRST, new SecretValue(NEW));
      await store.promote(FIRST);

      // Assess
      expect(before).toBeUndefined();
      expect(reveal(await store.current())).toBe(NEW);
    });

    it('never puts a value in an error message', async () => {
      // Prepare
      await store.stage(FIRST, new SecretValue(NEW));

      // Act
      const error = await store.promote(SECOND).catch((caught: unknown) => caught);

      // Assess
      expect(String(error)).not.toContain(NEW);
      expect(String(error)).not.toContain(OLD);
    });
  });
}
