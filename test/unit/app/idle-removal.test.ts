import { describe, expect, it } from 'vitest';
import { runScalingCycle, type ScalingDeps, type ScalingSettings } from '../../../shared/app/scaling-cycle.ts';
import type { AwsGroupTarget, Fleet } from '../../../shared/domain/fleet.ts';
import { normalizeAllocations } from '../../../shared/domain/queue-metric.ts';
import { createInMemoryInstanceGroups, createInMemoryQueueMetrics } from '../../../shared/fakes/index.ts';
import { silentLogger } from '../../../shared/observability/logger.ts';
import type { BusyReading, BusySignal } from '../../../shared/ports/busy-signal.ts';
import type { GroupInstance } from '../../../shared/ports/instance-groups.ts';

const NOW = Date.UTC(2026, 10, 27, 12);
const GROUP: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors' };
const FLEET: Fleet = {
  name: 'codeintel',
  queues: ['codeintel'],
  series: 'codeintel',
  mode: 'direct',
  target: GROUP,
  jobsPerInstance: 4,
  minInstances: 0,
  maxInstances: 10,
  scaleInWindowSeconds: 600,
  scaleIn: { mode: 'busy-signal', order: 'oldest-first' },
};

const instance = (n: number, lifecycle: GroupInstance['lifecycle'] = 'in-service'): GroupInstance => ({
  id: `i-${n}`,
  lifecycle,
  state: lifecycle,
  hostname: `ip-10-0-0-${n}`,
  launchedAt: NOW - (10 - n) * 60_000,
});

/** Answers each read with the next scripted reading (the last one repeats). */
function scriptedBusy(...readings: BusyReading[]): BusySignal & { reads: number } {
  return {
    reads: 0,
    async read() {
      const reading = readings[Math.min(this.reads, readings.length - 1)] as BusyReading;
      this.reads += 1;
      return reading;
    },
  };
}
const jobs = (running: Record<number, number>): BusyReading => ({
  known: true,
  observedAt: NOW,
  runningJobs: new Map(Object.entries(running).map(([n, count]) => [`ip-10-0-0-${n}-0c1d`, count])),
});

/** Four instances serving a queue that needs one: three may go, once the window has seen nothing more. */
function setup(busy: BusySignal | undefined, fleet: Fleet = FLEET) {
  const groups = createInMemoryInstanceGroups([
    { target: GROUP, desired: 4, min: 0, max: 10, instances: [1, 2, 3, 4].map((n) => instance(n)) },
  ]);
  const metrics = createInMemoryQueueMetrics({ clock: () => NOW });
  for (let ago = 10; ago >= 1; ago--) {
    metrics.record({ series: 'codeintel', environment: 'prod', value: 3 }, NOW - ago * 60_000);
  }
  const deps: ScalingDeps = {
    depths: { read: async () => ({ codeintel: { ok: true, depth: 3, observedAt: NOW } }) },
    metrics,
    history: metrics,
    groups,
    clock: () => NOW,
    logger: silentLogger,
    ...(busy === undefined ? {} : { busy }),
  };
  const settings: ScalingSettings = {
    cloud: 'aws',
    environment: 'prod',
    allocations: normalizeAllocations({}, { aws: true, gcp: false }).allocations,
    series: ['codeintel'],
    fleets: [fleet],
  };
  return { deps, settings, groups };
}

