import {
  CloudWatchClient,
  CloudWatchServiceException,
  type Dimension,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../../shared/ports/clock.ts';

interface StoredDatum {
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: string;
  readonly value: number;
  /** Epoch ms the "server" received it: the datum carries no Timestamp. */
  readonly at: number;
}

const MINUTE = 60_000;

const invalid = (message: string) =>
  new CloudWatchServiceException({
    name: 'InvalidParameterValue',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });

/** CloudWatch matches dimensions as a set. */
const dimensionKey = (dimensions: readonly Dimension[] = []) =>
  dimensions
    .map((d) => `${d.Name}=${d.Value}`)
    .sort()
    .join(',');

/**
 * A CloudWatch stand-in behind aws-sdk-client-mock, stateful enough to exercise the adapter as the service would:
 * PutMetricData stores datums at the clock's time and refuses what CloudWatch refuses; GetMetricData answers
 * `Maximum` per one-minute bucket whose start lies in [StartTime, EndTime), `valuesPerPage` values at a time, with
 * PartialData and NextToken until the last page.
 */
export function createCloudWatchBackend(clock: Clock, options: { readonly valuesPerPage?: number } = {}) {
  const valuesPerPage = options.valuesPerPage ?? 2;
  const client = new CloudWatchClient({ region: 'us-west-2' });
  const mock = mockClient(client);
  const stored: StoredDatum[] = [];

  mock.on(PutMetricDataCommand).callsFake((input: PutMetricDataCommandInput) => {
    const data = input.MetricData ?? [];
    if (input.Namespace === undefined || data.length === 0 || data.length > 1000) {
      throw invalid('Namespace and 1 to 1000 MetricData are required');
    }
    const now = clock();
    const accepted = data.map((datum) => {
      if (datum.Value === undefined || !Number.isFinite(datum.Value)) {
        throw invalid(`The value ${datum.Value} for parameter MetricData.member.1.Value is invalid.`);
      }
      if ((datum.Dimensions ?? []).some((d) => !d.Value)) {
        throw invalid('Dimension values must not be empty');
      }
      const dimensions = dimensionKey(datum.Dimensions);
      return {
        namespace: input.Namespace ?? '',
        metric: datum.MetricName ?? '',
        dimensions,
        value: datum.Value,
        at: now,
      };
    });
    stored.push(...accepted);
    return { $metadata: {} };
  });

  mock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput): GetMetricDataCommandOutput => {
    const queries = input.MetricDataQueries ?? [];
    const start = input.StartTime?.getTime() ?? Number.NaN;
    const end = input.EndTime?.getTime() ?? Number.NaN;
    if (queries.length === 0 || queries.length > 500 || !(start < end)) {
      throw invalid('1 to 500 MetricDataQueries and StartTime < EndTime are required');
    }
    const entries = queries.flatMap((query): { id: string; value: number | undefined; at: number }[] => {
      const stat = query.MetricStat;
      const buckets = new Map<number, number>();
      for (const datum of stored) {
        const bucket = Math.floor(datum.at / MINUTE) * MINUTE;
        const matches =
          datum.namespace === stat?.Metric?.Namespace &&
          datum.metric === stat.Metric.MetricName &&
          datum.dimensions === dimensionKey(stat.Metric.Dimensions);
        if (matches && stat.Stat === 'Maximum' && bucket >= start && bucket < end) {
          buckets.set(bucket, Math.max(buckets.get(bucket) ?? Number.NEGATIVE_INFINITY, datum.value));
        }
      }
      const id = query.Id ?? '';
      const values = [...buckets].sort(([a], [b]) => b - a);
      // A query with no data still answers, once, with no values.
      return values.length === 0
        ? [{ id, value: undefined, at: start }]
        : values.map(([at, value]) => ({ id, value, at }));
    });
    const offset = Number(input.NextToken ?? '0');
    const page = entries.slice(offset, offset + valuesPerPage);
    const rest = entries.slice(offset + valuesPerPage);
    const results = new Map<string, MetricDataResult>();
    for (const { id, value, at } of page) {
      const result = results.get(id) ?? { Id: id, Values: [], Timestamps: [], StatusCode: 'Complete' };
      if (value !== undefined) {
        result.Values?.push(value);
        result.Timestamps?.push(new Date(at));
      }
      result.StatusCode = rest.some((entry) => entry.id === id) ? 'PartialData' : 'Complete';
      results.set(id, result);
    }
    const next = rest.length > 0 ? String(offset + valuesPerPage) : undefined;
    return { MetricDataResults: [...results.values()], NextToken: next, $metadata: {} };
  });

  return { client, mock, stored: (): readonly StoredDatum[] => stored };
}
