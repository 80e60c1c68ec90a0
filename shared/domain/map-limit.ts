/**
 * `Promise.all(items.map(run))` with at most `limit` calls in flight: many groups at once, without tripping a cloud
 * API's rate limits. Results keep the order of `items`.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  // One iterator shared by every worker: each takes the next item as soon as it is free.
  const queue = items.entries();
  const worker = async () => {
    for (const [index, item] of queue) {
      results[index] = await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
