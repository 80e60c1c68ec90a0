import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createCloudWatchMetricsSink,
  createCloudWatchQueueHistory,
} from '../../../shared/aws/cloudwatch-queue-metrics.ts';
import { MetricsPublishError, MetricsReadError } from '../../../shared/ports/errors.ts';

expect.extend(allCustomMatcherWithAliases);

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-west-2' });
const options = { namespace: 'sourcegraph-executor' };
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);

const throttling = () =>
  new CloudWatchServiceException({
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

beforeEach(() => {
  cloudWatch.reset();
});

describe('createCloudWatchMetricsSink', () => {
  it('writes exactly what the worker writes: name, dimensions in order, Count, no Timestamp or StorageResolution', async () => {
    // Prepare
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const sink = createCloudWatchMetricsSink(client, options);

    // Act
    await sink.publish([{ series: 'batches_codeintel', environment: 'prod', value: 12 }]);

    // Assess
    expect(cloudWatch).toReceiveCommandTimes(PutMetricDataCommand, 1);
    expect(cloudWatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input).toStrictEqual({
      Namespace: 'sourcegraph-executor',
      MetricData: [
        {
          MetricName: 'src_executors_queue_size',
          Dimensions: [
            { Name: 'queueName', Value: 'batches_codeintel' },
            { Name: 'environment', Value: 'prod' },
          ],
          Unit: 'Count',
          Value: 12,
        },
      ],
    });
  });

  it('sends 2500 points as requests of at most 1000 datums', async () => {
    // Prepare
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const sink = createCloudWatchMetricsSink(client, options);
    const points = Array.from({ length: 2500 }, (_, value) => ({
      series: 'codeintel' as const,
      environment: 'prod',
      value,
    }));

    // Act
    await sink.publish(points);

    // Assess
    const sizes = cloudWatch.commandCalls(PutMetricDataCommand).map((call) => call.args[0].input.MetricData?.length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it.each([Number.NaN, Number.NEGATIVE_INFINITY, -3, 0.5])('refuses %s without calling CloudWatch', async (value) => {
    // Prepare
    const sink = createCloudWatchMetricsSink(client, options);

    // Act
    const publish = sink.publish([{ series: 'codeintel', environment: 'prod', value }]);

    // Assess
    await expect(publish).rejects.toThrow(MetricsPublishError);
    expect(cloudWatch).not.toReceiveAnyCommand();
  });

  it('wraps a throttled request as a retryable MetricsPublishError with the cause', async () => {
    // Prepare
    const cause = throttling();
    cloudWatch.on(PutMetricDataCommand).rejects(cause);
    const sink = createCloudWatchMetricsSink(client, options);

    // Act
    const publish = sink.publish([{ series: 'codeintel', environment: 'prod', value: 1 }]);

    // Assess
    await expect(publish).rejects.toMatchObject({ name: 'MetricsPublishError', retryable: true, cause });
  });

  it('marks a refused request as not retryable', async () => {
    // Prepare
    cloudWatch
      .on(PutMetricDataCommand)
      .rejects(
        new CloudWatchServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'no' }),
      );
    const sink = createCloudWatchMetricsSink(client, options);

    // Act
    const publish = sink.publish([{ series: 'codeintel', environment: 'prod', value: 1 }]);

    // Assess
    await expect(publish).rejects.toMatchObject({ name: 'MetricsPublishError', retryable: false });
  });
});

describe('createCloudWatchQueueHistory', () => {
  it('asks for each series once: Maximum over 60 s, start aligned down to the minute', async () => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'q0',
          Values: [4, 9],
          Timestamps: [new Date(T0 + 300_000), new Date(T0 + 240_000)],
          StatusCode: 'Complete',
        },
        { Id: 'q1', Values: [], StatusCode: 'Complete' },
      ],
    });
    const history = createCloudWatchQueueHistory(client, options);

    // Act
    const peaks = await history.peaks(['codeintel', 'batches', 'codeintel'], 'prod', T0 + 25_000, T0 + 600_000);

    // Assess
    expect(peaks).toEqual(
      new Map([
        [
          'codeintel',
          new Map([
            [T0 + 300_000, 4],
            [T0 + 240_000, 9],
          ]),
        ],
        ['batches', new Map()],
      ]),
    );
    expect(cloudWatch).toReceiveCommandExactlyOnceWith(GetMetricDataCommand, {
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 600_000),
      MetricDataQueries: ['codeintel', 'batches'].map((series, index) => ({
        Id: `q${index}`,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: 'sourcegraph-executor',
            MetricName: 'src_executors_queue_size',
            Dimensions: [
              { Name: 'queueName', Value: series },
              { Name: 'environment', Value: 'prod' },
            ],
          },
          Period: 60,
          Stat: 'Maximum',
        },
      })),
    });
  });

  it('follows NextToken and takes the maximum over all pages', async () => {
    // Prepare
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'q0', Values: [3], Timestamps: [new Date(T0 + 120_000)], StatusCode: 'PartialData' }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'q0',
            Values: [11, 2],
            Timestamps: [new Date(T0 + 60_000), new Date(T0)],
            StatusCode: 'Complete',
          },
        ],
      });
    const history = createCloudWatchQueueHistory(client, options);

    // Act
    const peaks = await history.peaks(['batches'], 'prod', T0, T0 + 600_000);

    // Assess
    expect(peaks.get('batches')).toEqual(
      new Map([
        [T0 + 120_000, 3],
        [T0 + 60_000, 11],
        [T0, 2],
      ]),
    );
    expect(cloudWatch).toReceiveCommandTimes(GetMetricDataCommand, 2);
    expect(cloudWatch).toReceiveNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'page-2' });
  });

  it.each(['PartialData', 'InternalError', 'Forbidden'] as const)(
    'fails rather than report a possibly low peak when the last status is %s',
    async (StatusCode) => {
      // Prepare
      cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'q0', Values: [5], StatusCode }] });
      const history = createCloudWatchQueueHistory(client, options);

      // Act
      const read = history.peaks(['batches'], 'prod', T0, T0 + 600_000);

      // Assess
      await expect(read).rejects.toThrow(MetricsReadError);
      await expect(read).rejects.toThrow(/batches: /);
    },
  );

  it('fails when a series gets no result at all', async () => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const history = createCloudWatchQueueHistory(client, options);

    // Act
    const read = history.peaks(['batches'], 'prod', T0, T0 + 600_000);

    // Assess
    await expect(read).rejects.toThrow(MetricsReadError);
  });

  it('wraps a throttled read as a retryable MetricsReadError with the cause', async () => {
    // Prepare
    const cause = throttling();
    cloudWatch.on(GetMetricDataCommand).rejects(cause);
    const history = createCloudWatchQueueHistory(client, options);

    // Act
    const read = history.peaks(['batches'], 'prod', T0, T0 + 600_000);

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'MetricsReadError', retryable: true, cause });
  });

  it('makes no call for no series', async () => {
    // Prepare
    const history = createCloudWatchQueueHistory(client, options);

    // Act
    const peaks = await history.peaks([], 'prod', T0, T0 + 600_000);

    // Assess
    expect(peaks.size).toBe(0);
    expect(cloudWatch).not.toReceiveAnyCommand();
  });
});
