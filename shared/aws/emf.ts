import { Metrics, type MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricsPublishError } from '../ports/errors.ts';
import { FLEETPLANE_NAMESPACE } from './fleetplane-metrics.ts';

export type EmfUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** One EMF document: the values sharing one set of dimension values. */
export interface EmfBlob {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly { readonly name: string; readonly unit: EmfUnit; readonly value: number }[];
}

/**
 * Prints values as CloudWatch embedded metric format through Powertools: JSON lines on stdout that Lambda's log
 * pipeline turns into metrics in fleetplane's namespace. No API call, so nothing to grant, to throttle or to time out.
 * One document per set of dimension values (a document holds each metric name once per dimension set), each stamped
 * with `at`. Powertools' default `service` dimension is dropped, so every metric has exactly the dimensions
 * `fleetplane-metrics.ts` names and alarms can match them. `POWERTOOLS_METRICS_DISABLED` (or `POWERTOOLS_DEV`)
 * silences it.
 */
export function printEmf(blobs: readonly EmfBlob[], at: number, signal?: AbortSignal): void {
  if (signal?.aborted) {
    // As every other metrics adapter refuses a spent deadline: a MetricsPublishError, before anything is printed.
    throw new MetricsPublishError('EMF', 'aborted before publishing', { cause: signal.reason, retryable: true });
  }
  for (const blob of blobs) {
    try {
      const metrics = new Metrics({ namespace: FLEETPLANE_NAMESPACE });
      metrics.clearDefaultDimensions();
      for (const [name, value] of Object.entries(blob.dimensions)) {
        metrics.addDimension(name, value);
      }
      metrics.setTimestamp(at);
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
}
