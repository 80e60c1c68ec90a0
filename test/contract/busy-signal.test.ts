import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../local/http/emulator.ts';
import { type ExecutorMetrics, renderWorkerMetrics, workerMetricsFaults } from '../../local/sourcegraph/index.ts';
import { createInMemoryBusySignal } from '../../shared/fakes/index.ts';
import { createPrometheusBusySignal } from '../../shared/sourcegraph/busy-signal.ts';
import { defineBusySignalContract, type ReportedExecutor } from './busy-signal.contract.ts';

defineBusySignalContract('in-memory fake', (clock) => {
  const fake = createInMemoryBusySignal({ clock });
  return {
    signal: fake,
    report(executors) {
      fake.makeKnown();
      fake.clearExecutors();
      for (const executor of executors) {
        fake.setRunning(executor.name, sum(executor));
      }
    },
    fail: () => fake.makeUnknown(),
  };
});

defineBusySignalContract('Prometheus adapter over a loopback worker metrics endpoint', async (clock) => {
  let reported: readonly ExecutorMetrics[] = [];
  let failing = false;
  // The worker's body as it really is, one block per executor; a failing worker answers as promhttp does.
  const endpoint = await startEmulator({
    name: 'worker-metrics-contract',
    handle: () =>
      failing
        ? workerMetricsFaults.serverError(500)
        : {
            status: 200,
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
            body: renderWorkerMetrics(reported),
          },
    faults: workerMetricsFaults,
  });
  return {
    signal: createPrometheusBusySignal({ url: `${endpoint.url}/metrics`, timeoutMs: 5_000, clock }),
    report(executors) {
      failing = false;
      reported = executors.map(toMetrics);
    },
    fail() {
      failing = true;
    },
    close: () => endpoint.close(),
  };
});

function sum(executor: ReportedExecutor): number {
  return Object.values(executor.running).reduce((total, jobs) => total + jobs, 0);
}

function toMetrics(executor: ReportedExecutor): ExecutorMetrics {
  const queues = Object.entries(executor.running);
  return {
    name: executor.name,
    handlers: new Map(queues),
    processed: new Map(queues.map(([queue]) => [queue, 0])),
  };
}

/** The control helpers the contract does not cover: scripted outages, read counts, validation. */
describe('createInMemoryBusySignal helpers', () => {
  it('answers unknown for a number of reads, then recovers, counting every read', async () => {
    // Prepare
    const fake = createInMemoryBusySignal({ clock: () => 7, running: { 'h-1': 2 } });
    fake.makeUnknown('worker restarting', 2);

    // Act
    const readings = [await fake.read(), await fake.read(), await fake.read()];

    // Assess
    expect(readings).toEqual([
      { known: false, reason: 'worker restarting' },
      { known: false, reason: 'worker restarting' },
      { known: true, observedAt: 7, runningJobs: new Map([['h-1', 2]]) },
    ]);
    expect(fake.calls.read).toBe(3);
  });

  it('stays unknown until made known when no count is given', async () => {
    // Prepare
    const fake = createInMemoryBusySignal({ running: { 'h-1': 0 } });
    fake.makeUnknown();

    // Act
    const during = [await fake.read(), await fake.read()];
    fake.makeKnown();
    const after = await fake.read();

    // Assess
    expect(during.map((reading) => reading.known)).toEqual([false, false]);
    expect(after.known).toBe(true);
  });

  it('forgets a removed executor and refuses job counts no executor could report', async () => {
    // Prepare
    const fake = createInMemoryBusySignal({ clock: () => 1, running: { 'h-1': 1, 'h-2': 0 } });

    // Act
    fake.removeExecutor('h-1');
    const reading = await fake.read();

    // Assess
    expect(reading).toEqual({ known: true, observedAt: 1, runningJobs: new Map([['h-2', 0]]) });
    expect(() => fake.setRunning('h-3', -1)).toThrow(RangeError);
    expect(() => fake.setRunning('h-3', 0.5)).toThrow(RangeError);
    expect(() => fake.makeUnknown('x', 0)).toThrow(RangeError);
  });
});
