import type { EmulatorResponse } from '../http/emulator.ts';
import { enumIn, enumOut, GoogleStatus, googleError, json, tokenOffset } from './google-json.ts';
import { matches, parseFilter } from './monitoring-filter.ts';
import {
  ALIGNERS,
  type Aligner,
  METRIC_KINDS,
  numeric,
  type StoredPoint,
  type StoredSeries,
  type StoredValue,
  TIME_SERIES_VIEWS,
  typedValueJson,
  VALUE_TYPES,
} from './monitoring-model.ts';
import { formatTimestamp, type Nanos, nanosFromMs, parseDuration, parseTimestamp } from './time.ts';

/** Cloud Monitoring's ceiling on points (FULL view) or series (HEADERS view) per page. */
const MAX_PAGE_SIZE = 100_000;
/** The shortest alignment period the API accepts. */
const MIN_ALIGNMENT_MS = 60_000;

/**
 * `listTimeSeries` over the stored series. The interval is `(startTime, endTime]` (a single instant when
 * `startTime` is absent); points come newest first, as Cloud Monitoring returns them. Aligned periods are anchored
 * at `endTime`: each output point stands for `(t - alignmentPeriod, t]` and carries `t` as its time.
 */
export function listTimeSeries(
  all: Iterable<StoredSeries>,
  project: string,
  query: URLSearchParams,
  asInt: boolean,
  hasDescriptor: (type: string) => boolean,
): EmulatorResponse {
  const invalid = (message: string) => googleError(GoogleStatus.InvalidArgument, message);
  const terms = parseFilter(query.get('filter') ?? '');
  if (typeof terms === 'string') {
    return invalid(`Field filter had an invalid value: ${terms}`);
  }
  // A custom metric exists only once its first write created the descriptor; before that, reading it is an error.
  const type = terms.find((term) => term.selector === 'metric.type')?.value ?? '';
  if (type.startsWith('custom.googleapis.com/') && !hasDescriptor(type)) {
    return invalid("The provided filter doesn't refer to any known metric.");
  }
  const end = parseTimestamp(query.get('interval.endTime') ?? '');
  const startText = query.get('interval.startTime');
  const start = startText === null ? end : parseTimestamp(startText);
  if (end === undefined || start === undefined || start > end) {
    return invalid('Field interval had an invalid value: endTime is required and startTime must not be after it.');
  }
  const aligner = enumIn(ALIGNERS, query.get('aggregation.perSeriesAligner') ?? 0);
  if (aligner === undefined) {
    return invalid(
      'Field aggregation.perSeriesAligner: the fleetplane emulator implements NONE, MIN, MAX, MEAN, COUNT, SUM.',
    );
  }
  const reducer = query.get('aggregation.crossSeriesReducer');
  if (reducer !== null && reducer !== '0' && reducer !== 'REDUCE_NONE') {
    return invalid('Field aggregation.crossSeriesReducer: the fleetplane emulator implements only REDUCE_NONE.');
  }
  const periodMs = parseDuration(query.get('aggregation.alignmentPeriod') ?? '');
  if (aligner !== 'ALIGN_NONE' && (periodMs === undefined || periodMs < MIN_ALIGNMENT_MS)) {
    return invalid(
      'Field aggregation.alignmentPeriod had an invalid value: must be at least 60s with a per-series aligner.',
    );
  }
  const headersOnly = enumIn(TIME_SERIES_VIEWS, query.get('view') ?? 0) === 'HEADERS';

  const selected: ReturnType<typeof render>[] = [];
  for (const series of all) {
    if (series.project !== project || !matches(series, terms)) {
      continue;
    }
    const inInterval = series.points.filter((p) => (start === end ? p.end === end : p.end > start && p.end <= end));
    if (inInterval.length === 0) {
      continue;
    }
    const points =
      aligner === 'ALIGN_NONE' || periodMs === undefined ? inInterval : align(inInterval, aligner, end, periodMs);
    if (typeof points === 'string') {
      return invalid(points);
    }
    selected.push(render(series, aligner, headersOnly ? [] : points.toReversed(), asInt));
  }
  const offset = tokenOffset(query.get('pageToken'), 'base64url');
  if (offset === undefined) {
    return googleError(GoogleStatus.InvalidArgument, 'The page token is not valid.');
  }
  return json(200, page(selected, query, headersOnly, offset));
}

