import type { Clock } from '../ports/clock.ts';

/**
 * Remembers which signatures have been used, so a captured request cannot be sent again while its timestamp is still
 * inside the tolerance window. A key only needs remembering until `expiresAt`: after that the timestamp check alone
 * refuses it.
 */
export interface ReplayGuard {
  /**
   * Records `key` as used until `expiresAt` (epoch milliseconds). Resolves `true` the first time and `false` while an
   * earlier claim still holds. Throws when it cannot tell (a shared store is down, the in-memory guard is full): the
   * caller must then refuse the request, since accepting it could accept a replay.
   */
  claim(key: string, expiresAt: number): Promise<boolean>;
}

/**
 * Signatures held at once by default. Only a correctly signed request adds an entry, so only a secret holder can fill
 * the guard; at a few hundred bytes an entry this is a few MB at most, and it admits a sustained 16 signed requests a
 * second (an entry lives at most twice the 300 s tolerance).
 */
export const DEFAULT_REPLAY_GUARD_CAPACITY = 10_000;

/** The in-memory guard holds `capacity` live signatures and refuses to forget one early to make room. */
export class ReplayGuardFullError extends Error {
  override readonly name = 'ReplayGuardFullError';
  /** Seconds until the earliest held signature expires and frees a slot. */
  readonly retryAfterSeconds: number;

  constructor(capacity: number, retryAfterSeconds: number) {
    super(`the replay guard already holds ${capacity} unexpired signatures; it frees one in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface InMemoryReplayGuardOptions {
  readonly clock: Clock;
  readonly capacity?: number;
}

export interface InMemoryReplayGuard extends ReplayGuard {
  /** Signatures held right now, expired ones included until the next sweep. */
  size(): number;
}

/**
 * A replay guard in this instance's memory. It protects one warm instance only: a function scaled out to several
 * instances, or a fresh instance after a cold start, has never seen the signature and accepts it once more while the
 * timestamp is fresh. Closing that gap needs a guard shared by all instances (a conditional write with a TTL).
 *
 * `claim` does all its work synchronously, so concurrent claims of one key in the same instance cannot both win.
 */
export function createInMemoryReplayGuard(options: InMemoryReplayGuardOptions): InMemoryReplayGuard {
  const capacity = options.capacity ?? DEFAULT_REPLAY_GUARD_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`replay guard capacity must be a positive integer, got ${capacity}`);
  }
  const held = new Map<string, number>();
  // The earliest expiry among held keys: sweeping only once something has expired keeps claims O(1) between sweeps.
  let earliestExpiry = Number.POSITIVE_INFINITY;

  const sweep = (now: number) => {
    earliestExpiry = Number.POSITIVE_INFINITY;
    for (const [key, expiresAt] of held) {
      if (expiresAt <= now) {
        held.delete(key);
      } else {
        earliestExpiry = Math.min(earliestExpiry, expiresAt);
      }
    }
  };

  return {
    async claim(key, expiresAt) {
      const now = options.clock();
      if (now >= earliestExpiry || held.size >= capacity) {
        sweep(now);
      }
      const previous = held.get(key);
      if (previous !== undefined && previous > now) {
        return false;
      }
      if (expiresAt <= now) {
        // Already outside its window: nothing left to guard against, and nothing worth holding memory for.
        return true;
      }
      if (previous === undefined && held.size >= capacity) {
        throw new ReplayGuardFullError(capacity, Math.max(1, Math.ceil((earliestExpiry - now) / 1000)));
      }
      held.set(key, expiresAt);
      earliestExpiry = Math.min(earliestExpiry, expiresAt);
      return true;
    },
    size: () => held.size,
  };
}
