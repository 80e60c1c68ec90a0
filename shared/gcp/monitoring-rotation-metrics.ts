import type { MetricServiceClient } from '@google-cloud/monitoring';
import type { CallOptions } from '../ports/call-options.ts';
import { checkRotationOutcome, type RotationMetrics, type RotationOutcome } from '../ports/rotation-metrics.ts';
import { gaugePoint, writeGauges } from './monitoring-gauges.ts';
import { projectName } from './monitoring-series.ts';

/** 1 or 0 per whole rotation and per failed protocol step, label `environment`; `rotation_failed` its complement. */
export const ROTATION_SUCCEEDED_METRIC_TYPE = 'custom.googleapis.com/fleetplane/rotation_succeeded';
export const ROTATION_FAILED_METRIC_TYPE = 'custom.googleapis.com/fleetplane/rotation_failed';
/** Milliseconds (DOUBLE), label `environment`. */
export const ROTATION_DURATION_METRIC_TYPE = 'custom.googleapis.com/fleetplane/rotation_duration_ms';

/**
 * Rotation outcomes as Cloud Monitoring custom metrics at the rotation's end, written as the function's own service
 * account (which holds timeSeries.create), beside the cycle and health series.
 */
export function createCloudMonitoringRotationMetrics(
  client: MetricServiceClient,
  options: { readonly projectId: string },
) {
  const { projectId } = options;
  // Refuses an empty project id when built, not at the first write.
  projectName(projectId);
  return {
    async publish(outcome: RotationOutcome, callOptions: CallOptions = {}): Promise<void> {
      checkRotationOutcome(outcome, 'createTimeSeries');
      const labels = { environment: outcome.environment };
      const count = (type: string, value: number) => gaugePoint(projectId, outcome.at, type, labels, { count: value });
      await writeGauges(
        client,
        projectId,
        [
          count(ROTATION_SUCCEEDED_METRIC_TYPE, outcome.succeeded ? 1 : 0),
          count(ROTATION_FAILED_METRIC_TYPE, outcome.succeeded ? 0 : 1),
          gaugePoint(projectId, outcome.at, ROTATION_DURATION_METRIC_TYPE, labels, { double: outcome.durationMs }),
        ],
        callOptions,
      );
    },
  } satisfies RotationMetrics;
}
