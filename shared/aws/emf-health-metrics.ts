import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import {
  checkHealthCounts,
  type HealthCounts,
  type HealthMetrics,
  REPLACEMENT_OUTCOMES,
} from '../ports/health-metrics.ts';
import { type EmfBlob, printEmf } from './emf.ts';
import {
  FLEET_INSTANCES_METRIC,
  HEALTH_HELD_METRIC,
  HEALTH_REPLACEMENTS_METRIC,
  UNEXPLAINED_EXECUTORS_METRIC,
} from './fleetplane-metrics.ts';

/**
 * Health counts as CloudWatch embedded metric format (see `printEmf`), every document stamped with the check's time so
 * all of one check lands in the same period: per fleet one `FleetInstances` per class and one `HealthReplacements` per
 * outcome (zeros included) and `HealthHeld`, and one `UnexplainedExecutors` per check. Each value has dimension values
 * of its own (a class, an outcome), so each is a document of its own: one metric and at most three dimensions, far
 * inside EMF's 100 metrics per directive and 30 keys per dimension set, however many fleets there are. Standard
 * resolution: a check runs every few minutes, and an alarm on a class reads it per period.
 */
export function createEmfHealthMetrics() {
  return {
    async publish(counts: HealthCounts, options: CallOptions = {}): Promise<void> {
      checkHealthCounts(counts, 'EMF');
      printEmf(toBlobs(counts), counts.at, options.signal);
    },
  } satisfies HealthMetrics;
}

function toBlobs(counts: HealthCounts): EmfBlob[] {
  const { environment } = counts;
  const blob = (name: string, dimensions: Readonly<Record<string, string>>, value: number): EmfBlob => ({
    dimensions: { environment, ...dimensions },
    values: [{ name, unit: MetricUnit.Count, value }],
  });
  return [
    ...counts.fleets.flatMap(({ fleet, counts: perClass, replacements, held }) => [
      ...HEALTH_CLASSES.map((health) => blob(FLEET_INSTANCES_METRIC, { fleet, health }, perClass[health])),
      ...REPLACEMENT_OUTCOMES.map((outcome) =>
        blob(HEALTH_REPLACEMENTS_METRIC, { fleet, outcome }, replacements[outcome]),
      ),
      blob(HEALTH_HELD_METRIC, { fleet }, held ? 1 : 0),
    ]),
    blob(UNEXPLAINED_EXECUTORS_METRIC, {}, counts.unexplainedExecutors),
  ];
}
