import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { chunk } from '../domain/chunk.ts';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import { checkHealthCounts, type HealthCounts, type HealthMetrics } from '../ports/health-metrics.ts';
import { describeGoogleError, isTransientGoogleError } from './google-errors.ts';
import { tooFrequentOnly } from './monitoring-rejections.ts';
import { MAX_SERIES_PER_REQUEST, projectName } from './monitoring-series.ts';

/** Instances per fleet per health class: labels `environment`, `fleet`, `health`. fleetplane's own prefix. */
export const FLEET_INSTANCES_METRIC_TYPE = 'custom.googleapis.com/fleetplane/fleet_instances';
/** Executors heartbeating from hosts no instance explains: label `environment`. */
export const UNEXPLAINED_EXECUTORS_METRIC_TYPE = 'custom.googleapis.com/fleetplane/unexplained_executors';

export interface CloudMonitoringHealthMetricsOptions {
  /** The project the series are written to, and the `global` resource's label, as for the removal ledger. */
  readonly projectId: string;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

/**
 * Health counts as Cloud Monitoring custom metrics: one INT64 gauge point per fleet and class, zeros included, and one
 * for the unexplained executors, all at the check's time in whole seconds. The descriptors are created by the first
 * write. A series refused only as written too recently already holds a point from a check moments ago (one on demand
 * beside the scheduled one): current enough, so no failure.
 */
export function createCloudMonitoringHealthMetrics(
  client: MetricServiceClient,
  options: CloudMonitoringHealthMetricsOptions,
) {
  const name = projectName(options.projectId);
  const { projectId } = options;
  return {
    async publish(counts: HealthCounts, callOptions: CallOptions = {}): Promise<void> {
      checkHealthCounts(counts, 'createTimeSeries');
      const series = toTimeSeries(counts, projectId);
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
    },
  } satisfies HealthMetrics;
}

function toTimeSeries(counts: HealthCounts, projectId: string): TimeSeries[] {
  const at = { seconds: Math.floor(counts.at / 1000), nanos: 0 };
  const gauge = (type: string, labels: Record<string, string>, value: number): TimeSeries => ({
    metric: { type, labels },
    resource: { type: 'global', labels: { project_id: projectId } },
    metricKind: 'GAUGE',
    valueType: 'INT64',
    points: [{ interval: { startTime: at, endTime: at }, value: { int64Value: value } }],
  });
  const { environment } = counts;
  const series = counts.fleets.flatMap(({ fleet, counts: perClass }) =>
    HEALTH_CLASSES.map((health) =>
      gauge(FLEET_INSTANCES_METRIC_TYPE, { environment, fleet, health }, perClass[health]),
    ),
  );
  series.push(gauge(UNEXPLAINED_EXECUTORS_METRIC_TYPE, { environment }, counts.unexplainedExecutors));
  return series;
}
