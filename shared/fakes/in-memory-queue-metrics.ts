import type { SeriesName } from '../domain/queues.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { MetricsPublishError, MetricsReadError } from '../ports/errors.ts';
import { periodOf, type QueueMetricsSink, type QueueSizeHistory, type QueueSizePoint } from '../ports/queue-metrics.ts';
import { throwIfAborted } from './abort.ts';

/** A published point with the time the store received it (like CloudWatch's receive time: no client timestamp). */
export interface RecordedPoint extends QueueSizePoint {
  /** Epoch milliseconds. */
  readonly at: number;
}

export interface InMemoryQueueMetricsOptions {
  /** Stamps published points; the simulator and tests drive it. */
  readonly clock?: Clock;
}

export interface InMemoryQueueMetrics extends QueueMetricsSink, QueueSizeHistory {
  /** Everything published so far, oldest first. */
  points(): readonly RecordedPoint[];
  /** Stores a point at an explicit time, e.g. history from before a simulation starts. Validated like `publish`. */
  record(point: QueueSizePoint, at: number): void;
  /** The next `times` publishes throw `error` (default: a retryable MetricsPublishError) and store nothing. */
  failPublishes(times?: number, error?: Error): void;
  /** The next `times` peak reads throw `error` (default: a retryable MetricsReadError). */
  failReads(times?: number, error?: Error): void;
  /** Calls made, failed ones included. */
  readonly calls: { readonly publish: number; readonly peaks: number };
  clear(): void;
}

/**
 * Both sides of the queue-size metric over one list, so what a cycle publishes is what the next one reads back. It
 * refuses what CloudWatch refuses (non-finite values, empty dimensions) and what the port forbids (negative or
 * fractional job counts), so code tested against it does not pass here and fail in the cloud.
 */
export function createInMemoryQueueMetrics(options: InMemoryQueueMetricsOptions = {}): InMemoryQueueMetrics {
  const clock = options.clock ?? systemClock;
  const stored: RecordedPoint[] = [];
  const calls = { publish: 0, peaks: 0 };
  let publishFailures: { remaining: number; error: Error | undefined } = { remaining: 0, error: undefined };
  let readFailures: { remaining: number; error: Error | undefined } = { remaining: 0, error: undefined };

  return {
    calls,
    async publish(points, options = {}) {
      calls.publish += 1;
      throwIfAborted(options.signal, 'publish');
      if (publishFailures.remaining > 0) {
        publishFailures.remaining -= 1;
        throw publishFailures.error ?? new MetricsPublishError('publish', 'injected failure', { retryable: true });
      }
      const now = clock();
      // All or nothing, as the adapter validates the whole batch before sending any of it.
      const accepted = points.map((point) => validated(point, now));
      stored.push(...accepted);
    },
    async peaks(series: readonly SeriesName[], environment: string, from: number, to: number, options = {}) {
      calls.peaks += 1;
      throwIfAborted(options.signal, 'peaks');
      if (readFailures.remaining > 0) {
        readFailures.remaining -= 1;
        throw readFailures.error ?? new MetricsReadError('peaks', 'injected failure', { retryable: true });
      }
      if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
        throw new MetricsReadError('peaks', `invalid window [${from}, ${to}]`);
      }
      // Each series' maximum per 60-second period, as the cloud stores the worker's metric.
      const byPeriod = new Map<SeriesName, Map<number, number>>(series.map((name) => [name, new Map()]));
      for (const point of stored) {
        const periods = byPeriod.get(point.series);
        if (point.environment !== environment || periods === undefined || point.at < from || point.at > to) {
          continue;
        }
        const period = periodOf(point.at);
        periods.set(period, Math.max(periods.get(period) ?? point.value, point.value));
      }
      return byPeriod;
    },
    points: () => [...stored],
    record(point, at) {
      stored.push(validated(point, at));
      stored.sort((a, b) => a.at - b.at);
    },
    failPublishes(times = 1, error) {
      publishFailures = { remaining: times, error };
    },
    failReads(times = 1, error) {
      readFailures = { remaining: times, error };
    },
    clear() {
      stored.length = 0;
    },
  };
}

function validated(point: QueueSizePoint, at: number): RecordedPoint {
  const { series, environment, value } = point;
  if (!Number.isInteger(value) || value < 0) {
    throw new MetricsPublishError('publish', `${series}/${environment}: ${value} is not a whole number >= 0`);
  }
  if (environment === '') {
    throw new MetricsPublishError('publish', `${series}: the environment dimension is empty`);
  }
  return { series, environment, value, at };
}
