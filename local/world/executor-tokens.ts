/**
 * Sourcegraph's executor secret (`executors.accessToken`) over time, and what that says about a token an executor
 * presents. Sourcegraph accepts exactly one token at a time, with no grace period, and an empty one means executors
 * are not configured at all, so every executor is refused. The history is a step function: each change is in effect
 * from its `from` until the next one; changes made at the same moment apply in order, so that moment reads the last.
 * Before its first change the first one is taken to hold (it is the configuration Sourcegraph started with).
 */

export interface ExecutorTokenChange {
  /** The secret in effect from `from` on; `''`: none configured. */
  readonly token: string;
  /** Epoch ms, on the world's clock. */
  readonly from: number;
}

/** The secret Sourcegraph compared executors' tokens against at `at`. */
export function tokenInEffect(history: readonly ExecutorTokenChange[], at: number): string {
  return (history.findLast((change) => change.from <= at) ?? history[0])?.token ?? '';
}

/** Whether `token` (undefined: the executor found none) got past `/.executors/` at `at`. */
export function acceptedAt(history: readonly ExecutorTokenChange[], token: string | undefined, at: number): boolean {
  return token !== undefined && token !== '' && tokenInEffect(history, at) === token;
}

/** Whether `token` was accepted just before `at`: changes made at `at` itself not yet in effect. */
export function acceptedJustBefore(
  history: readonly ExecutorTokenChange[],
  token: string | undefined,
  at: number,
): boolean {
  const before = history.findLast((change) => change.from < at) ?? history[0];
  return token !== undefined && token !== '' && before?.token === token;
}

/**
 * The first moment at or after `since` at which Sourcegraph's answer to `token` is no longer `accepted`, as far as
 * the history goes; undefined when it stays so.
 */
export function nextAcceptanceChange(
  history: readonly ExecutorTokenChange[],
  token: string | undefined,
  since: number,
  accepted: boolean,
): number | undefined {
  return history.find((change) => change.from >= since && acceptedAt(history, token, change.from) !== accepted)?.from;
}

/**
 * From when `token` is no longer accepted: undefined while it is (at the history's end); the moment of the change
 * that ended its last period of acceptance; the history's start when it never was accepted.
 */
export function rejectedSince(history: readonly ExecutorTokenChange[], token: string): number | undefined {
  let accepted = false;
  let since = history[0]?.from ?? Number.NEGATIVE_INFINITY;
  for (const change of history) {
    const now = acceptedAt(history, token, change.from);
    if (accepted && !now) {
      since = change.from;
    }
    accepted = now;
  }
  return accepted ? undefined : since;
}
