import type { Clock } from '../ports/clock.ts';
import type { SecretSource } from './secret.ts';

/** Milliseconds a token read from a secret store is reused: a rotated token is picked up within this time. */
export const TOKEN_CACHE_MS = 5 * 60_000;

/**
 * The Sourcegraph token as the transport reads it before each request: the configured value, or the secret store's
 * current value, re-read at most every `TOKEN_CACHE_MS`. Every value is registered for log scrubbing.
 */
export function tokenReader(
  source: SecretSource,
  options: { readonly clock: Clock; readonly secrets: Set<string>; readonly readStore: () => Promise<string> },
): () => Promise<string> {
  if (source.kind === 'value') {
    const token = source.value.reveal();
    options.secrets.add(token);
    return async () => token;
  }
  let cached: { token: string; readAt: number } | undefined;
  return async () => {
    if (cached === undefined || options.clock() - cached.readAt > TOKEN_CACHE_MS) {
      const token = (await options.readStore()).trim();
      options.secrets.add(token);
      cached = { token, readAt: options.clock() };
    }
    return cached.token;
  };
}
