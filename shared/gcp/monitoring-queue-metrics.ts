import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { chunk } from '../domain/chunk.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import type { QueueMetricsSink, QueueSizePoint } from '../ports/queue-metrics.ts';
import { describeGoogleError, isTransientGoogleError } from './google-errors.ts';
import { tooFrequentOnly } from './monitoring-rejections.ts';
import { MAX_SERIES_PER_REQUEST, projectName, QUEUE_SIZE_METRIC_TYPE } from './monitoring-series.ts';

export { createCloudMonitoringQueueHistory } from './monitoring-queue-history.ts';

/**
 * Milliseconds between two points this instance writes to one series. Cloud Monitoring refuses points of one series
 * closer than its sampling period (quoted as 5 s); the cycle polls every 10 s by default, so a longer default here
 * would skip every other cycle whenever two cycles land a few milliseconds closer than 10 s.
 */
export const DEFAULT_MIN_WRITE_INTERVAL_MS = 5_000;

export interface CloudMonitoringSinkOptions {
  /** `EXECUTOR_METRIC_GCP_PROJECT_ID`: the project the series is written to (and the `global` resource's label). */
  readonly projectId: string;
  /** The point's time: start = end = now, in whole seconds, as the worker writes it. */
  readonly clock: Clock;
  readonly minWriteIntervalMs?: number;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

export function createCloudMonitoringMetricsSink(client: MetricServiceClient, options: CloudMonitoringSinkOptions) {
  const name = projectName(options.projectId);
  const { projectId, clock } = options;
  const intervalMs = options.minWriteIntervalMs ?? DEFAULT_MIN_WRITE_INTERVAL_MS;
  /** Per series: the whole second of the last point this instance had accepted. */
  const lastWritten = new Map<string, number>();

  return {
    async publish(points: readonly QueueSizePoint[], callOptions: CallOptions = {}): Promise<void> {
      // Every point is checked before anything is sent, so bad input never leaves a batch half-published.
      const latest = collapse(points);
      const seconds = Math.floor(clock() / 1000);
      // Compared in whole seconds, as the API compares the points: 5.4 s of clock time can be 4 s between points.
      const due = [...latest].filter(([key]) => {
        const last = lastWritten.get(key);
        return last === undefined || (seconds - last) * 1000 >= intervalMs;
      });
      let sent = 0;
      for (const batch of chunk(due, MAX_SERIES_PER_REQUEST)) {
        const timeSeries = batch.map(([, point]) => toTimeSeries(point, projectId, seconds));
        let refused: ReadonlySet<number> = new Set();
        try {
          // gax cancels a call whose signal aborts; refusing here keeps a spent deadline from starting one at all.
          callOptions.signal?.throwIfAborted();
          await client.createTimeSeries({ name, timeSeries }, { signal: callOptions.signal });
        } catch (error) {
          const tooFrequent = tooFrequentOnly(error, batch.length);
          if (tooFrequent === undefined) {
            const progress = `${sent} of ${due.length} series were written`;
            throw new MetricsPublishError('createTimeSeries', `${describeGoogleError(error)} (${progress})`, {
              cause: error,
              retryable: isTransientGoogleError(error, callOptions.signal),
            });
          }
          refused = tooFrequent;
        }
        batch.forEach(([key], index) => {
          if (!refused.has(index)) {
            lastWritten.set(key, seconds);
          }
        });
        sent += batch.length;
      }
    },
  } satisfies QueueMetricsSink;
}

/**
 * One point per series: Cloud Monitoring takes one point per series per request, and a second request in the same
 * second is refused as too frequent. Several values for one series keep the highest: the series is read back as a
 * peak that holds scale-in, and a value too high only delays a scale-in while one too low could allow it early.
 */
function collapse(points: readonly QueueSizePoint[]): Map<string, QueueSizePoint> {
  const latest = new Map<string, QueueSizePoint>();
  for (const point of points) {
    const { series, environment, value } = point;
    // INT64 takes no NaN or ±Inf, and a negative or fractional job count is a bug upstream, not a metric.
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new MetricsPublishError(
        'createTimeSeries',
        `${series}/${environment}: ${value} is not a whole number >= 0`,
      );
    }
    if (environment === '') {
      throw new MetricsPublishError('createTimeSeries', `${series}: the environment label is empty`);
    }
    const key = JSON.stringify([series, environment]);
    const seen = latest.get(key);
    if (seen === undefined || seen.value < value) {
      latest.set(key, point);
    }
  }
  return latest;
}

/** Field for field what the worker's gcp_reporter.go writes; the descriptor is auto-created by the first write. */
function toTimeSeries(point: QueueSizePoint, projectId: string, seconds: number): TimeSeries {
  const at = { seconds, nanos: 0 };
  return {
    metric: { type: QUEUE_SIZE_METRIC_TYPE, labels: { queueName: point.series, environment: point.environment } },
    resource: { type: 'global', labels: { project_id: projectId } },
    metricKind: 'GAUGE',
    valueType: 'INT64',
    points: [{ interval: { startTime: at, endTime: at }, value: { int64Value: point.value } }],
  };
}
