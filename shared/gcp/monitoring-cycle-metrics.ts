import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import type { CallOptions } from '../ports/call-options.ts';
import { type CycleMetrics, type CycleSummary, checkCycleSummary, ERROR_SOURCES } from '../ports/cycle-metrics.ts';
import { gaugePoint, writeGauges } from './monitoring-gauges.ts';
import { projectName } from './monitoring-series.ts';

const PREFIX = 'custom.googleapis.com/fleetplane';
/** 1 or 0 per cycle, label `environment`; `cycle_failed` is its complement. */
export const CYCLE_SUCCEEDED_METRIC_TYPE = `${PREFIX}/cycle_succeeded`;
export const CYCLE_FAILED_METRIC_TYPE = `${PREFIX}/cycle_failed`;
/** Milliseconds (DOUBLE), label `environment`. */
export const CYCLE_DURATION_METRIC_TYPE = `${PREFIX}/cycle_duration_ms`;
export const SOURCEGRAPH_LATENCY_METRIC_TYPE = `${PREFIX}/sourcegraph_latency_ms`;
/** Jobs queued per series before allocation, labels `environment`, `series`. */
export const QUEUE_DEPTH_METRIC_TYPE = `${PREFIX}/queue_depth`;
/** A fleet's group size before and after the cycle acted, labels `environment`, `fleet`. */
export const FLEET_CURRENT_SIZE_METRIC_TYPE = `${PREFIX}/fleet_current_size`;
export const FLEET_DESIRED_SIZE_METRIC_TYPE = `${PREFIX}/fleet_desired_size`;
/** 1 per fleet per cycle, labels `environment`, `fleet`, `reason`. */
export const SCALE_DECISIONS_METRIC_TYPE = `${PREFIX}/scale_decisions`;
/** Errors per cycle by source, labels `environment`, `source`, zeros included. */
export const ERRORS_METRIC_TYPE = `${PREFIX}/errors`;

export interface CloudMonitoringCycleMetricsOptions {
  /** The project the series are written to, and the `global` resource's label, as for the removal ledger. */
  readonly projectId: string;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

/**
 * Cycle summaries as Cloud Monitoring custom metrics: one gauge point per series at the cycle's start, in whole
 * seconds; counts INT64, durations DOUBLE. The descriptors are created by the first write. A series refused only as
 * written too recently already holds a point from moments ago (two invocations overlapping): no failure.
 */
export function createCloudMonitoringCycleMetrics(
  client: MetricServiceClient,
  options: CloudMonitoringCycleMetricsOptions,
) {
  const { projectId } = options;
  // Refuses an empty project id when built, not at the first write.
  projectName(projectId);
  return {
    async publish(summary: CycleSummary, callOptions: CallOptions = {}): Promise<void> {
      checkCycleSummary(summary, 'createTimeSeries');
      await writeGauges(client, projectId, toTimeSeries(summary, projectId), callOptions);
    },
  } satisfies CycleMetrics;
}

function toTimeSeries(summary: CycleSummary, projectId: string): TimeSeries[] {
  const count = (type: string, labels: Record<string, string>, value: number) =>
    gaugePoint(projectId, summary.at, type, labels, { count: value });
  const millis = (type: string, labels: Record<string, string>, value: number) =>
    gaugePoint(projectId, summary.at, type, labels, { double: value });
  const { environment } = summary;
  const series: TimeSeries[] = [
    count(CYCLE_SUCCEEDED_METRIC_TYPE, { environment }, summary.succeeded ? 1 : 0),
    count(CYCLE_FAILED_METRIC_TYPE, { environment }, summary.succeeded ? 0 : 1),
    millis(CYCLE_DURATION_METRIC_TYPE, { environment }, summary.durationMs),
  ];
  if (summary.sourcegraphLatencyMs !== undefined) {
    series.push(millis(SOURCEGRAPH_LATENCY_METRIC_TYPE, { environment }, summary.sourcegraphLatencyMs));
  }
  for (const { series: name, depth } of summary.queueDepths) {
    series.push(count(QUEUE_DEPTH_METRIC_TYPE, { environment, series: name }, depth));
  }
  for (const { fleet, reason, current, desired } of summary.fleets) {
    if (current !== undefined) {
      series.push(count(FLEET_CURRENT_SIZE_METRIC_TYPE, { environment, fleet }, current));
    }
    if (desired !== undefined) {
      series.push(count(FLEET_DESIRED_SIZE_METRIC_TYPE, { environment, fleet }, desired));
    }
    series.push(count(SCALE_DECISIONS_METRIC_TYPE, { environment, fleet, reason }, 1));
  }
  for (const source of ERROR_SOURCES) {
    series.push(count(ERRORS_METRIC_TYPE, { environment, source }, summary.errors[source]));
  }
  return series;
}
