import {
  createCloudWatchMetricsSink,
  createCloudWatchQueueHistory,
} from '../../shared/aws/cloudwatch-queue-metrics.ts';
import { createInMemoryQueueMetrics } from '../../shared/fakes/index.ts';
import { defineQueueMetricsContract } from './queue-metrics.contract.ts';
import { createCloudWatchBackend } from './support/cloudwatch-backend.ts';

defineQueueMetricsContract('in-memory fake', (clock) => {
  const metrics = createInMemoryQueueMetrics({ clock });
  return { sink: metrics, history: metrics };
});

defineQueueMetricsContract('CloudWatch adapters over a stateful CloudWatch mock', (clock) => {
  const { client } = createCloudWatchBackend(clock);
  const options = { namespace: 'sourcegraph-executor' };
  return { sink: createCloudWatchMetricsSink(client, options), history: createCloudWatchQueueHistory(client, options) };
});
