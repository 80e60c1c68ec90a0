import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CallOptions } from '../ports/call-options.ts';
import { checkRotationOutcome, type RotationMetrics, type RotationOutcome } from '../ports/rotation-metrics.ts';
import { printEmf } from './emf.ts';
import { ROTATION_DURATION_METRIC, ROTATION_FAILED_METRIC, ROTATION_SUCCEEDED_METRIC } from './fleetplane-metrics.ts';

/**
 * Rotation outcomes as CloudWatch embedded metric format (see `printEmf`): one document, dimension `environment`,
 * stamped with the rotation's end. Both outcomes are written, one as 0, so a Sum alarm and a dashboard see every run.
 */
export function createEmfRotationMetrics() {
  return {
    async publish(outcome: RotationOutcome, options: CallOptions = {}): Promise<void> {
      checkRotationOutcome(outcome, 'EMF');
      const count = MetricUnit.Count;
      printEmf(
        [
          {
            dimensions: { environment: outcome.environment },
            values: [
              { name: ROTATION_SUCCEEDED_METRIC, unit: count, value: outcome.succeeded ? 1 : 0 },
              { name: ROTATION_FAILED_METRIC, unit: count, value: outcome.succeeded ? 0 : 1 },
              { name: ROTATION_DURATION_METRIC, unit: MetricUnit.Milliseconds, value: outcome.durationMs },
            ],
          },
        ],
        outcome.at,
        options.signal,
      );
    },
  } satisfies RotationMetrics;
}
