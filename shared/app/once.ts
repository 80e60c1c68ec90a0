/**
 * Runs `start` at most once at a time and keeps its result. A failure is not kept: the next call starts again, so a
 * transient error at cold start (an SSM read, say) does not poison the container for its whole life.
 */
export function once<T>(start: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= start().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
