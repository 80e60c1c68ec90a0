import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { checkHealthCounts, type HealthCounts, type HealthMetrics } from '../ports/health-metrics.ts';
import { writeGauges } from './monitoring-gauges.ts';
import { projectName } from './monitoring-series.ts';

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
  const { projectId } = options;
  // Refuses an empty project id when built, not at the first write.
  projectName(projectId);
  return {
    async publish(counts: HealthCounts, callOptions: CallOptions = {}): Promise<void> {
      checkHealthCounts(counts, 'createTimeSeries');
      await writeGauges(client, projectId, toTimeSeries(counts, projectId), callOptions);
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
