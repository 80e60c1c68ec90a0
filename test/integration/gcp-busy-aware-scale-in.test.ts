import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { runScalingCycle } from '../../shared/app/scaling-cycle.ts';
import { createInvocationMemory } from '../../shared/app/stabilization-window.ts';
import { createGcpScaleRuntime } from '../../shared/gcp/deps.ts';

/**
 * Busy-aware scale-in end to end on GCP, in process: the GCP composition root with the real Google clients against the
 * local stack (Sourcegraph, the worker's executor metrics, Compute, Cloud Monitoring), on one injected clock.
 */

const ZONE = 'us-central1-a';
const MIG = 'executors-codeintel';
const BOOT_MS = 20_000;
const time = { now: Date.UTC(2026, 10, 27, 9) };
const clock = () => time.now;
let stack: LocalStack;

beforeEach(async () => {
  time.now = Date.UTC(2026, 10, 27, 9);
  stack = await startLocalStack({ clock, bootDelayMs: BOOT_MS, jobDurationMs: 10 * 60_000 });
});

afterEach(async () => {
  await stack.close();
});

async function runtime() {
  const config = {
    environment: 'local',
    sourcegraph: { endpoint: stack.sourcegraph.url, token: LOCAL_SOURCEGRAPH_TOKEN },
    metrics: { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
    busySignal: { url: stack.workerMetrics.url },
    fleets: [
      {
        name: 'codeintel',
        queues: ['codeintel'],
        mode: 'direct',
        target: { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone: ZONE, instanceGroupManager: MIG },
        jobsPerInstance: 4,
        maxInstances: 10,
        scaleInWindowSeconds: 60,
        scaleIn: { mode: 'busy-signal' },
      },
    ],
  };
  return createGcpScaleRuntime(
    {
      FLEETPLANE_CONFIG: JSON.stringify(config),
      FLEETPLANE_LOG_LEVEL: 'error',
      FLEETPLANE_GCP_MONITORING_ENDPOINT: stack.monitoring.emulator.url,
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: stack.compute.emulator.url,
    },
    clock,
  );
}

describe('busy-aware scale-in on GCP against the local stack', () => {
  it('deletes the idle instances from the MIG and keeps the one running a job, never resizing down', async () => {
    // Prepare: 3 VMs booted; one long job runs on one of them
    stack.compute.addGroup({ project: LOCAL_GCP_PROJECT, zone: ZONE, name: MIG, targetSize: 3, queues: ['codeintel'] });
    time.now += BOOT_MS + 1_000;
    stack.world.enqueue('codeintel', 1);
    time.now += 1_000;
    const scale = await runtime();

    // Act: cycles every 10 s for two minutes, as invocations poll
    const memory = createInvocationMemory();
    const reports = [];
    for (let elapsed = 0; elapsed < 120; elapsed += 10) {
      reports.push(await runScalingCycle(scale.deps, scale.settings, memory));
      time.now += 10_000;
    }

    // Assess
    const operations = stack.compute.emulator.requests.map((request) => request.operation);
    expect(operations).toContain('instanceGroupManagers.deleteInstances');
    expect(operations).not.toContain('instanceGroupManagers.resize');
    expect(stack.compute.group(LOCAL_GCP_PROJECT, ZONE, MIG)?.targetSize()).toBe(1);
    expect(stack.world.stats().jobsInterrupted).toBe(0);
    const removed = reports.flatMap((report) => report.fleets).find((fleet) => fleet.action === 'removed-idle');
    expect(removed).toMatchObject({ reason: 'scale-in', current: 3, desired: 1 });
  });
});
