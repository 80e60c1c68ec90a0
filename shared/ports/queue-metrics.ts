import type { SeriesName } from '../domain/queues.ts';
import type { CallOptions } from './call-options.ts';

/** One point of the worker's queue-size metric. */
export interface QueueSizePoint {
  readonly series: SeriesName;
  readonly environment: string;
  /** A whole number of jobs (already multiplied by the allocation and truncated). */
  readonly value: number;
}

/** Writes the worker-identical queue-size series. Throws `MetricsPublishError` when the cloud refuses. */
export interface QueueMetricsSink {
  publish(points: readonly QueueSizePoint[], options?: CallOptions): Promise<void>;
}

/** The queue-size metric's resolution: the worker writes it as a standard-resolution (60-second) metric. */
export const METRIC_PERIOD_MS = 60_000;

/**
 * What one series held over a span: its maximum per 60-second period, keyed by the period's start (epoch ms). Empty
 * when nothing was published. A period says only that its value was seen somewhere within that minute.
 */
export type SeriesPeriods = ReadonlyMap<number, number>;

/** The period (its start, epoch ms) that `at` falls in. */
export function periodOf(at: number): number {
  return Math.floor(at / METRIC_PERIOD_MS) * METRIC_PERIOD_MS;
}

/**
 * Reads back what was published between `from` and `to` (epoch ms), per series, by period; a store that keeps whole
 * periods may include the one `from` falls in. Throws `MetricsReadError` when the read fails or is incomplete.
 */
export interface QueueSizeHistory {
  peaks(
    series: readonly SeriesName[],
    environment: string,
    from: number,
    to: number,
    options?: CallOptions,
  ): Promise<ReadonlyMap<SeriesName, SeriesPeriods>>;
}
