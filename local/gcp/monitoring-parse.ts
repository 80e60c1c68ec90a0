import * as z from 'zod';
import { enumIn } from './google-json.ts';
import {
  type Labeled,
  METRIC_KINDS,
  type MetricKind,
  type StoredPoint,
  type StoredValue,
  VALUE_TYPES,
} from './monitoring-model.ts';
import { type Nanos, nanosFromMs, parseTimestamp } from './time.ts';

/**
 * The request-level checks of `createTimeSeries`: anything wrong with the shape of one series rejects the whole
 * request, as Cloud Monitoring does, before any series is written. Checks that depend on what was written before
 * (order, write rate, descriptor conflicts) are per series and live in `monitoring-write.ts`.
 */

const labels = z.record(z.string(), z.string()).optional();
const seriesSchema = z.object({
  metric: z.object({ type: z.string().min(1), labels }),
  resource: z.object({ type: z.string().min(1), labels }),
  metricKind: z.union([z.number(), z.string()]).optional(),
  valueType: z.union([z.number(), z.string()]).optional(),
  points: z.array(
    z.object({
      interval: z.object({ startTime: z.string().optional(), endTime: z.string() }),
      value: z.object({
        int64Value: z.union([z.string().regex(/^-?\d+$/), z.number().int()]).optional(),
        doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
        boolValue: z.boolean().optional(),
        stringValue: z.string().optional(),
        distributionValue: z.unknown().optional(),
      }),
    }),
  ),
});

export interface ParsedSeries {
  readonly metric: Labeled;
  readonly resource: Labeled;
  readonly metricKind: MetricKind;
  readonly point: StoredPoint;
}

/** Cloud Monitoring accepts points at most 25 hours old and at most 5 minutes ahead of its clock. */
const MAX_AGE_MS = 25 * 60 * 60 * 1000;
const MAX_FUTURE_MS = 5 * 60 * 1000;

export function parseSeries(raw: unknown, index: number, now: number): ParsedSeries | string {
  const field = `timeSeries[${index}]`;
  const parsed = seriesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [field, ...(issue?.path ?? []).map(String)].join('.');
    return `Invalid value at '${path}': ${issue?.message ?? 'invalid'}`;
  }
  const series = parsed.data;
  const [point, ...extra] = series.points;
  if (point === undefined || extra.length > 0) {
    return `Field ${field}.points had an invalid value: Only one point can be written per TimeSeries per request.`;
  }
  if (!series.metric.type.startsWith('custom.googleapis.com/')) {
    return `Field ${field}.metric.type had an invalid value of "${series.metric.type}": only custom.googleapis.com/ metrics can be written (fleetplane emulator).`;
  }
  const resourceLabels = series.resource.labels ?? {};
  if (series.resource.type !== 'global') {
    return `Field ${field}.resource.type had an invalid value of "${series.resource.type}": the fleetplane emulator knows only the "global" monitored resource.`;
  }
  if (Object.keys(resourceLabels).join() !== 'project_id') {
    return `Field ${field}.resource.labels had an invalid value: resource type "global" takes exactly the label project_id.`;
  }

  const metricKind = enumIn(METRIC_KINDS, series.metricKind ?? 0) ?? 'METRIC_KIND_UNSPECIFIED';
  const kind: MetricKind = metricKind === 'METRIC_KIND_UNSPECIFIED' ? 'GAUGE' : metricKind;
  const declared = enumIn(VALUE_TYPES, series.valueType ?? 0);
  const value = storedValue(point.value);
  if (typeof value === 'string') {
    return `Field ${field}.points[0].value had an invalid value: ${value}`;
  }
  if (declared !== undefined && declared !== 'VALUE_TYPE_UNSPECIFIED' && declared !== value.type) {
    return `Field ${field}.valueType had an invalid value: the value type ${declared} does not match the point's ${value.type} value.`;
  }

  const end = parseTimestamp(point.interval.endTime);
  const start = point.interval.startTime === undefined ? undefined : parseTimestamp(point.interval.startTime);
  if (end === undefined || (point.interval.startTime !== undefined && start === undefined)) {
    return `Field ${field}.points[0].interval had an invalid value: timestamps must be RFC 3339.`;
  }
  const timing = checkInterval(field, kind, series.metric.type, start, end, now);
  if (timing !== undefined) {
    return timing;
  }
  return {
    metric: { type: series.metric.type, labels: series.metric.labels ?? {} },
    resource: { type: series.resource.type, labels: resourceLabels },
    metricKind: kind,
    point: { ...(start === undefined || kind === 'GAUGE' ? {} : { start }), end, value },
  };
}

function checkInterval(
  field: string,
  kind: MetricKind,
  type: string,
  start: Nanos | undefined,
  end: Nanos,
  now: number,
): string | undefined {
  const at = `Field ${field}.points[0].interval`;
  if (kind === 'GAUGE' && start !== undefined && start !== end) {
    return `${at}.start_time had an invalid value: The start time must be equal to the end time for the gauge metric '${type}'.`;
  }
  if (kind !== 'GAUGE' && (start === undefined || start >= end)) {
    return `${at}.start_time had an invalid value: The start time must be before the end time for the ${kind.toLowerCase()} metric '${type}'.`;
  }
  if (end < nanosFromMs(now - MAX_AGE_MS)) {
    return `${at}.end_time had an invalid value: Data points cannot be written more than 25h in the past.`;
  }
  if (end > nanosFromMs(now + MAX_FUTURE_MS)) {
    return `${at}.end_time had an invalid value: Data points cannot be written more than 5m in the future.`;
  }
  return undefined;
}

type RawValue = z.infer<typeof seriesSchema>['points'][number]['value'];

function storedValue(raw: RawValue): StoredValue | string {
  const present = Object.entries(raw).filter(([, field]) => field !== undefined);
  if (present.length !== 1) {
    return 'exactly one of boolValue, int64Value, doubleValue, stringValue, distributionValue must be set.';
  }
  if (raw.int64Value !== undefined) {
    return { type: 'INT64', value: BigInt(raw.int64Value) };
  }
  if (raw.doubleValue !== undefined) {
    return { type: 'DOUBLE', value: Number(raw.doubleValue) };
  }
  if (raw.boolValue !== undefined) {
    return { type: 'BOOL', value: raw.boolValue };
  }
  if (raw.stringValue !== undefined) {
    return { type: 'STRING', value: raw.stringValue };
  }
  return 'distributionValue is not supported by the fleetplane emulator.';
}
