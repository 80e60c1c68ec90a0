/** The executor queues Sourcegraph serves; the multi-queue series joins their sorted names with `_`. */
export const QUEUE_NAMES = ['batches', 'codeintel'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** The `queueName` dimension of the worker's metric: one queue, or the sorted join for multi-queue fleets. */
export type SeriesName = 'batches' | 'codeintel' | 'batches_codeintel';

/** The three series the worker writes, in the order it registers its reporters. */
export const WORKER_SERIES: readonly SeriesName[] = ['codeintel', 'batches', 'batches_codeintel'];

export function isQueueName(value: unknown): value is QueueName {
  return typeof value === 'string' && (QUEUE_NAMES as readonly string[]).includes(value);
}

/** Sorted, de-duplicated join, as Sourcegraph and its Terraform modules derive a multi-queue name. */
export function seriesNameOf(queues: readonly QueueName[]): SeriesName {
  const unique = [...new Set(queues)].sort();
  if (unique.length === 0) {
    throw new RangeError('a series needs at least one queue');
  }
  return unique.join('_') as SeriesName;
}

/** The queues whose depth a series sums. */
export function queuesOf(series: SeriesName): readonly QueueName[] {
  return series.split('_') as QueueName[];
}
