import type { SeriesName } from '../domain/queues.ts';

/** One point of the worker's queue-size metric. */
export interface QueueSizePoint {
  readonly series: SeriesName;
  readonly environment: string;
  /** A whole number of jobs (already multiplied by the allocation and truncated). */
  readonly value: number;
}

/** Writes the worker-identical queue-size series. Throws `MetricsPublishError` when the cloud refuses. */
export interface QueueMetricsSink {
  publish(points: readonly QueueSizePoint[]): Promise<void>;
}

/**
 * Reads back what was published: the highest value of each series between `from` and `to` (epoch ms). A series with
 * no datapoint in that span maps to `undefined`. Throws `MetricsReadError` when the read fails.
 */
export interface QueueSizeHistory {
  peaks(
    series: readonly SeriesName[],
    environment: string,
    from: number,
    to: number,
  ): Promise<ReadonlyMap<SeriesName, number | undefined>>;
}
