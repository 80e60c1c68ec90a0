import type { WebhookSettings } from '../config/types.ts';
import type { Clock } from '../ports/clock.ts';
import { createHmacAuthenticator } from './hmac.ts';
import { createInMemoryReplayGuard } from './replay-guard.ts';
import type { WebhookAuth } from './router.ts';

/**
 * Milliseconds the webhook's keys are reused once read. Short, unlike the Sourcegraph token's cache: dropping a leaked
 * key from the secret should lock its holder out within a minute, and a key that cannot be read again is not kept on
 * (the request is refused with a 503), since authenticating with a key the store may have revoked fails open.
 */
export const WEBHOOK_SECRET_CACHE_MS = 60_000;

export interface WebhookKeyOptions {
  readonly clock: Clock;
  /** Every key read is added here, for the logger to scrub. */
  readonly secrets: Set<string>;
  readonly cacheMs?: number;
}

/**
 * The webhook keys: the secret's value split on white space (the current key, then the previous one while clients
 * move over), empty parts dropped, read again once the cache time has passed. Requests arriving together share one
 * read; a failed read throws rather than fall back on keys that may have been withdrawn.
 */
export function webhookKeysReader(
  read: () => Promise<string>,
  options: WebhookKeyOptions,
): () => Promise<readonly string[]> {
  const cacheMs = options.cacheMs ?? WEBHOOK_SECRET_CACHE_MS;
  let cached: { readonly keys: readonly string[]; readonly until: number } | undefined;
  let pending: Promise<readonly string[]> | undefined;
  const refresh = async (): Promise<readonly string[]> => {
    const keys = (await read()).split(/\s+/).filter((key) => key !== '');
    for (const key of keys) {
      options.secrets.add(key);
    }
    cached = { keys, until: options.clock() + cacheMs };
    return keys;
  };
  return async () => {
    if (cached !== undefined && options.clock() < cached.until) {
      return cached.keys;
    }
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/**
 * `iam`: the platform checked the caller before the code runs. `hmac`: every request is signed with a key read by
 * `read`. Signatures are remembered in this instance's memory, which suffices because the webhook runs one instance
 * at a time; a new instance refuses what was signed well before it started (`guardSince`), which an earlier one may
 * have taken.
 */
export function webhookAuthFor(
  settings: WebhookSettings,
  read: () => Promise<string>,
  options: WebhookKeyOptions,
): WebhookAuth {
  if (settings.auth === 'iam') {
    return 'iam';
  }
  return createHmacAuthenticator({
    secrets: webhookKeysReader(read, options),
    replayGuard: createInMemoryReplayGuard({ clock: options.clock }),
    guardSince: options.clock(),
    clock: options.clock,
    toleranceSeconds: settings.toleranceSeconds,
  });
}
