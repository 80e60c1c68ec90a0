import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CallOptions } from '../ports/call-options.ts';
import { type CycleMetrics, type CycleSummary, checkCycleSummary, ERROR_SOURCES } from '../ports/cycle-metrics.ts';
import { type EmfBlob, printEmf } from './emf.ts';
import {
  CYCLE_DURATION_METRIC,
  CYCLE_FAILED_METRIC,
  CYCLE_SUCCEEDED_METRIC,
  ERRORS_METRIC,
  FLEET_CURRENT_SIZE_METRIC,
  FLEET_DESIRED_SIZE_METRIC,
  QUEUE_DEPTH_METRIC,
  SCALE_DECISIONS_METRIC,
  SOURCEGRAPH_LATENCY_METRIC,
} from './fleetplane-metrics.ts';

/** Cycle summaries as CloudWatch embedded metric format (see `printEmf`), stamped with the cycle's start. */
export function createEmfCycleMetrics() {
  return {
    async publish(summary: CycleSummary, options: CallOptions = {}): Promise<void> {
      checkCycleSummary(summary, 'EMF');
      printEmf(toBlobs(summary), summary.at, options.signal);
    },
  } satisfies CycleMetrics;
}

function toBlobs(summary: CycleSummary): EmfBlob[] {
  const { environment } = summary;
  const count = MetricUnit.Count;
  const cycle: EmfBlob['values'][number][] = [
    { name: CYCLE_SUCCEEDED_METRIC, unit: count, value: summary.succeeded ? 1 : 0 },
    { name: CYCLE_FAILED_METRIC, unit: count, value: summary.succeeded ? 0 : 1 },
    { name: CYCLE_DURATION_METRIC, unit: MetricUnit.Milliseconds, value: summary.durationMs },
  ];
  if (summary.sourcegraphLatencyMs !== undefined) {
    cycle.push({
      name: SOURCEGRAPH_LATENCY_METRIC,
      unit: MetricUnit.Milliseconds,
      value: summary.sourcegraphLatencyMs,
    });
  }
  return [
    { dimensions: { environment }, values: cycle },
    ...summary.queueDepths.map(({ series, depth }) => ({
      dimensions: { environment, series },
      values: [{ name: QUEUE_DEPTH_METRIC, unit: count, value: depth }],
    })),
    ...summary.fleets.flatMap(({ fleet, reason, current, desired }): EmfBlob[] => {
      const sizes = [
        ...(current === undefined ? [] : [{ name: FLEET_CURRENT_SIZE_METRIC, unit: count, value: current }]),
        ...(desired === undefined ? [] : [{ name: FLEET_DESIRED_SIZE_METRIC, unit: count, value: desired }]),
      ];
      return [
        ...(sizes.length === 0 ? [] : [{ dimensions: { environment, fleet }, values: sizes }]),
        {
          dimensions: { environment, fleet, reason },
          values: [{ name: SCALE_DECISIONS_METRIC, unit: count, value: 1 }],
        },
      ];
    }),
    ...ERROR_SOURCES.map((source) => ({
      dimensions: { environment, source },
      values: [{ name: ERRORS_METRIC, unit: count, value: summary.errors[source] }],
    })),
  ];
}
