import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import {
  checkHealthCounts,
  type HealthCounts,
  type HealthMetrics,
  REPLACEMENT_OUTCOMES,
} from '../ports/health-metrics.ts';
import { gaugePoint, writeGauges } from './monitoring-gauges.ts';
import { projectName } from './monitoring-series.ts';

/** Instances per fleet per health class: labels `environment`, `fleet`, `health`. fleetplane's own prefix. */
export const FLEET_INSTANCES_METRIC_TYPE = 'custom.googleapis.com/fleetplane/fleet_instances';
/** Executors heartbeating from hosts no instance explains: label `environment`. */
export const UNEXPLAINED_EXECUTORS_METRIC_TYPE = 'custom.googleapis.com/fleetplane/unexplained_executors';
/**
 * Instances per fleet per check by outcome (`replaced`, `would-replace`, `refused`): labels `environment`, `fleet`,
 * `outcome`.
 */
export const HEALTH_REPLACEMENTS_METRIC_TYPE = 'custom.googleapis.com/fleetplane/health_replacements';
/** 1 when a fleet's broken instances were held back (too many at once), else 0: labels `environment`, `fleet`. */
export const HEALTH_HELD_METRIC_TYPE = 'custom.googleapis.com/fleetplane/health_held';

export interface CloudMonitoringHealthMetricsOptions {
  /** The project the series are written to, and the `global` resource's label, as for the removal ledger. */
  readonly projectId: string;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

/**
 * Health counts as Cloud Monitoring custom metrics: INT64 gauge points per fleet for each class and each replacement
 * outcome (zeros included) and whether it was held, and one for the unexplained executors, all at the check's time in
 * whole seconds. The descriptors are created by the first write. A series refused only as written too recently already
 * holds a point from a check moments ago (one on demand beside the scheduled one): current enough, so no failure.
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
  const { environment } = counts;
  const gauge = (type: string, labels: Readonly<Record<string, string>>, value: number): TimeSeries =>
    gaugePoint(projectId, counts.at, type, { environment, ...labels }, { count: value });
  return [
    ...counts.fleets.flatMap(({ fleet, counts: perClass, replacements, held }) => [
      ...HEALTH_CLASSES.map((health) => gauge(FLEET_INSTANCES_METRIC_TYPE, { fleet, health }, perClass[health])),
      ...REPLACEMENT_OUTCOMES.map((outcome) =>
        gauge(HEALTH_REPLACEMENTS_METRIC_TYPE, { fleet, outcome }, replacements[outcome]),
      ),
      gauge(HEALTH_HELD_METRIC_TYPE, { fleet }, held ? 1 : 0),
    ]),
    gauge(UNEXPLAINED_EXECUTORS_METRIC_TYPE, {}, counts.unexplainedExecutors),
  ];
}
