import { createHash, timingSafeEqual } from 'node:crypto';
import type { EmulatorResponse } from '../http/emulator.ts';

/** An access token the emulated instance knows, and whether its user is a site admin. */
export interface AccessToken {
  readonly token: string;
  readonly siteAdmin: boolean;
}

/** Who a GraphQL request runs as. */
export interface Viewer {
  readonly siteAdmin: boolean;
}

export type Authentication =
  | { readonly ok: true; readonly viewer: Viewer }
  | { readonly ok: false; readonly response: EmulatorResponse };

/**
 * `Authorization: token <access token>`, as the frontend's access-token middleware reads it. The instance is private,
 * so an anonymous request is refused too. `token-sudo` is not emulated: the product never impersonates.
 */
export function authenticate(header: string | undefined, tokens: readonly AccessToken[]): Authentication {
  if (header === undefined || header.trim() === '') {
    return refused('Private mode requires authentication.');
  }
  const match = /^token\s+(\S+)$/i.exec(header.trim());
  const presented = match?.[1];
  if (presented === undefined) {
    return refused('Invalid Authorization header.');
  }
  const known = tokens.find((candidate) => sameSecret(candidate.token, presented));
  return known === undefined ? refused('Invalid access token.') : { ok: true, viewer: { siteAdmin: known.siteAdmin } };
}

/**
 * Constant-time equality that does not leak the expected length either: both sides are hashed to 32 bytes first,
 * because `timingSafeEqual` itself throws on a length mismatch.
 */
export function sameSecret(expected: string, presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(presented));
}

/** A plain-text error the way Go's `http.Error` writes one. */
export function plainText(status: number, message: string): EmulatorResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: message === '' ? '' : `${message}\n`,
  };
}

function refused(message: string): Authentication {
  return { ok: false, response: plainText(401, message) };
}
