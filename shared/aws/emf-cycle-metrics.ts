import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CallOptions } from '../ports/call-options.ts';
import { type CycleMetrics, type CycleSummary, checkCycleSummary, ERROR_SOURCES } from '../ports/cycle-metrics.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import {
  CYCLE_DURATION_METRIC,
  CYCLE_FAILED_METRIC,
  CYCLE_SUCCEEDED_METRIC,
  ERRORS_METRIC,
  FLEET_CURRENT_SIZE_METRIC,
  FLEET_DESIRED_SIZE_METRIC,
  FLEETPLANE_NAMESPACE,
  QUEUE_DEPTH_METRIC,
  SCALE_DECISIONS_METRIC,
  SOURCEGRAPH_LATENCY_METRIC,
} from './fleetplane-metrics.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** One EMF document: the values sharing one set of dimension values. */
interface Blob {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly { readonly name: string; readonly unit: Unit; readonly value: number }[];
}

/**
 * Cycle summaries as CloudWatch embedded metric format, through Powertools: JSON lines on stdout that Lambda's log
 * pipeline turns into metrics in fleetplane's namespace. No API call, so nothing to grant, to throttle or to time out.
 * One document per set of dimension values (a document holds each metric name once per dimension set), each stamped
 * with the cycle's start. Powertools' default `service` dimension is dropped, so every metric has exactly the
 * dimensions `fleetplane-metrics.ts` names and alarms can match them. `POWERTOOLS_METRICS_DISABLED` (or
 * `POWERTOOLS_DEV`) silences it.
 */
export function createEmfCycleMetrics() {
  return {
    async publish(summary: CycleSummary, options: CallOptions = {}): Promise<void> {
      checkCycleSummary(summary, 'EMF');
      options.signal?.throwIfAborted();
      for (const blob of toBlobs(summary)) {
        try {
          const metrics = new Metrics({ namespace: FLEETPLANE_NAMESPACE });
          metrics.clearDefaultDimensions();
          for (const [name, value] of Object.entries(blob.dimensions)) {
            metrics.addDimension(name, value);
          }
          metrics.setTimestamp(summary.at);
          for (const { name, unit, value } of blob.values) {
            metrics.addMetric(name, unit, value);
          }
          metrics.publishStoredMetrics();
        } catch (error) {
          throw new MetricsPublishError('EMF', `${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
          });
        }
      }
    },
  } satisfies CycleMetrics;
}

function toBlobs(summary: CycleSummary): Blob[] {
  const { environment } = summary;
  const count = MetricUnit.Count;
  const cycle: Blob['values'][number][] = [
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
    ...summary.fleets.flatMap(({ fleet, reason, current, desired }): Blob[] => {
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
