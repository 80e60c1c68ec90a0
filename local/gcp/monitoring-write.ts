import type { EmulatorResponse } from '../http/emulator.ts';
import { GoogleStatus, googleError, json } from './google-json.ts';
import { type StoredDescriptor, type StoredSeries, seriesKey } from './monitoring-model.ts';
import { type ParsedSeries, parseSeries } from './monitoring-parse.ts';
import { nanosFromMs } from './time.ts';

export interface MonitoringState {
  readonly series: Map<string, StoredSeries>;
  /** Keyed by `project` + `\n` + metric type. */
  readonly descriptors: Map<string, StoredDescriptor>;
}

export interface WriteRules {
  /** Cloud Monitoring's documented cap on time series per `createTimeSeries` request. */
  readonly maxSeriesPerRequest: number;
  /** Milliseconds that must separate two points of one series (Cloud Monitoring: one point per 5 s per series). */
  readonly minWriteIntervalMs: number;
}

const OUT_OF_ORDER =
  'Points must be written in order. One or more of the points specified had an older start time than the most recent point.';
const TOO_FREQUENT =
  'One or more points were written more frequently than the maximum sampling period configured for the metric.';

/**
 * `createTimeSeries`. Shape errors reject the whole request; history errors (order, write rate, a value type that
 * conflicts with the descriptor) reject only their series, the others are written, and the answer is a 400 naming the
 * failed indices with a `CreateTimeSeriesSummary`, which is how Cloud Monitoring reports a partial write.
 */
export function createTimeSeries(
  state: MonitoringState,
  project: string,
  body: unknown,
  now: number,
  rules: WriteRules,
): EmulatorResponse {
  const raw = typeof body === 'object' && body !== null && 'timeSeries' in body ? body.timeSeries : undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    return googleError(GoogleStatus.InvalidArgument, 'Request was missing field timeSeries.');
  }
  if (raw.length > rules.maxSeriesPerRequest) {
    return googleError(
      GoogleStatus.InvalidArgument,
      `Field timeSeries had an invalid value: A maximum of ${rules.maxSeriesPerRequest} TimeSeries can be written in a single request (got ${raw.length}).`,
    );
  }
  const parsed: ParsedSeries[] = [];
  const keys = new Set<string>();
  for (const [index, item] of raw.entries()) {
    const series = parseSeries(item, index, now);
    if (typeof series === 'string') {
      return googleError(GoogleStatus.InvalidArgument, series);
    }
    const key = seriesKey(project, series.metric, series.resource);
    if (keys.has(key)) {
      return googleError(
        GoogleStatus.InvalidArgument,
        `Field timeSeries[${index}] had an invalid value: Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.`,
      );
    }
    keys.add(key);
    parsed.push(series);
  }

  const failures: { index: number; message: string }[] = [];
  for (const [index, series] of parsed.entries()) {
    const refusal = write(state, project, series, rules);
    if (refusal !== undefined) {
      failures.push({ index, message: refusal });
    }
  }
  if (failures.length === 0) {
    return json(200, {});
  }
  const message = failures.map((failure) => `${failure.message}: timeSeries[${failure.index}]`).join('; ');
  return json(400, {
    error: {
      code: 400,
      message: `One or more TimeSeries could not be written: ${message}`,
      status: GoogleStatus.InvalidArgument.status,
      details: [
        {
          '@type': 'type.googleapis.com/google.monitoring.v3.CreateTimeSeriesSummary',
          totalPointCount: parsed.length,
          successPointCount: parsed.length - failures.length,
          errors: failures.map((failure) => ({ status: { code: 3, message: failure.message }, pointCount: 1 })),
        },
      ],
    },
  });
}

function write(state: MonitoringState, project: string, series: ParsedSeries, rules: WriteRules): string | undefined {
  const { metric, resource, metricKind, point } = series;
  const descriptorKey = `${project}\n${metric.type}`;
  const descriptor = state.descriptors.get(descriptorKey);
  if (descriptor !== undefined && descriptor.valueType !== point.value.type) {
    return `Value type for metric ${metric.type} must be ${descriptor.valueType}, but is ${point.value.type}.`;
  }
  if (descriptor !== undefined && descriptor.metricKind !== metricKind) {
    return `Metric kind for metric ${metric.type} must be ${descriptor.metricKind}, but is ${metricKind}.`;
  }
  const key = seriesKey(project, metric, resource);
  const existing = state.series.get(key);
  const last = existing?.points.at(-1);
  if (last !== undefined && point.end <= last.end) {
    return OUT_OF_ORDER;
  }
  if (last !== undefined && point.end - last.end < nanosFromMs(rules.minWriteIntervalMs)) {
    return TOO_FREQUENT;
  }
  if (descriptor === undefined) {
    // custom.googleapis.com descriptors are created by the first write, with that write's kind and type.
    state.descriptors.set(descriptorKey, { type: metric.type, metricKind, valueType: point.value.type });
  }
  if (existing === undefined) {
    state.series.set(key, { project, metric, resource, metricKind, valueType: point.value.type, points: [point] });
  } else {
    existing.points.push(point);
  }
  return undefined;
}
