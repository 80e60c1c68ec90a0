export interface Once<T> {
  (): Promise<T>;
  /** The value once it has been built, without starting anything: for paths that must not retry a failed start. */
  readonly value: () => T | undefined;
}

/**
 * Runs `start` at most once at a time and keeps its result. A failure is not kept: the next call starts again, so a
 * transient error at cold start (an SSM read, say) does not poison the container for its whole life.
 */
export function once<T>(start: () => Promise<T>): Once<T> {
  let pending: Promise<T> | undefined;
  let settled: T | undefined;
  const run = () => {
    pending ??= start().then(
      (result) => {
        settled = result;
        return result;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
  return Object.assign(run, { value: () => settled });
}
