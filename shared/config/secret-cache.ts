import type { Clock } from '../ports/clock.ts';
import type { SecretSource } from './secret.ts';

/** Milliseconds a token read from a secret store is reused: a rotated token is picked up within this time. */
export const TOKEN_CACHE_MS = 5 * 60_000;
/** Milliseconds one re-read may take: it runs before a Sourcegraph request, inside the cycle's time budget. */
export const TOKEN_READ_TIMEOUT_MS = 5_000;
/** Milliseconds a token may be kept past its refresh while the store cannot be read; then reads fail for real. */
export const TOKEN_MAX_STALE_MS = 60 * 60_000;
/** Milliseconds before a failed refresh is tried again. */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface TokenReaderOptions {
  readonly clock: Clock;
  readonly secrets: Set<string>;
  readonly readStore: () => Promise<string>;
  /** Told when a refresh failed and the cached token is used on. */
  readonly onStale?: (error: unknown) => void;
}

/**
 * The Sourcegraph token as the transport reads it before each request: the configured value, or the secret store's
 * value, refreshed at most every `TOKEN_CACHE_MS`. A slow or failing store does not stop scaling: a refresh is
 * bounded in time, and a failed one keeps the token in hand for up to `TOKEN_MAX_STALE_MS` (Sourcegraph itself says
 * 401 if it really changed). Every value is registered for log scrubbing.
 */
export function tokenReader(source: SecretSource, options: TokenReaderOptions): () => Promise<string> {
  if (source.kind === 'value') {
    const token = source.value.reveal();
    options.secrets.add(token);
    return async () => token;
  }
  let cached: { token: string; readAt: number; refreshAt: number } | undefined;
  return async () => {
    const now = options.clock();
    if (cached !== undefined && now < cached.refreshAt) {
      return cached.token;
    }
    try {
      const token = (await withTimeout(options.readStore(), TOKEN_READ_TIMEOUT_MS)).trim();
      options.secrets.add(token);
      cached = { token, readAt: now, refreshAt: now + TOKEN_CACHE_MS };
    } catch (error) {
      if (cached === undefined || now - cached.readAt > TOKEN_MAX_STALE_MS) {
        throw error;
      }
      options.onStale?.(error);
      cached = { ...cached, refreshAt: now + RETRY_AFTER_FAILURE_MS };
    }
    return cached.token;
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the secret store did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
