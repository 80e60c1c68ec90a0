import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type MonitoringEmulator, startMonitoringEmulator } from '../../local/gcp/monitoring.ts';

const PROJECT = 'fleetplane-test';
const METRIC = 'custom.googleapis.com/executors/queue/size';
const START = Date.parse('2025-03-01T12:00:00Z');

/** One point of the worker's exact series: GAUGE, INT64, resource `global`, labels `queueName` and `environment`. */
function queueSize(queueName: string, value: number, atMs: number, environment = 'prod') {
  return {
    metric: { type: METRIC, labels: { queueName, environment } },
    resource: { type: 'global', labels: { project_id: PROJECT } },
    metricKind: 'GAUGE' as const,
    valueType: 'INT64' as const,
    points: [{ interval: { endTime: { seconds: Math.floor(atMs / 1000) } }, value: { int64Value: value } }],
  };
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

describe('Cloud Monitoring emulator with the real MetricServiceClient (REST)', () => {
  let now = START;
  let monitoring: MonitoringEmulator;
  let client: MetricServiceClient;

  beforeEach(async () => {
    now = START;
    monitoring = await startMonitoringEmulator({ clock: () => now });
    client = new MetricServiceClient(gcpClientOptions(monitoring.emulator));
  });

  afterEach(async () => {
    await client.close();
    await monitoring.emulator.close();
  });

  it('stores the worker series and reads it back through a filter', async () => {
    // Prepare
    const name = `projects/${PROJECT}`;

    // Act
    await client.createTimeSeries({ name, timeSeries: [queueSize('batches', 7, now), queueSize('codeintel', 3, now)] });
    const [series] = await client.listTimeSeries(
      {
        name,
        filter: `metric.type = "${METRIC}" AND metric.labels.queueName = "batches" AND resource.type = "global"`,
        interval: { startTime: { seconds: (now - 60_000) / 1000 }, endTime: { seconds: now / 1000 } },
      },
      { autoPaginate: false },
    );

    // Assess
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({
      metric: { type: METRIC, labels: { queueName: 'batches', environment: 'prod' } },
      resource: { type: 'global', labels: { project_id: PROJECT } },
      metricKind: 'GAUGE',
      valueType: 'INT64',
      points: [{ value: { int64Value: '7' } }],
    });
    expect(monitoring.descriptors()).toEqual([{ type: METRIC, metricKind: 'GAUGE', valueType: 'INT64' }]);
  });

  it('accepts 200 series in one request and rejects 201', async () => {
    // Prepare
    const batch = (count: number) => Array.from({ length: count }, (_, i) => queueSize(`q${i}`, i, now));

    // Act
    await client.createTimeSeries({ name: `projects/${PROJECT}`, timeSeries: batch(200) });
    const rejected = await client
      .createTimeSeries({ name: `projects/${PROJECT}`, timeSeries: batch(201) })
      .catch((error: unknown) => error);

    // Assess
    expect(rejected).toMatchObject({ code: 3, message: expect.stringMatching(/A maximum of 200 TimeSeries/) });
    expect(monitoring.series()).toHaveLength(200);
  });

  it('rejects a point written sooner than the per-series interval, and an out-of-order point', async () => {
    // Prepare
    const name = `projects/${PROJECT}`;
    await client.createTimeSeries({ name, timeSeries: [queueSize('batches', 1, now)] });
    now += 2_000;

    // Act
    const tooSoon = await client
      .createTimeSeries({ name, timeSeries: [queueSize('batches', 2, now), queueSize('codeintel', 2, now)] })
      .catch((error: unknown) => error);
    const outOfOrder = await client
      .createTimeSeries({ name, timeSeries: [queueSize('batches', 3, now - 60_000)] })
      .catch((error: unknown) => error);

    // Assess: the other series of the partial write was stored, the refused ones kept their single point.
    expect(String(tooSoon)).toMatch(/more frequently than the maximum sampling period.*timeSeries\[0\]/);
    expect(String(outOfOrder)).toMatch(/Points must be written in order/);
    expect(errorCode(outOfOrder)).toBe(3);
    const pointsByQueue = Object.fromEntries(
      monitoring.series().map((s) => [s.metric.labels.queueName, s.points.length]),
    );
    expect(pointsByQueue).toEqual({ batches: 1, codeintel: 1 });
  });

  it('aligns a window to 60-second maxima', async () => {
    // Prepare: one point every 20 s for two minutes.
    const name = `projects/${PROJECT}`;
    for (const value of [1, 9, 4, 2, 5, 3]) {
      now += 20_000;
      await client.createTimeSeries({ name, timeSeries: [queueSize('batches', value, now)] });
    }

    // Act
    const [series] = await client.listTimeSeries(
      {
        name,
        filter: `metric.type = "${METRIC}" AND metric.labels.environment = "prod"`,
        interval: { startTime: { seconds: START / 1000 }, endTime: { seconds: now / 1000 } },
        aggregation: { alignmentPeriod: { seconds: 60 }, perSeriesAligner: 'ALIGN_MAX' },
      },
      { autoPaginate: false },
    );

    // Assess: newest period first.
    expect(series[0]?.points?.map((point) => point.value?.int64Value)).toEqual(['5', '9']);
  });

  it('pages listTimeSeries and the client follows nextPageToken', async () => {
    // Prepare
    const name = `projects/${PROJECT}`;
    await client.createTimeSeries({ name, timeSeries: ['a', 'b', 'c'].map((queue) => queueSize(queue, 1, now)) });

    // Act
    const [all] = await client.listTimeSeries({
      name,
      filter: `metric.type = "${METRIC}"`,
      interval: { endTime: { seconds: now / 1000 } },
      pageSize: 1,
    });

    // Assess
    expect(all.map((series) => series.metric?.labels?.queueName).sort()).toEqual(['a', 'b', 'c']);
    expect(monitoring.emulator.requests.filter((r) => r.operation === 'listTimeSeries')).toHaveLength(3);
  });

  it('surfaces a 503 on createTimeSeries (not retried) but retries listTimeSeries past it', async () => {
    // Prepare
    const name = `projects/${PROJECT}`;
    // The metric exists (an earlier write created it), so reading it is not refused as unknown.
    await client.createTimeSeries({ name, timeSeries: [queueSize('codeintel', 1, now - 60_000)] });
    monitoring.emulator.injectFault({ kind: 'error', status: 503, times: 1, operation: 'createTimeSeries' });
    monitoring.emulator.injectFault({ kind: 'error', status: 503, times: 1, operation: 'listTimeSeries' });

    // Act
    const write = await client
      .createTimeSeries({ name, timeSeries: [queueSize('batches', 1, now)] })
      .catch((e: unknown) => e);
    const [read] = await client.listTimeSeries(
      { name, filter: `metric.type = "${METRIC}"`, interval: { endTime: { seconds: now / 1000 } } },
      { autoPaginate: false },
    );

    // Assess: createTimeSeries is non-idempotent in the client's retry config; ListTimeSeries retries UNAVAILABLE.
    expect(errorCode(write)).toBe(14);
    expect(read).toEqual([]);
    const statuses = monitoring.emulator.requests.map((r) => `${r.operation}:${r.status}`);
    expect(statuses).toEqual([
      'createTimeSeries:200',
      'createTimeSeries:503',
      'listTimeSeries:503',
      'listTimeSeries:200',
    ]);
  });

  it('refuses to list a custom metric nothing was ever written to, as Cloud Monitoring does', async () => {
    // Act
    const read = await client
      .listTimeSeries(
        {
          name: `projects/${PROJECT}`,
          filter: 'metric.type = "custom.googleapis.com/never/written"',
          interval: { endTime: { seconds: now / 1000 } },
        },
        { autoPaginate: false },
      )
      .catch((e: unknown) => e);

    // Assess
    expect(errorCode(read)).toBe(3);
    expect(String(read)).toMatch(/doesn't refer to any known metric/);
  });
});