function render(series: StoredSeries, aligner: Aligner, points: readonly StoredPoint[], asInt: boolean) {
  const valueType = points[0]?.value.type ?? alignedType(series.valueType, aligner);
  const kind = aligner === 'ALIGN_NONE' ? series.metricKind : 'GAUGE';
  return {
    metric: series.metric,
    resource: series.resource,
    metricKind: enumOut(METRIC_KINDS, kind, asInt),
    valueType: enumOut(VALUE_TYPES, valueType, asInt),
    points: points.map((point) => ({
      interval: { startTime: formatTimestamp(point.start ?? point.end), endTime: formatTimestamp(point.end) },
      value: typedValueJson(point.value),
    })),
    unit: '',
  };
}

function alignedType(type: StoredValue['type'], aligner: Aligner): StoredValue['type'] {
  return aligner === 'ALIGN_MEAN' ? 'DOUBLE' : aligner === 'ALIGN_COUNT' ? 'INT64' : type;
}

function align(points: readonly StoredPoint[], aligner: Aligner, end: Nanos, periodMs: number): StoredPoint[] | string {
  if (points.some((point) => point.value.type === 'STRING' || point.value.type === 'BOOL')) {
    return `The aligner ${aligner} cannot be applied to metrics with value type ${points[0]?.value.type}.`;
  }
  const period = nanosFromMs(periodMs);
  const buckets = new Map<Nanos, StoredValue[]>();
  for (const point of points) {
    // The end of the period holding the point: the first `end - k * period` at or after it.
    const bucketEnd = end - ((end - point.end) / period) * period;
    buckets.set(bucketEnd, [...(buckets.get(bucketEnd) ?? []), point.value]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([at, values]) => ({ end: at, value: reduce(values, aligner) }));
}

function reduce(values: readonly StoredValue[], aligner: Aligner): StoredValue {
  const ints = values.flatMap((value) => (value.type === 'INT64' ? [value.value] : []));
  const allInt = ints.length === values.length;
  const numbers = values.map(numeric);
  const sum = numbers.reduce((total, n) => total + n, 0);
  switch (aligner) {
    case 'ALIGN_COUNT':
      return { type: 'INT64', value: BigInt(values.length) };
    case 'ALIGN_MEAN':
      return { type: 'DOUBLE', value: sum / values.length };
    case 'ALIGN_SUM':
      return allInt ? { type: 'INT64', value: ints.reduce((t, n) => t + n, 0n) } : { type: 'DOUBLE', value: sum };
    case 'ALIGN_MIN':
    case 'ALIGN_MAX': {
      const pick =
        aligner === 'ALIGN_MAX' ? (a: bigint, b: bigint) => (a > b ? a : b) : (a: bigint, b: bigint) => (a < b ? a : b);
      const first = ints[0];
      if (allInt && first !== undefined) {
        return { type: 'INT64', value: ints.reduce(pick, first) };
      }
      return { type: 'DOUBLE', value: aligner === 'ALIGN_MAX' ? Math.max(...numbers) : Math.min(...numbers) };
    }
    case 'ALIGN_NONE':
      return values[0] ?? { type: 'DOUBLE', value: Number.NaN };
  }
}

function page<T extends { points: readonly unknown[] }>(
  series: readonly T[],
  query: URLSearchParams,
  headersOnly: boolean,
  offset: number,
) {
  const requested = Number(query.get('pageSize') ?? 0);
  const size = requested > 0 ? Math.min(requested, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
  // A page holds whole series: as many as fit in `size` points (series, for HEADERS), and always at least one.
  let used = 0;
  let next = offset;
  while (next < series.length) {
    const cost = headersOnly ? 1 : Math.max(1, series[next]?.points.length ?? 0);
    if (next > offset && used + cost > size) {
      break;
    }
    used += cost;
    next += 1;
  }
  return {
    timeSeries: series.slice(offset, next),
    ...(next < series.length ? { nextPageToken: Buffer.from(String(next)).toString('base64url') } : {}),
    unit: '',
  };
}
