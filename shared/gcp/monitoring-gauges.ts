import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { chunk } from '../domain/chunk.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import { describeGoogleError, isTransientGoogleError } from './google-errors.ts';
import { tooFrequentOnly } from './monitoring-rejections.ts';
import { MAX_SERIES_PER_REQUEST, projectName } from './monitoring-series.ts';

/**
 * Writes fleetplane's own gauge points, as many calls as the per-request limit needs. A batch refused only as written
 * too recently already holds a point from moments ago (two runs overlapping): current enough, so no failure. Any other
 * refusal is a `MetricsPublishError` saying how many series were written before it.
 */
export async function writeGauges(
  client: MetricServiceClient,
  projectId: string,
  series: readonly protos.google.monitoring.v3.ITimeSeries[],
  callOptions: CallOptions = {},
): Promise<void> {
  const name = projectName(projectId);
  let sent = 0;
  for (const batch of chunk(series, MAX_SERIES_PER_REQUEST)) {
    try {
      // gax cancels a call whose signal aborts; refusing here keeps a spent deadline from starting one at all.
      callOptions.signal?.throwIfAborted();
      await client.createTimeSeries({ name, timeSeries: batch }, { signal: callOptions.signal });
    } catch (error) {
      if (tooFrequentOnly(error, batch.length) === undefined) {
        const progress = `${sent} of ${series.length} series were written`;
        throw new MetricsPublishError('createTimeSeries', `${describeGoogleError(error)} (${progress})`, {
          cause: error,
          retryable: isTransientGoogleError(error, callOptions.signal),
        });
      }
    }
    sent += batch.length;
  }
}

/**
 * One gauge point of fleetplane's own on the `global` resource, at `atMs` cut to whole seconds: counts are INT64,
 * anything else (durations) DOUBLE.
 */
export function gaugePoint(
  projectId: string,
  atMs: number,
  type: string,
  labels: Readonly<Record<string, string>>,
  value: { readonly count: number } | { readonly double: number },
): protos.google.monitoring.v3.ITimeSeries {
  const at = { seconds: Math.floor(atMs / 1000), nanos: 0 };
  const isCount = 'count' in value;
  return {
    metric: { type, labels: { ...labels } },
    resource: { type: 'global', labels: { project_id: projectId } },
    metricKind: 'GAUGE',
    valueType: isCount ? 'INT64' : 'DOUBLE',
    points: [
      {
        interval: { startTime: at, endTime: at },
        value: isCount ? { int64Value: value.count } : { doubleValue: value.double },
      },
    ],
  };
}
