import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import { describeAwsError, isTransientAwsError } from './aws-errors.ts';

/**
 * Sends the batches one PutMetricData each, in order. The first refusal stops the rest and is a
 * `MetricsPublishError` saying how many datums were sent before it.
 */
export async function putMetricBatches(
  client: CloudWatchClient,
  namespace: string,
  batches: readonly (readonly MetricDatum[])[],
  options: CallOptions = {},
): Promise<void> {
  const total = batches.reduce((sum, batch) => sum + batch.length, 0);
  let sent = 0;
  for (const batch of batches) {
    try {
      // The SDK checks the signal only inside its HTTP handler; refusing here keeps a spent deadline from starting a
      // request at all, whatever handler is configured.
      options.signal?.throwIfAborted();
      await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: [...batch] }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw new MetricsPublishError(
        'PutMetricData',
        `${describeAwsError(error)} (${sent} of ${total} datums were sent)`,
        { cause: error, retryable: isTransientAwsError(error) },
      );
    }
    sent += batch.length;
  }
}
