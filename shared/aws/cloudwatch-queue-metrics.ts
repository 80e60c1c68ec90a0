import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { chunk } from '../domain/chunk.ts';
import type { SeriesName } from '../domain/queues.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError, MetricsReadError } from '../ports/errors.ts';
import {
  METRIC_PERIOD_MS,
  periodOf,
  type QueueMetricsSink,
  type QueueSizeHistory,
  type QueueSizePoint,
  type SeriesPeriods,
} from '../ports/queue-metrics.ts';
import { describeAwsError, isTransientAwsError } from './aws-errors.ts';
import { putMetricBatches } from './cloudwatch-put.ts';

/** The worker's metric (cmd/worker/internal/executorqueue/aws_reporter.go): the Terraform alarms match it by name. */
export const QUEUE_SIZE_METRIC_NAME = 'src_executors_queue_size';
/** PutMetricData accepts at most 1000 datums per request. */
const MAX_DATUMS_PER_PUT = 1000;
/** GetMetricData accepts at most 500 queries per request. */
export const MAX_QUERIES_PER_GET = 500;
/** Seconds: standard resolution, and the period the Terraform alarms read the series with. */
const PERIOD_SECONDS = METRIC_PERIOD_MS / 1000;
/** Upper bound on NextToken pages per request, so a misbehaving endpoint cannot keep a cycle looping. */
const MAX_PAGES = 100;

export interface CloudWatchMetricsOptions {
  /** `EXECUTOR_METRIC_AWS_NAMESPACE`; Sourcegraph's docs and Terraform require `sourcegraph-executor`. */
  readonly namespace: string;
}

/** Same order as the worker writes them; CloudWatch matches dimensions as a set, but identical requests ease diffing. */
function dimensions(series: SeriesName, environment: string): Dimension[] {
  return [
    { Name: 'queueName', Value: series },
    { Name: 'environment', Value: environment },
  ];
}

function requireNamespace(options: CloudWatchMetricsOptions): string {
  if (options.namespace.trim() === '') {
    throw new RangeError('a CloudWatch namespace is required (the worker disables its writer without one)');
  }
  return options.namespace;
}

export function createCloudWatchMetricsSink(client: CloudWatchClient, options: CloudWatchMetricsOptions) {
  const namespace = requireNamespace(options);
  return {
    async publish(points: readonly QueueSizePoint[], options: CallOptions = {}): Promise<void> {
      // Every point is checked before anything is sent, so bad input never leaves a batch half-published.
      const data = points.map(toDatum);
      await putMetricBatches(client, namespace, chunk(data, MAX_DATUMS_PER_PUT), options);
    },
  } satisfies QueueMetricsSink;
}

/**
 * No `Timestamp` (CloudWatch stamps the receive time) and no `StorageResolution` (standard 60 s): exactly what the
 * worker writes, so alarms built for the worker's series read ours unchanged.
 */
function toDatum(point: QueueSizePoint): MetricDatum {
  const { series, environment, value } = point;
  // CloudWatch rejects NaN and ±Inf outright; a negative or fractional job count is a bug upstream, not a metric.
  if (!Number.isInteger(value) || value < 0) {
    throw new MetricsPublishError('PutMetricData', `${series}/${environment}: ${value} is not a whole number >= 0`);
  }
  if (environment === '') {
    throw new MetricsPublishError('PutMetricData', `${series}: the environment dimension is empty`);
  }
  return {
    MetricName: QUEUE_SIZE_METRIC_NAME,
    Dimensions: dimensions(series, environment),
    Unit: 'Count',
    Value: value,
  };
}

/**
 * Reads each series' `Maximum` per 60 s period. The start is aligned down to the minute, so a window can take in up to
 * 59 s before `from`: that can only raise a peak, never lower it, which is the safe direction for scale-in.
 */
export function createCloudWatchQueueHistory(client: CloudWatchClient, options: CloudWatchMetricsOptions) {
  const namespace = requireNamespace(options);
  return {
    async peaks(
      series: readonly SeriesName[],
      environment: string,
      from: number,
      to: number,
      options: CallOptions = {},
    ) {
      const ids = new Map([...new Set(series)].map((name, index) => [`q${index}`, name]));
      const periods = await readPeriods(
        client,
        {
          namespace,
          metricName: QUEUE_SIZE_METRIC_NAME,
          stat: 'Maximum',
          series: new Map([...ids].map(([id, name]) => [id, { name, dimensions: dimensions(name, environment) }])),
          from,
          to,
        },
        options.signal,
      );
      return new Map([...ids].map(([id, name]): [SeriesName, SeriesPeriods] => [name, periods.get(id) ?? new Map()]));
    },
  } satisfies QueueSizeHistory;
}

