import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWorkerMetricsEmulator, type WorkerMetricsEmulator } from '../../local/sourcegraph/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import type { BusyReading } from '../../shared/ports/busy-signal.ts';
import { createPrometheusBusySignal } from '../../shared/sourcegraph/busy-signal.ts';

const START = Date.parse('2025-03-03T10:00:00Z');

let now: number;
let world: World;
let worker: WorkerMetricsEmulator;

beforeEach(async () => {
  now = START;
  world = createWorld({ clock: () => now, bootDelayMs: 10_000, jobDurationMs: 60_000, maxJobsPerExecutor: 2 });
  worker = await startWorkerMetricsEmulator({ world, clock: () => now });
});
afterEach(() => worker.close());

const busySignal = (timeoutMs = 2_000) => createPrometheusBusySignal({ url: worker.url, timeoutMs, clock: () => now });

function runningJobs(reading: BusyReading): ReadonlyMap<string, number> {
  if (!reading.known) {
    throw new Error(`expected a known reading, got unknown: ${reading.reason}`);
  }
  return reading.runningJobs;
}

/** Executor name of an instance, once it has booted. */
function executorOf(instanceId: string): string {
  const name = world.instance(instanceId)?.executor?.name;
  if (name === undefined) {
    throw new Error(`${instanceId} has no executor yet`);
  }
  return name;
}

describe('startWorkerMetricsEmulator read by the Prometheus busy signal', () => {
  it('reports the running jobs of each running executor as the world runs them', async () => {
    // Prepare: one codeintel executor, one on both queues, three jobs for two slots each
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    world.launchInstance('g', { id: 'i-2', hostname: 'ip-10-0-0-2', queues: ['batches', 'codeintel'] });
    world.enqueue('codeintel', 3);
    world.enqueue('batches', 1);
    now += 10_000;
    const signal = busySignal();

    // Act
    const busy = runningJobs(await signal.read());
    now += 60_000;
    const idle = runningJobs(await signal.read());

    // Assess: the world gave i-1 two codeintel jobs and i-2 one of each; all four end after 60 s
    expect(busy).toEqual(
      new Map([
        [executorOf('i-1'), 2],
        [executorOf('i-2'), 2],
      ]),
    );
    expect(idle).toEqual(
      new Map([
        [executorOf('i-1'), 0],
        [executorOf('i-2'), 0],
      ]),
    );
  });

  it('serves neither booting nor stopped instances, and an empty body when no executor runs', async () => {
    // Prepare
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    world.launchInstance('g', { id: 'i-2', hostname: 'ip-10-0-0-2', queues: ['codeintel'] });
    now += 10_000;
    world.launchInstance('g', { id: 'i-3', hostname: 'ip-10-0-0-3', queues: ['codeintel'] });
    world.terminateInstance('i-2');
    const signal = busySignal();

    // Act
    const reading = runningJobs(await signal.read());
    world.terminateInstance('i-1');
    const nobody = await signal.read();

    // Assess: with nobody reporting, the worker's body is empty and the reading unknown
    expect([...reading.keys()]).toEqual([executorOf('i-1')]);
    expect(nobody).toEqual({ known: false, reason: expect.stringMatching(/no executor series/) });
  });

  it('serves the worker’s shape: one block per executor with its own HELP and TYPE lines', async () => {
    // Prepare
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    world.launchInstance('g', { id: 'i-2', hostname: 'ip-10-0-0-2', queues: ['codeintel'] });
    world.enqueue('codeintel', 1, { durationMs: 5_000 });
    now += 20_000;

    // Act
    const response = await fetch(worker.url, { headers: { accept: 'text/plain;version=0.0.4' } });
    const text = await response.text();

    // Assess
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.match(/^# TYPE src_executor_processor_handlers gauge$/gm)).toHaveLength(2);
    const finished = world.jobs()[0]?.executor ?? '';
    expect(text).toContain(
      `src_executor_processor_total{op="Handle",queue="codeintel",sg_instance="${finished}",sg_job="sourcegraph-executors"} 1`,
    );
  });

  it('answers 404 off the metrics path and 405 to other methods', async () => {
    // Act
    const elsewhere = await fetch(worker.url.replace('/metrics', '/healthz'));
    const posted = await fetch(worker.url, { method: 'POST', body: '' });

    // Assess
    expect(elsewhere.status).toBe(404);
    expect(posted.status).toBe(405);
  });

  it.each([
    ['a server error', { kind: 'error' as const }, /HTTP 500: "An error has occurred while serving metrics/],
    ['throttling by a proxy', { kind: 'throttle' as const }, /HTTP 429/],
    ['a garbage answer', { kind: 'garbage' as const }, /expected text\/plain;version=0\.0\.4, got "text\/html"/],
    ['no answer', { kind: 'timeout' as const }, /no complete answer within 300ms/],
  ])('makes the reading unknown under %s, and known again once it clears', async (_, fault, message) => {
    // Prepare
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    world.enqueue('codeintel', 1);
    now += 10_000;
    worker.emulator.injectFault({ ...fault, operation: 'metrics', times: 1 });
    const signal = busySignal(300);

    // Act
    const faulty = await signal.read();
    const cleared = await signal.read();

    // Assess
    expect(faulty).toEqual({ known: false, reason: expect.stringMatching(message) });
    expect(runningJobs(cleared)).toEqual(new Map([[executorOf('i-1'), 1]]));
    expect(worker.emulator.requests.map((request) => request.fault)).toEqual([fault.kind, undefined]);
  });

  it('stays known under latency within the timeout', async () => {
    // Prepare
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    now += 10_000;
    worker.emulator.injectFault({ kind: 'latency', latencyMs: 100, operation: 'metrics' });

    // Act
    const reading = await busySignal(2_000).read();

    // Assess
    expect(runningJobs(reading)).toEqual(new Map([[executorOf('i-1'), 0]]));
  });
});
