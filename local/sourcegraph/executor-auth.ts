import type { EmulatorResponse } from '../http/emulator.ts';
import { plainText, sameSecret } from './auth.ts';

const SCHEME = 'token-executor';

/**
 * `GET /.executors/test/auth`: the one side-effect-free check that an executor secret is live. Mirrors the
 * frontend's executor-token middleware: 500 when no secret is configured, 401 with a reason for a malformed header,
 * 401 with an empty body for a wrong secret (nothing that would help guessing), 200 `ok` on a match.
 */
export function testExecutorAuth(header: string | undefined, expected: string): EmulatorResponse {
  if (expected === '') {
    return plainText(500, 'Executors are not configured on this instance');
  }
  let presented = '';
  if (header !== undefined && header !== '') {
    // Split on single spaces, as the real handler does: `token-executor  x` (two spaces) is three parts.
    const parts = header.split(' ');
    if (parts.length !== 2) {
      return plainText(401, `the Authorization header must look like '${SCHEME} TOKEN'`);
    }
    if (parts[0] !== SCHEME) {
      return plainText(401, `unsupported Authorization scheme (only "${SCHEME}" is accepted here)`);
    }
    presented = parts[1] ?? '';
  }
  if (presented === '') {
    return plainText(401, 'no token in the Authorization header');
  }
  if (!sameSecret(expected, presented)) {
    return { status: 401, headers: {}, body: '' };
  }
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' };
}