/** One metric's series to read per 60-s period, each under its own query id. */
export interface PeriodRead {
  readonly namespace: string;
  readonly metricName: string;
  readonly stat: 'Maximum' | 'Sum';
  /** Query id → the series' name (for errors) and dimensions. */
  readonly series: ReadonlyMap<string, { readonly name: string; readonly dimensions: Dimension[] }>;
  /** Epoch ms; the start is aligned down to the minute, which can only add data from before `from`. */
  readonly from: number;
  readonly to: number;
}

/**
 * Each series' value per period (period start in epoch ms → value), in batches of the per-request query limit. A
 * query whose last status is not `Complete` (PartialData, InternalError, Forbidden) fails the whole read: a peak or a
 * count taken from incomplete data may be too low, and a too-low one permits an early scale-in.
 */
export async function readPeriods(
  client: CloudWatchClient,
  read: PeriodRead,
  signal: AbortSignal | undefined,
): Promise<Map<string, Map<number, number>>> {
  const { from, to } = read;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new MetricsReadError('GetMetricData', `invalid window [${from}, ${to}]`);
  }
  const queries = [...read.series].map(
    ([id, { dimensions }]): MetricDataQuery => ({
      Id: id,
      ReturnData: true,
      MetricStat: {
        Metric: { Namespace: read.namespace, MetricName: read.metricName, Dimensions: dimensions },
        Period: PERIOD_SECONDS,
        Stat: read.stat,
      },
    }),
  );
  const window = { start: new Date(periodOf(from)), end: new Date(to) };
  const names = new Map([...read.series].map(([id, { name }]) => [id, name]));
  const periods = new Map<string, Map<number, number>>();
  for (const batch of chunk(queries, MAX_QUERIES_PER_GET)) {
    for (const [id, byPeriod] of await readBatch(client, batch, window, names, signal)) {
      periods.set(id, byPeriod);
    }
  }
  return periods;
}

/** Follows NextToken to the end. */
async function readBatch(
  client: CloudWatchClient,
  queries: readonly MetricDataQuery[],
  window: { readonly start: Date; readonly end: Date },
  names: ReadonlyMap<string, string>,
  signal: AbortSignal | undefined,
): Promise<Map<string, Map<number, number>>> {
  // Per query: the maximum of each period, keyed by the period's start (epoch ms).
  const periods = new Map<string, Map<number, number>>(queries.map((query) => [query.Id ?? '', new Map()]));
  const status = new Map<string, string>();
  let token: string | undefined;
  for (let page = 0; page === 0 || token !== undefined; page++) {
    if (page >= MAX_PAGES) {
      throw new MetricsReadError('GetMetricData', `still paging after ${MAX_PAGES} pages`, { retryable: true });
    }
    const input = { MetricDataQueries: [...queries], StartTime: window.start, EndTime: window.end, NextToken: token };
    let output: GetMetricDataCommandOutput;
    try {
      signal?.throwIfAborted();
      output = await client.send(new GetMetricDataCommand(input), { abortSignal: signal });
    } catch (error) {
      throw new MetricsReadError('GetMetricData', describeAwsError(error), {
        cause: error,
        retryable: isTransientAwsError(error),
      });
    }
    for (const result of output.MetricDataResults ?? []) {
      const id = result.Id;
      const seen = id === undefined ? undefined : periods.get(id);
      if (id === undefined || seen === undefined) {
        continue;
      }
      status.set(id, result.StatusCode ?? 'missing');
      const values = result.Values ?? [];
      const timestamps = result.Timestamps ?? [];
      values.forEach((value, index) => {
        const at = timestamps[index]?.getTime() ?? window.start.getTime();
        seen.set(at, Math.max(seen.get(at) ?? value, value));
      });
    }
    token = output.NextToken === '' ? undefined : output.NextToken;
  }
  const incomplete = [...periods.keys()].filter((id) => status.get(id) !== 'Complete');
  if (incomplete.length > 0) {
    const detail = incomplete.map((id) => `${names.get(id) ?? id}: ${status.get(id) ?? 'no result'}`);
    throw new MetricsReadError('GetMetricData', `incomplete data (${detail.join(', ')})`, {
      retryable: !incomplete.some((id) => status.get(id) === 'Forbidden'),
    });
  }
  return periods;
}
