import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { HEALTH_CLASSES } from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import {
  checkHealthCounts,
  type HealthCounts,
  type HealthMetrics,
  REPLACEMENT_OUTCOMES,
} from '../ports/health-metrics.ts';
import { putMetricBatches } from './cloudwatch-put.ts';
import { MAX_DATUMS_PER_PUT } from './cloudwatch-queue-metrics.ts';
import {
  FLEET_INSTANCES_METRIC,
  FLEETPLANE_NAMESPACE,
  HEALTH_HELD_METRIC,
  HEALTH_REPLACEMENTS_METRIC,
  UNEXPLAINED_EXECUTORS_METRIC,
} from './fleetplane-metrics.ts';

/**
 * Health counts as CloudWatch metrics in fleetplane's namespace: per fleet one `FleetInstances` datum per class, one
 * `HealthReplacements` datum per outcome (zeros included) and `HealthHeld`, and one `UnexplainedExecutors` datum per
 * check. Each datum carries the check's time, so every class of one check lands in the same minute even when the
 * datums take two requests. Standard resolution: a check runs every few minutes, and an alarm on a class reads it per
 * period.
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
  const datum = (MetricName: string, dimensions: Readonly<Record<string, string>>, Value: number): MetricDatum => ({
    MetricName,
    Dimensions: Object.entries({ environment, ...dimensions }).map(([Name, value]) => ({ Name, Value: value })),
    Timestamp,
    Unit: 'Count',
    Value,
  });
  return [
    ...counts.fleets.flatMap(({ fleet, counts: perClass, replacements, held }) => [
      ...HEALTH_CLASSES.map((health) => datum(FLEET_INSTANCES_METRIC, { fleet, health }, perClass[health])),
      ...REPLACEMENT_OUTCOMES.map((outcome) =>
        datum(HEALTH_REPLACEMENTS_METRIC, { fleet, outcome }, replacements[outcome]),
      ),
      datum(HEALTH_HELD_METRIC, { fleet }, held ? 1 : 0),
    ]),
    datum(UNEXPLAINED_EXECUTORS_METRIC, {}, counts.unexplainedExecutors),
  ];
}
