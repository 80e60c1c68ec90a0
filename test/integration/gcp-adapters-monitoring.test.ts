import { createServer, request as httpRequest, type Server } from 'node:http';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type MonitoringEmulator, startMonitoringEmulator } from '../../local/gcp/monitoring.ts';
import type { SeriesName } from '../../shared/domain/queues.ts';
import {
  createCloudMonitoringMetricsSink,
  createCloudMonitoringQueueHistory,
} from '../../shared/gcp/monitoring-queue-metrics.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';

const PROJECT = 'fleetplane-test';
const T0 = Date.parse('2025-03-01T12:00:00.250Z');
const point = (series: SeriesName, value: number, environment = 'prod') => ({ series, environment, value });

/** Forwards to the emulator and keeps each request body: the wire shape is what the worker's series must match. */
async function startRecordingProxy(port: number): Promise<{ server: Server; port: number; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0) {
        bodies.push(JSON.parse(body.toString('utf8')));
      }
      const forward = httpRequest(
        { host: '127.0.0.1', port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0, bodies };
}

describe('Cloud Monitoring adapters against the Monitoring emulator', () => {
  let now: number;
  let monitoring: MonitoringEmulator;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let client: MetricServiceClient;
  const clock = () => now;
  const writes = () => monitoring.emulator.requests.filter((r) => r.operation === 'createTimeSeries');

  beforeEach(async () => {
    now = T0;
    monitoring = await startMonitoringEmulator({ clock });
    proxy = await startRecordingProxy(monitoring.emulator.port);
    client = new MetricServiceClient(gcpClientOptions({ port: proxy.port }));
  });
  afterEach(async () => {
    await client.close();
    await new Promise((resolve) => proxy.server.close(resolve));
    await monitoring.emulator.close();
  });

  it('writes exactly the worker series: type, two labels, global resource, GAUGE, INT64 as a string, whole seconds', async () => {
    // Prepare
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });

    // Act
    await sink.publish([point('codeintel', 7)]);

    // Assess: enums travel as numbers (GAUGE = 1, INT64 = 2) since gax asks for `enum-encoding=int`; the clock's
    // 250 ms are cut, as the worker cuts to whole seconds.
    const at = '2025-03-01T12:00:00.000Z';
    expect(writes().map((r) => r.path)).toEqual([`/v3/projects/${PROJECT}/timeSeries`]);
    expect(proxy.bodies).toEqual([
      {
        timeSeries: [
          {
            metric: {
              type: 'custom.googleapis.com/executors/queue/size',
              labels: { queueName: 'codeintel', environment: 'prod' },
            },
            resource: { type: 'global', labels: { project_id: PROJECT } },
            metricKind: 1,
            valueType: 2,
            points: [{ interval: { startTime: at, endTime: at }, value: { int64Value: '7' } }],
          },
        ],
      },
    ]);
    expect(monitoring.descriptors()).toEqual([
      { type: 'custom.googleapis.com/executors/queue/size', metricKind: 'GAUGE', valueType: 'INT64' },
    ]);
  });

  it('sends at most 200 series per request', async () => {
    // Prepare: 450 series, one environment each
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });
    const points = Array.from({ length: 450 }, (_, i) => point('batches', i, `env-${i}`));

    // Act
    await sink.publish(points);

    // Assess
    const sizes = proxy.bodies.map((body) =>
      typeof body === 'object' && body !== null && 'timeSeries' in body && Array.isArray(body.timeSeries)
        ? body.timeSeries.length
        : 0,
    );
    expect(sizes).toEqual([200, 200, 50]);
    expect(monitoring.series()).toHaveLength(450);
  });

  it('skips a series this instance wrote less than the interval ago, in whole seconds', async () => {
    // Prepare
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock, minWriteIntervalMs: 5_000 });
    await sink.publish([point('codeintel', 1)]);

    // Act: from 12:00:00.250, 4.7 s later is 4 whole seconds later; 5.75 s later is 6.
    now = T0 + 4_700;
    await sink.publish([point('codeintel', 2)]);
    now = T0 + 5_750;
    await sink.publish([point('codeintel', 3)]);

    // Assess
    expect(writes().map((r) => r.status)).toEqual([200, 200]);
    expect(monitoring.series()[0]?.points.map((p) => p.value)).toEqual([
      { type: 'INT64', value: 1n },
      { type: 'INT64', value: 3n },
    ]);
  });

  it('takes "written more frequently than the maximum sampling period" as no failure, and writes the rest', async () => {
    // Prepare: another invocation wrote codeintel a moment ago
    await createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock }).publish([point('codeintel', 4)]);
    now = T0 + 2_000;
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });

    // Act
    const publish = sink.publish([point('codeintel', 5), point('batches', 6)]);

    // Assess
    await expect(publish).resolves.toBeUndefined();
    expect(writes().map((r) => r.status)).toEqual([200, 400]);
    const stored = Object.fromEntries(monitoring.series().map((s) => [s.metric.labels.queueName, s.points.length]));
    expect(stored).toEqual({ codeintel: 1, batches: 1 });
  });

  it('fails on a real refusal in a partial write, and on a server fault as retryable', async () => {
    // Prepare: a writer ahead of our clock makes our point out of order
    now = T0 + 60_000;
    await createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock }).publish([point('codeintel', 1)]);
    now = T0;
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });

    // Act
    const outOfOrder = sink.publish([point('codeintel', 2), point('batches', 2)]);
    await outOfOrder.catch(() => undefined);
    monitoring.emulator.injectFault({ kind: 'error', status: 503, times: 1, operation: 'createTimeSeries' });
    now = T0 + 120_000;
    const unavailable = sink.publish([point('batches_codeintel', 3)]);

    // Assess
    await expect(outOfOrder).rejects.toMatchObject({ name: 'MetricsPublishError', retryable: false });
    await expect(outOfOrder).rejects.toThrow(/Points must be written in order/);
    await expect(unavailable).rejects.toBeInstanceOf(MetricsPublishError);
    await expect(unavailable).rejects.toMatchObject({ retryable: true });
  });

  it('reads back peaks per minute from raw points, including a point exactly at the window start', async () => {
    // Prepare
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });
    const start = Date.parse('2025-03-01T12:01:00Z');
    for (const [offset, value] of [
      [0, 4],
      [20_000, 9],
      [65_000, 2],
    ] as const) {
      now = start + offset;
      await sink.publish([point('codeintel', value), point('codeintel', value * 10, 'staging')]);
    }

    // Act
    const histories = await createCloudMonitoringQueueHistory(client, { projectId: PROJECT }).peaks(
      ['codeintel', 'batches'],
      'prod',
      start,
      start + 120_000,
    );

    // Assess
    expect(histories).toEqual(
      new Map([
        [
          'codeintel',
          new Map([
            [start, 9],
            [start + 60_000, 2],
          ]),
        ],
        ['batches', new Map()],
      ]),
    );
  });

  it('starts no request once the signal has aborted', async () => {
    // Prepare
    const signal = AbortSignal.abort(new Error('cycle budget spent'));
    const sink = createCloudMonitoringMetricsSink(client, { projectId: PROJECT, clock });
    const history = createCloudMonitoringQueueHistory(client, { projectId: PROJECT });

    // Act
    const publish = sink.publish([point('codeintel', 1)], { signal });
    const read = history.peaks(['codeintel'], 'prod', T0, T0 + 60_000, { signal });

    // Assess
    await expect(publish).rejects.toBeInstanceOf(MetricsPublishError);
    await expect(read).rejects.toMatchObject({ name: 'MetricsReadError' });
    expect(monitoring.emulator.requests).toEqual([]);
  });
});
