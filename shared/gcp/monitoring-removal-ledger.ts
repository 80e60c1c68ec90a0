import type { MetricServiceClient } from '@google-cloud/monitoring';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import { MetricsPublishError, MetricsReadError } from '../ports/errors.ts';
import { checkRemoval, type Removal, type RemovalLedger } from '../ports/removal-ledger.ts';
import { describeGoogleError, isTransientGoogleError } from './google-errors.ts';
import { listSeries, pointTime, pointValue } from './monitoring-queue-history.ts';
import { INSTANCES_REMOVED_METRIC_TYPE, projectName } from './monitoring-series.ts';

export interface CloudMonitoringLedgerOptions {
  readonly projectId: string;
  /** The point's time, in whole seconds. */
  readonly clock: Clock;
}

/**
 * The ledger as a Cloud Monitoring custom metric: one INT64 gauge point per removal, labelled by fleet and
 * environment, summed on read from the raw points. A fleet removes at most once per cycle, far less often than the
 * series' 5-s sampling limit.
 */
export function createCloudMonitoringRemovalLedger(client: MetricServiceClient, options: CloudMonitoringLedgerOptions) {
  const name = projectName(options.projectId);
  return {
    async record(removal: Removal, callOptions: CallOptions = {}): Promise<void> {
      checkRemoval(removal, 'createTimeSeries');
      const at = { seconds: Math.floor(options.clock() / 1000), nanos: 0 };
      const series = {
        metric: {
          type: INSTANCES_REMOVED_METRIC_TYPE,
          labels: { fleet: removal.fleet, environment: removal.environment },
        },
        resource: { type: 'global', labels: { project_id: options.projectId } },
        metricKind: 'GAUGE' as const,
        valueType: 'INT64' as const,
        points: [{ interval: { startTime: at, endTime: at }, value: { int64Value: removal.count } }],
      };
      try {
        callOptions.signal?.throwIfAborted();
        await client.createTimeSeries({ name, timeSeries: [series] }, { signal: callOptions.signal });
      } catch (error) {
        throw new MetricsPublishError('createTimeSeries', describeGoogleError(error), {
          cause: error,
          retryable: isTransientGoogleError(error, callOptions.signal),
        });
      }
    },

    async removed(
      fleets: readonly string[],
      environment: string,
      from: number,
      to: number,
      callOptions: CallOptions = {},
    ): Promise<ReadonlyMap<string, number>> {
      const listing = { name, metricType: INSTANCES_REMOVED_METRIC_TYPE, environment, from, to };
      const found = await listSeries(client, listing, callOptions);
      const counts = new Map(fleets.map((fleet) => [fleet, 0]));
      for (const series of found) {
        const fleet = series.metric?.labels?.fleet ?? '';
        const sum = counts.get(fleet);
        if (sum === undefined) {
          continue;
        }
        let total = sum;
        for (const point of series.points ?? []) {
          const at = pointTime(point);
          const value = pointValue(point);
          if (at === undefined || value === undefined) {
            // An unreadable point could be a removal: failing the read holds scale-in, skipping it could allow more.
            throw new MetricsReadError('listTimeSeries', `unreadable removal point for fleet ${fleet}`);
          }
          if (at >= from && at <= to) {
            total += value;
          }
        }
        counts.set(fleet, total);
      }
      return counts;
    },
  } satisfies RemovalLedger;
}
