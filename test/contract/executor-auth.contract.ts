import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../shared/config/secret.ts';
import { type ExecutorAuthCheck, ExecutorAuthCheckError } from '../../shared/ports/executor-auth.ts';

const CURRENT = 'current-executor-token-0123456789abcdef';
const OTHER = 'another-executor-token-fedcba9876543210';

export interface ExecutorAuthSubject {
  readonly check: ExecutorAuthCheck;
  /** Sourcegraph's `executors.accessToken` from now on; `''` leaves executors unconfigured. */
  setToken(token: string): void | Promise<void>;
  close?(): Promise<void>;
}

/** What the Sourcegraph adapter and the in-memory fake answer alike. `makeSubject` starts with no token configured. */
export function defineExecutorAuthContract(
  name: string,
  makeSubject: () => ExecutorAuthSubject | Promise<ExecutorAuthSubject>,
): void {
  describe(`ExecutorAuthCheck contract: ${name}`, () => {
    let subject: ExecutorAuthSubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });
    afterEach(async () => {
      await subject.close?.();
    });
    const check = (token: string, signal?: AbortSignal) =>
      subject.check.check(new SecretValue(token), signal === undefined ? {} : { signal });

    it('accepts the configured token', async () => {
      // Prepare
      await subject.setToken(CURRENT);

      // Act
      const result = await check(CURRENT);

      // Assess
      expect(result).toBe('accepted');
    });

    it('rejects any other token, one that only starts or ends like it included', async () => {
      // Prepare
      await subject.setToken(CURRENT);

      // Act
      const results = [await check(OTHER), await check(CURRENT.slice(0, -1)), await check(`${CURRENT}x`)];

      // Assess
      expect(results).toEqual(['rejected', 'rejected', 'rejected']);
    });

    it('says not-configured when no token is configured, whatever is presented', async () => {
      // Prepare
      await subject.setToken('');

      // Act
      const result = await check(CURRENT);

      // Assess
      expect(result).toBe('not-configured');
    });

    it('answers from the configuration at the time of asking: the old token stops working at once', async () => {
      // Prepare
      await subject.setToken(CURRENT);
      const before = await check(CURRENT);

      // Act
      await subject.setToken(OTHER);
      const after = [await check(CURRENT), await check(OTHER)];

      // Assess
      expect(before).toBe('accepted');
      expect(after).toEqual(['rejected', 'accepted']);
    });

    it.each([
      ['empty', ''],
      ['with a space', 'token with-a-space-0123456789'],
      ['with a line break', 'token-with-a-line\nbreak-0123456789'],
      ['not ASCII', 'tokén-not-ascii-0123456789abcdef'],
    ])('refuses a token no executor could present (%s) without asking, and does not quote it', async (_case, token) => {
      // Prepare
      await subject.setToken(CURRENT);

      // Act
      const refused = check(token);

      // Assess
      await expect(refused).rejects.toBeInstanceOf(ExecutorAuthCheckError);
      await expect(refused).rejects.toMatchObject({ kind: 'invalid-token', retryable: false });
      const error: unknown = await refused.catch((caught: unknown) => caught);
      expect(token === '' || !String(error).includes(token)).toBe(true);
    });

    it('throws a deadline error, asking nothing, once the time budget has run out', async () => {
      // Prepare
      await subject.setToken(CURRENT);

      // Act
      const late = check(CURRENT, AbortSignal.abort(new Error('budget spent')));

      // Assess
      await expect(late).rejects.toMatchObject({ name: 'ExecutorAuthCheckError', kind: 'deadline' });
    });
  });
}
