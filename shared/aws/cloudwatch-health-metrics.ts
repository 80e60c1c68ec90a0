import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { checkHealthCounts, type HealthCounts, type HealthMetrics } from '../ports/health-metrics.ts';
import { putMetricBatches } from './cloudwatch-put.ts';
import { MAX_DATUMS_PER_PUT } from './cloudwatch-queue-metrics.ts';
import { FLEET_INSTANCES_METRIC, FLEETPLANE_NAMESPACE, UNEXPLAINED_EXECUTORS_METRIC } from './fleetplane-metrics.ts';

/**
 * Health counts as CloudWatch metrics in fleetplane's namespace: one `FleetInstances` datum per fleet and class, zeros
 * included, and one `UnexplainedExecutors` datum per check. Each datum carries the check's time, so every class of
 * one check lands in the same minute even when the datums take two requests. Standard resolution: a check runs every
 * few minutes, and an alarm on a class reads it per period.
 */
export function createCloudWatchHealthMetrics(client: CloudWatchClient) {
  return {
    async publish(counts: HealthCounts, options: CallOptions = {}): Promise<void> {
      checkHealthCounts(counts, 'PutMetricData');
      await putMetricBatches(client, FLEETPLANE_NAMESPACE, batches(toData(counts)), options);
    },
  } satisfies HealthMetrics;
}

/**
 * Bytes of datums per request, below PutMetricData's 1 MB for the JSON body: room for the envelope, and for the
 * SDK's encoding differing from `JSON.stringify` (it writes `Timestamp` as epoch seconds, shorter than the ISO string
 * measured here). Only a very long environment name makes this bind before the 1000-datum cap does.
 */
const MAX_BATCH_BYTES = 900_000;

/** Consecutive runs within both of PutMetricData's caps: datums per request and request size. */
function batches(data: readonly MetricDatum[]): MetricDatum[][] {
  const runs: MetricDatum[][] = [];
  let run: MetricDatum[] = [];
  let bytes = 0;
  for (const datum of data) {
    const size = Buffer.byteLength(JSON.stringify(datum));
    if (run.length > 0 && (run.length === MAX_DATUMS_PER_PUT || bytes + size > MAX_BATCH_BYTES)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(datum);
    bytes += size;
  }
  if (run.length > 0) {
    runs.push(run);
  }
  return runs;
}

function toData(counts: HealthCounts): MetricDatum[] {
  const { environment } = counts;
  const Timestamp = new Date(counts.at);
  const data: MetricDatum[] = counts.fleets.flatMap(({ fleet, counts: perClass }) =>
    HEALTH_CLASSES.map((health) => ({
      MetricName: FLEET_INSTANCES_METRIC,
      Dimensions: [
        { Name: 'environment', Value: environment },
        { Name: 'fleet', Value: fleet },
        { Name: 'health', Value: health },
      ],
      Timestamp,
      Unit: 'Count' as const,
      Value: perClass[health],
    })),
  );
  data.push({
    MetricName: UNEXPLAINED_EXECUTORS_METRIC,
    Dimensions: [{ Name: 'environment', Value: environment }],
    Timestamp,
    Unit: 'Count',
    Value: counts.unexplainedExecutors,
  });
  return data;
}
