import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError, MetricsReadError } from '../ports/errors.ts';
import { checkRemoval, type Removal, type RemovalLedger } from '../ports/removal-ledger.ts';
import { describeAwsError, isTransientAwsError } from './aws-errors.ts';
import { readPeriods } from './cloudwatch-queue-metrics.ts';
import { FLEETPLANE_NAMESPACE, INSTANCES_REMOVED_METRIC } from './fleetplane-metrics.ts';

const dimensions = (fleet: string, environment: string) => [
  { Name: 'fleet', Value: fleet },
  { Name: 'environment', Value: environment },
];

/**
 * The ledger as a CloudWatch metric: one datum per removal, summed per minute on read. CloudWatch stamps the receive
 * time; what a cycle records is visible to the next invocation's read within seconds, rarely a minute later, and the
 * invocation counts its own removals itself meanwhile.
 */
export function createCloudWatchRemovalLedger(client: CloudWatchClient) {
  return {
    async record(removal: Removal, options: CallOptions = {}): Promise<void> {
      checkRemoval(removal, 'PutMetricData');
      const datum = {
        MetricName: INSTANCES_REMOVED_METRIC,
        Dimensions: dimensions(removal.fleet, removal.environment),
        Unit: 'Count' as const,
        Value: removal.count,
      };
      try {
        options.signal?.throwIfAborted();
        await client.send(new PutMetricDataCommand({ Namespace: FLEETPLANE_NAMESPACE, MetricData: [datum] }), {
          abortSignal: options.signal,
        });
      } catch (error) {
        throw new MetricsPublishError('PutMetricData', describeAwsError(error), {
          cause: error,
          retryable: isTransientAwsError(error),
        });
      }
    },

    async removed(
      fleets: readonly string[],
      environment: string,
      from: number,
      to: number,
      options: CallOptions = {},
    ): Promise<ReadonlyMap<string, number>> {
      const ids = new Map([...new Set(fleets)].map((fleet, index) => [`r${index}`, fleet]));
      const series = new Map(
        [...ids].map(([id, fleet]) => [id, { name: fleet, dimensions: dimensions(fleet, environment) }]),
      );
      const read = { namespace: FLEETPLANE_NAMESPACE, metricName: INSTANCES_REMOVED_METRIC, stat: 'Sum' as const };
      // The first minute may hold removals from before `from`, which only counts more.
      const periods = await readPeriods(client, { ...read, series, from, to }, options.signal);
      const counts = new Map<string, number>();
      for (const [id, fleet] of ids) {
        const sum = [...(periods.get(id)?.values() ?? [])].reduce((total, value) => total + value, 0);
        if (!Number.isFinite(sum) || sum < 0) {
          throw new MetricsReadError('GetMetricData', `${fleet}: ${sum} removals is not a count`);
        }
        counts.set(fleet, sum);
      }
      return counts;
    },
  } satisfies RemovalLedger;
}
