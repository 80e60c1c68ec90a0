import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { runScalingCycle } from '../../shared/app/scaling-cycle.ts';
import { createInvocationMemory } from '../../shared/app/stabilization-window.ts';
import { createAwsScaleRuntime } from '../../shared/aws/deps.ts';

/**
 * Busy-aware scale-in end to end, in process: the AWS composition root with its real SDK clients against the local
 * stack (Sourcegraph, the worker's executor metrics, Auto Scaling, EC2, CloudWatch), on one injected clock.
 */

const GROUP = 'sourcegraph-executors-codeintel';
const BOOT_MS = 20_000;
const time = { now: Date.UTC(2026, 10, 27, 9) };
const clock = () => time.now;
let stack: LocalStack;

beforeEach(async () => {
  time.now = Date.UTC(2026, 10, 27, 9);
  stack = await startLocalStack({ clock, bootDelayMs: BOOT_MS, jobDurationMs: 10 * 60_000 });
  for (const [name, value] of Object.entries(stack.env())) {
    vi.stubEnv(name, value);
  }
});

afterEach(async () => {
  await stack.close();
});

async function runtime(scaleIn: 'resize' | 'busy-signal') {
  const config = stack.config({ scaleInWindowSeconds: 60, scaleIn });
  return createAwsScaleRuntime(
    { ...stack.env(), FLEETPLANE_CONFIG: JSON.stringify(config), FLEETPLANE_LOG_LEVEL: 'error' },
    clock,
  );
}

/** Cycles every 10 s for `seconds`, as one invocation polls. */
async function poll(scale: Awaited<ReturnType<typeof runtime>>, seconds: number) {
  const memory = createInvocationMemory();
  const reports = [];
  for (let elapsed = 0; elapsed < seconds; elapsed += 10) {
    reports.push(await runScalingCycle(scale.deps, scale.settings, memory));
    time.now += 10_000;
  }
  return reports;
}

describe('busy-aware scale-in against the local stack', () => {
  it('removes the idle instances and keeps the one running a job, interrupting nothing', async () => {
    // Prepare: 3 instances booted; a job long enough to outlast the test runs on one of them
    stack.autoScaling.addGroup({ name: GROUP, min: 0, max: 10, desired: 3, queues: ['codeintel'] });
    time.now += BOOT_MS + 1_000;
    stack.world.enqueue('codeintel', 1);
    time.now += 1_000;
    const scale = await runtime('busy-signal');

    // Act: the window (60 s) fills with published depth 1, then the fleet may shrink to 1
    const reports = await poll(scale, 120);

    // Assess
    const removals = stack.autoScaling.emulator.requests.filter(
      (request) => request.operation === 'TerminateInstanceInAutoScalingGroup',
    );
    expect(removals.length).toBeGreaterThan(0);
    expect(stack.autoScaling.emulator.requests.some((request) => request.operation === 'SetDesiredCapacity')).toBe(
      false,
    );
    expect(stack.autoScaling.group(GROUP)?.desired).toBe(1);
    expect(stack.autoScaling.group(GROUP)?.instances.map((instance) => instance.protectedFromScaleIn)).toEqual([true]);
    expect(stack.world.stats().jobsInterrupted).toBe(0);
    const removedIdle = reports.flatMap((report) => report.fleets).find((fleet) => fleet.action === 'removed-idle');
    expect(removedIdle).toMatchObject({ fleet: 'codeintel', reason: 'scale-in', current: 3, desired: 1 });
  });

  it('removes nothing while the worker metrics cannot be read: protected, the group shrinks only by attrition', async () => {
    // Prepare
    stack.autoScaling.addGroup({ name: GROUP, min: 0, max: 10, desired: 2, queues: ['codeintel'] });
    time.now += BOOT_MS + 1_000;
    stack.workerMetrics.emulator.injectFault({ kind: 'error', status: 503, operation: 'metrics' });
    const scale = await runtime('busy-signal');

    // Act
    const reports = await poll(scale, 120);

    // Assess: the desired size drops over the protected instances, which all keep running
    const group = stack.autoScaling.group(GROUP);
    expect(group?.desired).toBe(0);
    expect(group?.instances.map((instance) => [instance.lifecycleState, instance.protectedFromScaleIn])).toEqual([
      ['InService', true],
      ['InService', true],
    ]);
    expect(
      stack.autoScaling.emulator.requests.some(
        (request) => request.operation === 'TerminateInstanceInAutoScalingGroup',
      ),
    ).toBe(false);
    const last = reports.flatMap((report) => report.fleets).filter((fleet) => fleet.fleet === 'codeintel');
    expect(last.find((fleet) => fleet.action === 'resized')?.detail).toContain('busy signal unknown');
  });
});
