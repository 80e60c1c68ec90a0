import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { type FrameworkServer, startFunctionsFramework, useBuiltGcpPackage } from '../support/functions-framework.ts';

/**
 * The built GCP bundle served by the real functions-framework (its own CLI, as Cloud Functions runs it), with the
 * official Google clients in REST mode pointed at the local stack's emulators.
 */

const ZONE = 'us-central1-a';
const GROUP = 'executors-codeintel';
const gcpPackage = useBuiltGcpPackage();
let stack: LocalStack;
let server: FrameworkServer | undefined;
/** What the server printed so far. */
const serverLog = () => server?.log() ?? '';

beforeEach(async () => {
  stack = await startLocalStack({ bootDelayMs: 60_000 });
  stack.compute.addGroup({ project: LOCAL_GCP_PROJECT, zone: ZONE, name: GROUP, targetSize: 1, queues: ['codeintel'] });
});

afterEach(async () => {
  server?.stop();
  server = undefined;
  await stack.close();
});

const config = () => ({
  environment: 'local',
  sourcegraph: { endpoint: stack.sourcegraph.url },
  metrics: { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
  pollIntervalSeconds: 2,
  invocationSeconds: 4,
  fleets: [
    {
      name: 'codeintel',
      queues: ['codeintel'],
      mode: 'direct',
      target: { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone: ZONE, instanceGroupManager: GROUP },
      jobsPerInstance: 4,
      maxInstances: 10,
      scaleIn: { mode: 'attrition' },
    },
  ],
});

/** Starts `functions-framework --target=scale` on the built package and waits until it answers. */
async function serve(): Promise<string> {
  server = await startFunctionsFramework({
    source: gcpPackage(),
    target: 'scale',
    signature: 'http',
    env: {
      FLEETPLANE_CONFIG: JSON.stringify(config()),
      SRC_ACCESS_TOKEN: LOCAL_SOURCEGRAPH_TOKEN,
      FLEETPLANE_GCP_MONITORING_ENDPOINT: stack.monitoring.emulator.url,
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: stack.compute.emulator.url,
      FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: stack.secretManager.emulator.url,
      FLEETPLANE_TIMEOUT_SECONDS: '20',
    },
  });
  return `${server.url}/`;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The worker-identical queue series, apart from fleetplane's own cycle metrics written beside them. */
const workerSeries = () =>
  stack.monitoring.series().filter((series) => series.metric.type.startsWith('custom.googleapis.com/executors/'));
/** One of fleetplane's own series, by the last part of its type. */
const ownSeries = (name: string) =>
  stack.monitoring.series().filter((series) => series.metric.type === `custom.googleapis.com/fleetplane/${name}`);

describe('the built GCP scale function in the functions-framework server', () => {
  it('publishes the worker-identical series and resizes the managed instance group', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 30);
    const url = await serve();

    // Act
    const response = await post(url, { once: true });
    const summary: unknown = await response.json();

    // Assess
    expect(response.status, serverLog()).toBe(200);
    expect(summary).toMatchObject({
      cycles: 1,
      published: ['codeintel'],
      fleets: [{ fleet: 'codeintel', status: 'ok', action: 'resized', reason: 'scale-out', current: 1, desired: 8 }],
    });
    expect(stack.compute.group(LOCAL_GCP_PROJECT, ZONE, GROUP)?.targetSize()).toBe(8);
    expect(ownSeries('cycle_succeeded')).toHaveLength(1);
    expect(workerSeries()).toEqual([
      expect.objectContaining({
        metric: {
          type: 'custom.googleapis.com/executors/queue/size',
          labels: { queueName: 'codeintel', environment: 'local' },
        },
        resource: { type: 'global', labels: { project_id: LOCAL_GCP_PROJECT } },
        metricKind: 'GAUGE',
        valueType: 'INT64',
        points: [expect.objectContaining({ value: { type: 'INT64', value: 30n } })],
      }),
    ]);
    expect(serverLog()).not.toContain(LOCAL_SOURCEGRAPH_TOKEN);
  });

  it("stamps every line of a request with Google's trace for it, and the caller's own id beside it", async () => {
    // Prepare
    stack.world.enqueue('codeintel', 30);
    const url = await serve();
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const send = (headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ once: true }),
      });

    // Act
    expect((await send({ 'x-cloud-trace-context': `${trace}/1;o=1` })).status, serverLog()).toBe(200);
    expect((await send({ 'x-correlation-id': 'caller-42', 'x-cloud-trace-context': `${trace}/2;o=1` })).status).toBe(
      200,
    );

    // Assess
    await server?.waitForLog(/"fleet decision".*"caller-42"/);
    const decisions = () =>
      serverLog()
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"fleet decision"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(decisions().map((line) => [line.correlation_id, line.caller_correlation_id, line.severity])).toEqual([
      [trace, undefined, 'INFO'],
      [trace, 'caller-42', 'INFO'],
    ]);
  });

  it('polls until its invocation budget is spent when Cloud Scheduler calls it', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 4);
    const url = await serve();

    // Act: a scheduler tick (no body); invocationSeconds is 4 and polls are 2 s apart
    const response = await post(url, {});
    const summary: unknown = await response.json();

    // Assess
    expect(response.status, serverLog()).toBe(200);
    expect(summary).toMatchObject({ cycles: expect.any(Number) });
    expect(isRecord(summary) && Number(summary.cycles)).toBeGreaterThanOrEqual(2);
    expect(workerSeries()[0]?.points.length).toBe(1);
  });

  it('answers 500 with a problem document and changes nothing when Sourcegraph keeps failing', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 30);
    stack.sourcegraph.emulator.injectFault({ kind: 'error', status: 503 });
    const url = await serve();

    // Act
    const response = await post(url, { once: true });
    const problem: unknown = await response.json();

    // Assess
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(problem).toMatchObject({
      title: 'Internal Server Error',
      status: 500,
      detail: expect.stringMatching(/^scale invocation failed: .*codeintel: demand-unknown/),
    });
    expect(stack.compute.group(LOCAL_GCP_PROJECT, ZONE, GROUP)?.targetSize()).toBe(1);
    expect(workerSeries()).toEqual([]);
    // fleetplane's own series say why: the cycle failed, on Sourcegraph.
    expect(ownSeries('cycle_failed')).toHaveLength(1);
    expect(ownSeries('errors').filter((series) => series.metric.labels?.source === 'sourcegraph')).toHaveLength(1);
  });
});
