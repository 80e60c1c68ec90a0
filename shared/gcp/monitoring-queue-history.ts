import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import type { SeriesName } from '../domain/queues.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsReadError } from '../ports/errors.ts';
import { periodOf, type QueueSizeHistory, type SeriesPeriods } from '../ports/queue-metrics.ts';
import { quoted } from './filter-value.ts';
import { describeGoogleError, GrpcCode, grpcCode, isTransientGoogleError } from './google-errors.ts';
import { projectName, QUEUE_SIZE_METRIC_TYPE } from './monitoring-series.ts';

export interface CloudMonitoringHistoryOptions {
  readonly projectId: string;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

/**
 * Reads raw points (view FULL, no aggregation) and buckets them by epoch-aligned 60 s periods here. Server-side
 * alignment would anchor periods at the window's end, so the same point would fall in different periods from one
 * read to the next; local buckets are stable, and cost nothing at one point per series every few seconds.
 */
export function createCloudMonitoringQueueHistory(client: MetricServiceClient, options: CloudMonitoringHistoryOptions) {
  const name = projectName(options.projectId);
  return {
    async peaks(
      series: readonly SeriesName[],
      environment: string,
      from: number,
      to: number,
      callOptions: CallOptions = {},
    ): Promise<ReadonlyMap<SeriesName, SeriesPeriods>> {
      const wanted = new Set(series);
      const found = await listSeries(
        client,
        { name, metricType: QUEUE_SIZE_METRIC_TYPE, environment, from, to },
        callOptions,
      );
      const byPeriod = new Map<string, Map<number, number>>([...wanted].map((s) => [s, new Map()]));
      for (const timeSeries of found) {
        const periods = byPeriod.get(timeSeries.metric?.labels?.queueName ?? '');
        for (const point of periods === undefined ? [] : (timeSeries.points ?? [])) {
          const at = pointTime(point);
          const value = pointValue(point);
          if (at === undefined || value === undefined) {
            // An unreadable point could be the peak: failing the read holds scale-in, guessing could allow it.
            throw new MetricsReadError(
              'listTimeSeries',
              `unreadable point in series ${timeSeries.metric?.labels?.queueName}`,
            );
          }
          if (at < from || at > to) {
            continue;
          }
          const period = periodOf(at);
          periods?.set(period, Math.max(periods.get(period) ?? value, value));
        }
      }
      return new Map([...wanted].map((s): [SeriesName, SeriesPeriods] => [s, byPeriod.get(s) ?? new Map()]));
    },
  } satisfies QueueSizeHistory;
}

export interface SeriesListing {
  /** `projects/<id>`. */
  readonly name: string;
  readonly metricType: string;
  readonly environment: string;
  /** Epoch ms. */
  readonly from: number;
  readonly to: number;
}

/**
 * Every series of one metric type and environment, with their raw points in the window. One request whatever the
 * other labels: filters take only `=` and `AND`, so asking per label value would cost one request each.
 */
export async function listSeries(
  client: MetricServiceClient,
  listing: SeriesListing,
  callOptions: CallOptions,
): Promise<TimeSeries[]> {
  const { from, to } = listing;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new MetricsReadError('listTimeSeries', `invalid window [${from}, ${to}]`);
  }
  const filter = [
    `metric.type = ${quoted(listing.metricType)}`,
    `resource.type = "global"`,
    `metric.labels.environment = ${quoted(listing.environment)}`,
  ].join(' AND ');
  // The API's interval is (start, end] in whole seconds of point time; points carry whole seconds, so starting one
  // second before `from` takes in a point stamped exactly at `from`.
  const interval = { startTime: { seconds: Math.ceil(from / 1000) - 1 }, endTime: { seconds: Math.floor(to / 1000) } };
  try {
    callOptions.signal?.throwIfAborted();
    // autoPaginate follows nextPageToken to the end: a peak or a sum read from part of the pages could be too low.
    const [found] = await client.listTimeSeries(
      { name: listing.name, filter, interval, view: 'FULL' },
      { autoPaginate: true, signal: callOptions.signal },
    );
    return found;
  } catch (error) {
    if (isUnknownMetric(error)) {
      // A custom metric comes into being with its first write: before that, nothing was published.
      return [];
    }
    throw new MetricsReadError('listTimeSeries', describeGoogleError(error), {
      cause: error,
      retryable: isTransientGoogleError(error, callOptions.signal),
    });
  }
}

/** Cloud Monitoring's answer to a filter on a metric type that has no descriptor (nothing was ever written to it). */
function isUnknownMetric(error: unknown): boolean {
  return grpcCode(error) === GrpcCode.InvalidArgument && /doesn't refer to any known metric/.test(String(error));
}

type Point = protos.google.monitoring.v3.IPoint;

/** Epoch ms of the point's end time; gax hands int64 seconds over as a string, a number or a Long. */
export function pointTime(point: Point): number | undefined {
  const end = point.interval?.endTime;
  // A missing or empty value must stay unreadable: Number('') is 0, which would date the point to 1970.
  const raw = end?.seconds === undefined || end.seconds === null ? '' : String(end.seconds);
  const seconds = raw.trim() === '' ? Number.NaN : Number(raw);
  return end === undefined || end === null || !Number.isFinite(seconds)
    ? undefined
    : seconds * 1000 + (end.nanos ?? 0) / 1e6;
}

export function pointValue(point: Point): number | undefined {
  const { int64Value, doubleValue } = point.value ?? {};
  const text = int64Value === undefined || int64Value === null ? undefined : String(int64Value).trim();
  const value = text === undefined ? doubleValue : text === '' ? Number.NaN : Number(text);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
