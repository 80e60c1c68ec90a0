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

/** What one series held over a span, by 60-second period (the resolution the worker's metric is stored at). */
export interface SeriesHistory {
  /** The highest value published in the span. */
  readonly peak: number;
  /** Periods with at least one datapoint: with `newest`, tells a well-covered window from a gappy one. */
  readonly periods: number;
  /** Epoch ms of the start of the newest period with data. */
  readonly newest: number;
}

/** A series' history from its maximum per 60-second period (period start in epoch ms → value); none when empty. */
export function historyOfPeriods(byPeriod: ReadonlyMap<number, number> | undefined): SeriesHistory | undefined {
  if (byPeriod === undefined || byPeriod.size === 0) {
    return undefined;
  }
  return { peak: Math.max(...byPeriod.values()), periods: byPeriod.size, newest: Math.max(...byPeriod.keys()) };
}

/**
 * Reads back what was published between `from` and `to` (epoch ms), per series. A series with no datapoint in that
 * span maps to `undefined`. Throws `MetricsReadError` when the read fails or is incomplete.
 */
export interface QueueSizeHistory {
  peaks(
    series: readonly SeriesName[],
    environment: string,
    from: number,
    to: number,
    options?: CallOptions,
  ): Promise<ReadonlyMap<SeriesName, SeriesHistory | undefined>>;
}