describe('busy-aware scale-in', () => {
  it('removes only idle instances, oldest first, lowering the desired size by as many', async () => {
    // Prepare: i-1 (oldest) runs a job; i-2, i-3, i-4 are idle
    const busy = scriptedBusy(jobs({ 1: 2, 2: 0, 3: 0, 4: 0 }));
    const { deps, settings, groups } = setup(busy);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ reason: 'scale-in', action: 'removed-idle', current: 4, desired: 1 });
    expect(groups.removeCalls().map((call) => call.instanceId)).toEqual(['i-2', 'i-3', 'i-4']);
    expect(groups.getGroup(GROUP)?.instances.map((kept) => kept.id)).toEqual(['i-1']);
    expect(groups.resizeCalls()).toEqual([]);
    expect(busy.reads).toBe(2);
  });

  it("protects every instance it has not protected yet from the group's own scale-in", async () => {
    // Prepare: the queue needs all four instances, so nothing is removed
    const busy = scriptedBusy(jobs({}));
    const { deps, settings, groups } = setup(busy, { ...FLEET, minInstances: 4 });
    await groups.protectFromScaleIn(GROUP, ['i-1']);

    // Act
    const report = await runScalingCycle(deps, settings);
    const again = await runScalingCycle(deps, settings);

    // Assess
    expect([...groups.protectedInstances(GROUP)].sort()).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
    expect(report.fleets[0]?.detail).toContain("protected 3 new instance(s) from the group's own scale-in");
    expect(again.fleets[0]?.detail).not.toContain('protected');
    expect(groups.calls.protectFromScaleIn).toBe(2);
  });

  it('shares the first reading among the fleets shrinking in one cycle, and re-checks each', async () => {
    // Prepare: a second group and fleet, shaped like the first
    const busy = scriptedBusy(jobs({ 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0 }));
    const { deps, settings, groups } = setup(busy);
    const other: AwsGroupTarget = { ...GROUP, autoScalingGroup: 'executors-2' };
    groups.addGroup({ target: other, desired: 4, min: 0, max: 10, instances: [5, 6, 7, 8].map((n) => instance(n)) });
    const fleets = [FLEET, { ...FLEET, name: 'codeintel-2', target: other }];

    // Act
    await runScalingCycle(deps, { ...settings, fleets });

    // Assess
    expect(groups.removeCalls()).toHaveLength(6);
    expect(busy.reads).toBe(3);
  });

  it('keeps an instance that took a job between the choice and the re-check', async () => {
    // Prepare
    const busy = scriptedBusy(jobs({ 1: 1, 2: 0, 3: 0, 4: 0 }), jobs({ 1: 1, 2: 1, 3: 0, 4: 0 }));
    const { deps, settings, groups } = setup(busy);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(groups.removeCalls().map((call) => call.instanceId)).toEqual(['i-3', 'i-4']);
    expect(report.fleets[0]).toMatchObject({ action: 'removed-idle', desired: 2 });
    expect(report.fleets[0]?.detail).toContain('only 2 of 3 removable');
  });

  it('counts an instance with no executor, or no host name, as busy', async () => {
    // Prepare: i-3 has no executor in the signal, i-4 has no host name
    const busy = scriptedBusy(jobs({ 1: 0, 2: 0, 4: 0 }));
    const { deps, settings, groups } = setup(busy);
    groups.setInstances(GROUP, [instance(1), instance(2), instance(3), { ...instance(4), hostname: undefined }]);

    // Act
    await runScalingCycle(deps, settings);

    // Assess
    expect(groups.removeCalls().map((call) => call.instanceId)).toEqual(['i-1', 'i-2']);
  });

  it('removes nothing while the busy signal is unknown, falling back to attrition once every instance is protected', async () => {
    // Prepare
    const busy = scriptedBusy({ known: false, reason: 'metrics endpoint answered 503' });
    const { deps, settings, groups } = setup(busy);

    // Act: the first cycle protects the instances, the second lowers the desired size over them
    const first = await runScalingCycle(deps, settings);
    const second = await runScalingCycle(deps, settings);

    // Assess
    expect(first.fleets[0]).toMatchObject({ status: 'ok', action: 'none', desired: 4 });
    expect(first.fleets[0]?.detail).toContain('busy signal unknown: metrics endpoint answered 503');
    expect(first.fleets[0]?.detail).toContain(
      "attrition held: 4 instance(s) not protected from the group's own scale-in yet",
    );
    expect(second.fleets[0]).toMatchObject({ action: 'resized', desired: 1 });
    expect(second.fleets[0]?.detail).toContain('attrition: instances leave as their executors exit');
    expect(groups.removeCalls()).toEqual([]);
    expect(groups.resizeCalls().map((call) => call.size)).toEqual([1]);
  });

  it('in attrition mode, lowers the desired size only over protected instances, and never removes one', async () => {
    // Prepare
    const { deps, settings, groups } = setup(undefined, {
      ...FLEET,
      scaleIn: { mode: 'attrition', order: 'oldest-first' },
    });

    // Act
    const first = await runScalingCycle(deps, settings);
    const second = await runScalingCycle(deps, settings);

    // Assess
    expect(first.fleets[0]?.detail).toContain('attrition held');
    expect(second.fleets[0]).toMatchObject({ reason: 'scale-in', action: 'resized', desired: 1 });
    expect(groups.removeCalls()).toEqual([]);
    expect([...groups.protectedInstances(GROUP)].sort()).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
  });

  it('never reads the busy signal when nothing is to be removed', async () => {
    // Prepare: the fleet's minimum is every instance it has
    const busy = scriptedBusy(jobs({}));
    const { deps, settings } = setup(busy, { ...FLEET, minInstances: 4 });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ action: 'none' });
    expect(busy.reads).toBe(0);
  });

  it('raises the minimum while a schedule is in force, and says so', async () => {
    // Prepare: NOW is 12:00 UTC on a Friday; the schedule keeps 6 instances during working hours in UTC
    const busy = scriptedBusy(jobs({}));
    const schedules = [{ cron: '* 8-17 * * 1-5', timezone: 'UTC', minInstances: 6 }];
    const { deps, settings, groups } = setup(busy, { ...FLEET, schedules });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ reason: 'raise-to-min', action: 'resized', desired: 6 });
    expect(report.fleets[0]?.detail).toContain('schedule "* 8-17 * * 1-5" (UTC) sets min 6');
    expect(groups.getGroup(GROUP)?.desired).toBe(6);
  });

  it("waits the fleet's own jitter before acting, the same offset every cycle", async () => {
    // Prepare
    const waits: number[] = [];
    const busy = scriptedBusy(jobs({ 1: 0, 2: 0, 3: 0, 4: 0 }));
    const { deps, settings } = setup(busy, { ...FLEET, jitterSeconds: 5 });
    const sleep = async (ms: number) => void waits.push(ms);

    // Act
    await runScalingCycle({ ...deps, sleep }, settings);
    await runScalingCycle({ ...deps, sleep }, settings);

    // Assess
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBe(waits[1]);
    expect(waits[0]).toBeGreaterThanOrEqual(0);
    expect(waits[0]).toBeLessThan(5_000);
  });

  it('resizes as before for fleets that let the cloud pick', async () => {
    // Prepare
    const busy = scriptedBusy(jobs({ 1: 1 }));
    const { deps, settings, groups } = setup(busy, { ...FLEET, scaleIn: { mode: 'resize', order: 'oldest-first' } });

    // Act
    await runScalingCycle(deps, settings);

    // Assess
    expect(groups.resizeCalls().map((call) => call.size)).toEqual([1]);
    expect(busy.reads).toBe(0);
  });
});
