import { createHash } from 'node:crypto';
import * as z from 'zod';
import {
  isStatistic,
  type MetricSelector,
  matches,
  type Statistic,
  type StoredDatum,
  statisticOf,
} from './cloudwatch-metrics.ts';
import { AwsServiceError } from './errors.ts';
import { parseShape } from './json-protocol.ts';
import { pageOf } from './paging.ts';

/** GetMetricData over the stored datums: MetricStat queries only (no metric math), one value per period with data. */

const dimension = z.object({ Name: z.string(), Value: z.string() });
const queryShape = z.object({
  Id: z.string().optional(),
  MetricStat: z
    .object({
      Metric: z.object({
        Namespace: z.string().optional(),
        MetricName: z.string().optional(),
        Dimensions: z.array(dimension).optional(),
      }),
      Period: z.number().optional(),
      Stat: z.string().optional(),
      Unit: z.string().optional(),
    })
    .optional(),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean().optional(),
});
const getShape = z.object({
  MetricDataQueries: z.array(queryShape).optional(),
  /** Epoch seconds. */
  StartTime: z.number().optional(),
  EndTime: z.number().optional(),
  NextToken: z.string().optional(),
  ScanBy: z.enum(['TimestampDescending', 'TimestampAscending']).optional(),
  MaxDatapoints: z.number().int().min(1).optional(),
});

export const MAX_QUERIES = 500;
/** CloudWatch's default (and largest) MaxDatapoints per GetMetricData page. */
export const DEFAULT_MAX_DATAPOINTS = 100_800;

interface Query {
  readonly id: string;
  readonly label: string;
  readonly selector: MetricSelector;
  readonly periodMs: number;
  readonly stat: Statistic;
  readonly returnData: boolean;
}

/** One row of the answer; a query with no data in the window still answers, once, with empty lists. */
interface Entry {
  readonly query: Query;
  readonly point?: { readonly at: number; readonly value: number };
}

const invalid = (message: string) => new AwsServiceError('InvalidParameterValue', message);
const missing = (parameter: string) =>
  new AwsServiceError('MissingParameter', `The parameter ${parameter} is required.`);

function toQuery(input: z.infer<typeof queryShape>, index: number): Query {
  const path = `MetricDataQueries.member.${index + 1}`;
  if (input.Id === undefined) throw missing(`${path}.Id`);
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(input.Id) || input.Id.length > 255) {
    throw invalid(`The value ${input.Id} for parameter ${path}.Id is invalid. It must start with a lowercase letter.`);
  }
  if (input.Expression !== undefined) {
    throw invalid(`${path}.Expression: metric math is not supported by the local CloudWatch emulator.`);
  }
  const stat = input.MetricStat;
  if (stat === undefined) throw missing(`${path}.MetricStat`);
  const { Namespace: namespace, MetricName: metricName } = stat.Metric;
  if (namespace === undefined) throw missing(`${path}.MetricStat.Metric.Namespace`);
  if (metricName === undefined) throw missing(`${path}.MetricStat.Metric.MetricName`);
  const period = stat.Period;
  if (period === undefined) throw missing(`${path}.MetricStat.Period`);
  if (!Number.isInteger(period) || period < 1 || (period % 60 !== 0 && ![1, 5, 10, 20, 30].includes(period))) {
    throw invalid(`The parameter ${path}.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.`);
  }
  if (stat.Stat === undefined) throw missing(`${path}.MetricStat.Stat`);
  if (!isStatistic(stat.Stat)) {
    throw invalid(
      `The value ${stat.Stat} for parameter ${path}.MetricStat.Stat is not supported by the local emulator.`,
    );
  }
  const dimensions = (stat.Metric.Dimensions ?? []).map(({ Name: name, Value: value }) => ({ name, value }));
  return {
    id: input.Id,
    label: input.Label ?? metricName,
    selector: { namespace, metricName, dimensions, ...(stat.Unit === undefined ? {} : { unit: stat.Unit }) },
    periodMs: period * 1000,
    stat: stat.Stat,
    returnData: input.ReturnData ?? true,
  };
}

/**
 * Periods start at multiples of the period since the epoch; the window's start is aligned down to one (as CloudWatch
 * rounds recent StartTimes), and a period counts when its start lies in [start, EndTime).
 */
function entriesOf(
  query: Query,
  datums: readonly StoredDatum[],
  start: number,
  end: number,
  ascending: boolean,
): Entry[] {
  const first = Math.floor(start / query.periodMs) * query.periodMs;
  const periods = new Map<number, StoredDatum[]>();
  for (const datum of datums) {
    const period = Math.floor(datum.at / query.periodMs) * query.periodMs;
    if (period >= first && period < end && matches(datum, query.selector)) {
      periods.set(period, [...(periods.get(period) ?? []), datum]);
    }
  }
  const points = [...periods]
    .sort(([a], [b]) => (ascending ? a - b : b - a))
    .map(([at, inPeriod]) => ({ query, point: { at, value: statisticOf(query.stat, inPeriod) } }));
  return points.length === 0 ? [{ query }] : points;
}

export function getMetricData(body: unknown, datums: readonly StoredDatum[], pageLimit: number) {
  const input = parseShape(getShape, body);
  const inputs = input.MetricDataQueries ?? [];
  if (inputs.length === 0) throw missing('MetricDataQueries');
  if (inputs.length > MAX_QUERIES) {
    throw invalid(`The collection MetricDataQueries must not have a size greater than ${MAX_QUERIES}.`);
  }
  if (input.StartTime === undefined) throw missing('StartTime');
  if (input.EndTime === undefined) throw missing('EndTime');
  if (input.StartTime >= input.EndTime)
    throw invalid('The parameter StartTime must be less than the parameter EndTime.');
  const queries = inputs.map(toQuery);
  if (new Set(queries.map((query) => query.id)).size !== queries.length) {
    throw invalid('The values for parameter Id in MetricDataQueries are not unique.');
  }
  const ascending = input.ScanBy === 'TimestampAscending';
  const [start, end] = [input.StartTime * 1000, input.EndTime * 1000];
  const entries = queries
    .filter((query) => query.returnData)
    .flatMap((query) => entriesOf(query, datums, start, end, ascending));
  // The token names the request it continues, so it cannot resume a different one.
  const { NextToken: token, MaxDatapoints: asked, ...request } = input;
  const scope = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 16);
  const page = pageOf(entries, token, Math.min(asked ?? DEFAULT_MAX_DATAPOINTS, pageLimit), scope);
  const later = new Set(entries.slice(page.end).map(({ query }) => query.id));
  const results = new Map<
    string,
    { Id: string; Label: string; Timestamps: number[]; Values: number[]; StatusCode: string }
  >();
  for (const { query, point } of page.items) {
    const result = results.get(query.id) ?? {
      Id: query.id,
      Label: query.label,
      Timestamps: [],
      Values: [],
      StatusCode: '',
    };
    if (point !== undefined) {
      result.Timestamps.push(point.at / 1000);
      result.Values.push(point.value);
    }
    result.StatusCode = later.has(query.id) ? 'PartialData' : 'Complete';
    results.set(query.id, result);
  }
  return {
    MetricDataResults: [...results.values()],
    Messages: [],
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}
