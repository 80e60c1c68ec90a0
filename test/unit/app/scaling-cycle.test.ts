import { describe, expect, it } from 'vitest';
import { runInvocation, ScalingCycleError } from '../../../shared/app/invocation.ts';
import { runScalingCycle, type ScalingDeps, type ScalingSettings } from '../../../shared/app/scaling-cycle.ts';
import { createInvocationMemory } from '../../../shared/app/stabilization-window.ts';
import type { AwsGroupTarget, Fleet, GcpGroupTarget } from '../../../shared/domain/fleet.ts';
import { normalizeAllocations } from '../../../shared/domain/queue-metric.ts';
import type { QueueName } from '../../../shared/domain/queues.ts';
import type { DepthReading, QueueDepths } from '../../../shared/domain/readings.ts';
import {
  createInMemoryInstanceGroups,
  createInMemoryQueueMetrics,
  createInMemoryRemovalLedger,
} from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import type { GroupInstance } from '../../../shared/ports/instance-groups.ts';
import type { QueueDepthSource } from '../../../shared/ports/queue-depth.ts';

const START = Date.UTC(2026, 10, 27, 12, 0, 0);
const GROUP: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-codeintel' };
const OTHER: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-batches' };

const FLEET: Fleet = {
  name: 'codeintel',
  queues: ['codeintel'],
  series: 'codeintel',
  mode: 'direct',
  target: GROUP,
  jobsPerInstance: 10,
  minInstances: 1,
  maxInstances: 20,
  scaleInWindowSeconds: 600,
};

/** A depth source whose answers the test sets; counts reads. */
function scriptedDepths(initial: Partial<Record<QueueName, number | string>>) {
  let answers = initial;
  let reads = 0;
  const source: QueueDepthSource = {
    read: async (queues) => {
      reads += 1;
      const depths: Partial<Record<QueueName, DepthReading>> = {};
      for (const queue of queues) {
        const answer = answers[queue];
        depths[queue] =
          typeof answer === 'number'
            ? { ok: true, depth: answer, observedAt: world.now }
            : { ok: false, reason: answer ?? 'not scripted' };
      }
      return depths satisfies QueueDepths;
    },
  };
  return {
    source,
    set: (next: Partial<Record<QueueName, number | string>>) => {
      answers = next;
    },
    reads: () => reads,
  };
}

const world = { now: START };

function setup(options: { fleets?: readonly Fleet[]; depths?: Partial<Record<QueueName, number | string>> } = {}) {
  world.now = START;
  const clock = () => world.now;
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ clock, write: (line) => lines.push(JSON.parse(line)) });
  const groups = createInMemoryInstanceGroups(
    [
      { target: GROUP, desired: 2, min: 0, max: 50 },
      { target: OTHER, desired: 1, min: 0, max: 50 },
    ],
    { clock },
  );
  const metrics = createInMemoryQueueMetrics({ clock });
  const depths = scriptedDepths(options.depths ?? { codeintel: 0, batches: 0 });
  const removals = createInMemoryRemovalLedger({ clock });
  const deps: ScalingDeps = { depths: depths.source, metrics, history: metrics, removals, groups, clock, logger };
  const fleets = options.fleets ?? [FLEET];
  const settings: ScalingSettings = {
    cloud: 'aws',
    environment: 'prod',
    allocations: normalizeAllocations({}, { aws: true, gcp: false }).allocations,
    series: [...new Set(fleets.map((fleet) => fleet.series))],
    fleets,
  };
  return { deps, settings, groups, metrics, removals, depths, lines };
}

/**
 * One published codeintel point per minute for the `minutes` before START (oldest first): 0, except `burst` jobs
 * `burstAt` minutes ago; the newest `skipRecent` minutes are left empty.
 */
function publishedMinutes(
  metrics: ReturnType<typeof createInMemoryQueueMetrics>,
  history: { minutes: number; burstAt: number; burst: number; skipRecent?: number },
) {
  for (let ago = history.minutes; ago > (history.skipRecent ?? 0); ago--) {
    const value = ago === history.burstAt ? history.burst : 0;
    metrics.record({ series: 'codeintel', environment: 'prod', value }, START - ago * 60_000);
  }
}

describe('runScalingCycle', () => {
  it('publishes every series in one batch and scales a direct fleet out at once', async () => {
    // Prepare
    const { deps, settings, groups, metrics, lines } = setup({
      fleets: [
        FLEET,
        {
          ...FLEET,
          name: 'both',
          queues: ['batches', 'codeintel'],
          series: 'batches_codeintel',
          mode: 'metrics',
          target: undefined,
        },
      ],
      depths: { codeintel: 95, batches: 7 },
    });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(metrics.calls.publish).toBe(1);
    expect(metrics.points().map(({ series, value, environment }) => ({ series, value, environment }))).toEqual([
      { series: 'codeintel', value: 95, environment: 'prod' },
      { series: 'batches_codeintel', value: 102, environment: 'prod' },
    ]);
    expect(groups.getGroup(GROUP)?.desired).toBe(10);
    expect(report.fleets).toEqual([
      expect.objectContaining({
        fleet: 'codeintel',
        status: 'ok',
        action: 'resized',
        reason: 'scale-out',
        depth: 95,
        current: 2,
        desired: 10,
      }),
      expect.objectContaining({ fleet: 'both', status: 'ok', action: 'none', reason: 'published', depth: 102 }),
    ]);
    expect(lines.filter((line) => line.message === 'fleet decision')).toEqual([
      expect.objectContaining({
        fleet: 'codeintel',
        mode: 'direct',
        depth: 95,
        current: 2,
        desired: 10,
        reason: 'scale-out',
      }),
      expect.objectContaining({ fleet: 'both', mode: 'metrics', depth: 102 }),
    ]);
    expect(report.allFailed).toBe(false);
  });

  it('computes and logs a shadow fleet decision without changing the group', async () => {
    // Prepare
    const { deps, settings, groups } = setup({ fleets: [{ ...FLEET, mode: 'shadow' }], depths: { codeintel: 95 } });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ status: 'ok', action: 'would-resize', desired: 10, current: 2 });
    expect(groups.getGroup(GROUP)?.desired).toBe(2);
    expect(groups.resizeCalls()).toEqual([]);
  });

  it('publishes nothing for an unknown queue and never lowers capacity', async () => {
    // Prepare
    const { deps, settings, groups, metrics } = setup({
      depths: { codeintel: 'SourcegraphUnavailableError: HTTP 502' },
    });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(metrics.calls.publish).toBe(0);
    expect(report.published.skipped).toEqual([
      { series: 'codeintel', reason: 'queue codeintel: SourcegraphUnavailableError: HTTP 502' },
    ]);
    expect(report.fleets[0]).toMatchObject({ status: 'failed', reason: 'demand-unknown', desired: 2 });
    expect(groups.resizeCalls()).toEqual([]);
    expect(report.allFailed).toBe(true);
  });

  it('scales in only after the published window no longer needs the capacity', async () => {
    // Prepare: ten minutes of published history with a burst 5 minutes ago, the queue empty now
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 0 } });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, { minutes: 10, burstAt: 5, burst: 95 });

    // Act: one cycle a minute, each a fresh invocation
    const reasons: string[] = [];
    for (let minute = 0; minute <= 6; minute++) {
      world.now = START + minute * 60_000;
      const report = await runScalingCycle(deps, settings);
      reasons.push(report.fleets[0]?.reason ?? '');
    }

    // Assess: held while the burst (5 minutes before START) is inside the 10-minute window, then down to the minimum
    expect(reasons).toEqual([
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'scale-in',
    ]);
    expect(groups.getGroup(GROUP)?.desired).toBe(1);
  });

  it('decides the same on a cold start as in a warm invocation', async () => {
    // Prepare: a shadow fleet, so deciding changes nothing between the two runs
    const { deps, settings, groups, metrics } = setup({
      fleets: [{ ...FLEET, mode: 'shadow' }],
      depths: { codeintel: 0 },
    });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, { minutes: 10, burstAt: 8, burst: 42 });
    const warm = createInvocationMemory();
    await runScalingCycle(deps, settings, warm);
    world.now += 10_000;

    // Act
    const warmDecision = await runScalingCycle(deps, settings, warm);
    const coldDecision = await runScalingCycle(deps, settings, createInvocationMemory());

    // Assess
    expect(coldDecision.fleets).toEqual(warmDecision.fleets);
    expect(coldDecision.fleets[0]).toMatchObject({ reason: 'scale-in', desired: 5, action: 'would-resize' });
  });

  it.each([
    ['only one minute of the window has data', { minutes: 1, burstAt: 5, burst: 0 }],
    ['nothing was published in the last minutes', { minutes: 10, burstAt: 9, burst: 0, skipRecent: 6 }],
  ])('holds scale-in when %s', async (_name, history) => {
    // Prepare
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 0 } });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, history);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ reason: 'window-unknown', desired: 10, action: 'none' });
  });

  it('holds scale-in while instances boot, and when the window cannot be read', async () => {
    // Prepare
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 0 } });
    groups.addGroup({
      target: GROUP,
      desired: 4,
      min: 0,
      max: 50,
      instances: [{ id: 'i-1', lifecycle: 'booting', state: 'Pending' }],
    });
    groups.addGroup({ target: OTHER, desired: 4, min: 0, max: 50 });
    metrics.failReads(1);
    const fleets = [FLEET, { ...FLEET, name: 'other', target: OTHER }];

    // Act
    const report = await runScalingCycle(deps, { ...settings, fleets });

    // Assess
    expect(report.fleets.map((fleet) => fleet.reason)).toEqual(['booting-holds-scale-in', 'window-unknown']);
    expect(groups.resizeCalls()).toEqual([]);
  });

  it("keeps going when one fleet's group is missing and reports deferred resizes as not failed", async () => {
    // Prepare
    const missing: AwsGroupTarget = { ...GROUP, autoScalingGroup: 'gone' };
    const { deps, settings, groups } = setup({ depths: { codeintel: 95 } });
    groups.deferResizes(1, { target: GROUP, reason: 'a scaling activity is in progress' });
    const fleets = [{ ...FLEET, name: 'gone', target: missing }, FLEET];

    // Act
    const report = await runScalingCycle(deps, { ...settings, fleets });

    // Assess
    expect(report.fleets).toEqual([
      expect.objectContaining({ fleet: 'gone', status: 'failed', reason: 'group-unavailable' }),
      expect.objectContaining({ fleet: 'codeintel', status: 'deferred', action: 'deferred' }),
    ]);
    expect(report.allFailed).toBe(false);
  });

  it('reports competing scaling policies loudly', async () => {
    // Prepare
    const { deps, settings, groups, lines } = setup({ depths: { codeintel: 20 } });
    groups.addGroup({
      target: GROUP,
      desired: 2,
      min: 0,
      max: 50,
      competingScalers: ['policy:scale-out (SimpleScaling)'],
    });

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]?.competingScalers).toEqual(['policy:scale-out (SimpleScaling)']);
    expect(report.fleets[0]?.detail).toMatch(/WARNING: policy:scale-out \(SimpleScaling\) fight fleetplane/);
    expect(lines.find((line) => line.message === 'fleet decision')?.level).toBe('warn');
  });

  it('reads the window back once per invocation, not once per cycle', async () => {
    // Prepare
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 0 } });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, { minutes: 10, burstAt: 1, burst: 95 });
    const memory = createInvocationMemory();

    // Act
    await runScalingCycle(deps, settings, memory);
    world.now += 10_000;
    await runScalingCycle(deps, settings, memory);

    // Assess
    expect(metrics.calls.peaks).toBe(1);
  });
});

describe('runScalingCycle sliding the window within an invocation', () => {
  it('lets a minute of demand go at the first cycle its minute has left the window, without reading again', async () => {
    // Prepare: a 2-minute window; the last demand was published in the minute that ended one minute before START
    const fleet: Fleet = { ...FLEET, scaleInWindowSeconds: 120 };
    const { deps, settings, groups, metrics } = setup({ fleets: [fleet], depths: { codeintel: 0 } });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, { minutes: 10, burstAt: 2, burst: 95 });
    const memory = createInvocationMemory();

    // Act: one invocation's cycles, every 10 s
    const reasons: string[] = [];
    for (let cycle = 0; cycle <= 6; cycle++) {
      world.now = START + cycle * 10_000;
      const report = await runScalingCycle(deps, settings, memory);
      reasons.push(report.fleets[0]?.reason ?? '');
    }

    // Assess: that minute (START-120 s to START-60 s) overlaps the window until START+60 s, and not a cycle longer
    expect(reasons).toEqual([
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'stabilizing',
      'scale-in',
    ]);
    expect(metrics.calls.peaks).toBe(1);
  });
});

describe('runScalingCycle trusting the window', () => {
  it('holds when nothing was published lately, though the invocation sees the depth itself now', async () => {
    // Prepare: an hour's window, published until 16 minutes ago (the publishes failed since)
    const fleet: Fleet = { ...FLEET, scaleInWindowSeconds: 3600 };
    const { deps, settings, groups, metrics } = setup({ fleets: [fleet], depths: { codeintel: 0 } });
    groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(metrics, { minutes: 60, burstAt: 0, burst: 0, skipRecent: 15 });
    metrics.failPublishes(10);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ reason: 'window-unknown', action: 'none' });
    expect(report.fleets[0]?.detail).toContain('recent minutes are missing');
    expect(groups.getGroup(GROUP)?.desired).toBe(10);
  });
});

describe('runInvocation', () => {
  it('polls every interval until the invocation budget is spent', async () => {
    // Prepare
    const { deps, settings, depths } = setup({ depths: { codeintel: 0 } });
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      world.now += ms;
    };

    // Act
    const report = await runInvocation(deps, settings, {
      once: false,
      until: START + 50_000,
      hardDeadline: START + 55_000,
      pollIntervalMs: 10_000,
      sleep,
    });

    // Assess
    expect(report.cycles.map((cycle) => cycle.startedAt - START)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(sleeps).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(depths.reads()).toBe(6);
  });

  it('runs exactly one cycle when asked to', async () => {
    // Prepare
    const { deps, settings } = setup();

    // Act
    const report = await runInvocation(deps, settings, {
      once: true,
      until: START + 50_000,
      hardDeadline: START + 55_000,
      pollIntervalMs: 10_000,
      sleep: async () => {},
    });

    // Assess
    expect(report.cycles).toHaveLength(1);
  });

  it('fails when every fleet failed in the last cycle', async () => {
    // Prepare
    const { deps, settings } = setup({ depths: { codeintel: 'SourcegraphAuthError: HTTP 401' } });

    // Act
    const run = runInvocation(deps, settings, {
      once: true,
      until: START + 50_000,
      hardDeadline: START + 55_000,
      pollIntervalMs: 10_000,
      sleep: async () => {},
    });

    // Assess
    await expect(run).rejects.toBeInstanceOf(ScalingCycleError);
    await expect(run).rejects.toThrow(/codeintel: demand-unknown .*SourcegraphAuthError/);
  });
});

describe('runScalingCycle under a deadline', () => {
  it('gives up on a hanging depth read at its read budget and still reports every fleet', async () => {
    // Prepare: a Sourcegraph that never answers, on the real clock since deadlines are real timers
    const { deps, settings, groups } = setup();
    const hanging: QueueDepthSource = {
      read: (queues, options) =>
        new Promise((resolve) => {
          options?.signal?.addEventListener('abort', () =>
            resolve(
              Object.fromEntries([...queues].map((queue) => [queue, { ok: false, reason: 'time budget ran out' }])),
            ),
          );
        }),
    };
    const now = Date.now();

    // Act
    const report = await runScalingCycle(
      { ...deps, depths: hanging, clock: Date.now },
      settings,
      createInvocationMemory(),
      { readBy: now + 50, finishBy: now + 2_000 },
    );

    // Assess
    expect(report.durationMs).toBeLessThan(1_500);
    expect(report.fleets[0]).toMatchObject({ status: 'failed', reason: 'demand-unknown', desired: 2 });
    expect(groups.resizeCalls()).toEqual([]);
  });
});

describe('runScalingCycle with many fleets', () => {
  it('describes the groups while depth is being read', async () => {
    // Prepare: a depth read that answers only after the groups have been asked about
    const { deps, settings, groups } = setup({ depths: { codeintel: 30 } });
    let described = false;
    let describedDuringRead = false;
    const slowDepths: QueueDepthSource = {
      read: async (queues, options) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        describedDuringRead = described;
        return deps.depths.read(queues, options);
      },
    };
    const watchedGroups = {
      ...groups,
      describe: (...args: Parameters<typeof groups.describe>) => {
        described = true;
        return groups.describe(...args);
      },
    };

    // Act
    const report = await runScalingCycle({ ...deps, depths: slowDepths, groups: watchedGroups }, settings);

    // Assess
    expect(describedDuringRead).toBe(true);
    expect(report.fleets[0]).toMatchObject({ reason: 'scale-out', action: 'resized', desired: 3 });
  });

  it('resizes the other fleets while scale-in candidates wait for a slow window read', async () => {
    // Prepare: 60 scale-in candidates first in config order, then one fleet that scales out; the read never answers
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 40 } });
    const fleets = Array.from({ length: 61 }, (_, index) => {
      const target: AwsGroupTarget = { ...GROUP, autoScalingGroup: `g${index}` };
      groups.addGroup({ target, desired: index < 60 ? 9 : 1, min: 0, max: 10 });
      return { ...FLEET, name: `f${index}`, target };
    });
    publishedMinutes(metrics, { minutes: 10, burstAt: 5, burst: 0 });
    // The read answers only when the cycle's deadline aborts it, as a hung CloudWatch endpoint would.
    const history = {
      peaks: (...args: Parameters<typeof metrics.peaks>) =>
        new Promise<never>((_, reject) => {
          const signal = args[4]?.signal;
          signal?.addEventListener('abort', () => reject(signal.reason));
        }),
    };

    // Act
    const now = world.now;
    const report = await runScalingCycle({ ...deps, history }, { ...settings, fleets }, undefined, {
      readBy: now + 1_000,
      finishBy: now + 200,
    });

    // Assess: had f60 queued behind the candidates, its resize would have started after the deadline, and failed
    expect(report.fleets.at(-1)).toMatchObject({ fleet: 'f60', reason: 'scale-out', action: 'resized' });
    expect(report.fleets[0]).toMatchObject({ reason: 'window-unknown', action: 'none' });
  });

  it('decides and resizes fleets concurrently, at most 50 at a time, reading the window back once', async () => {
    // Prepare: 80 fleets, each on its own group, every one a scale-in candidate with a slow resize
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 0 } });
    const targets = Array.from(
      { length: 80 },
      (_, index): AwsGroupTarget => ({ ...GROUP, autoScalingGroup: `g${index}` }),
    );
    for (const target of targets) {
      groups.addGroup({ target, desired: 3, min: 0, max: 10 });
    }
    publishedMinutes(metrics, { minutes: 10, burstAt: 5, burst: 0 });
    let inFlight = 0;
    let mostInFlight = 0;
    const slowGroups = {
      ...groups,
      setDesiredSize: async (target: AwsGroupTarget, size: number) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return groups.setDesiredSize(target, size);
      },
    };
    const fleets = targets.map((target, index) => ({ ...FLEET, name: `f${index}`, target }));

    // Act
    const report = await runScalingCycle({ ...deps, groups: slowGroups }, { ...settings, fleets });

    // Assess
    expect(report.fleets.map((fleet) => fleet.action)).toEqual(fleets.map(() => 'resized'));
    expect(report.fleets.map((fleet) => fleet.fleet)).toEqual(fleets.map((fleet) => fleet.name));
    expect(mostInFlight).toBe(50);
    expect(metrics.calls.peaks).toBe(1);
  });

  it("reads the window back beside the other fleets' resizes, not after them", async () => {
    // Prepare: 60 fleets that scale out, then one scale-in candidate last in config order
    const { deps, settings, groups, metrics } = setup({ depths: { codeintel: 40 } });
    const fleets = Array.from({ length: 61 }, (_, index) => {
      const target: AwsGroupTarget = { ...GROUP, autoScalingGroup: `g${index}` };
      const candidate = index === 60;
      groups.addGroup({ target, desired: candidate ? 9 : 1, min: 0, max: 10 });
      return { ...FLEET, name: `f${index}`, target };
    });
    publishedMinutes(metrics, { minutes: 10, burstAt: 5, burst: 0 });
    let resized = 0;
    let resizedBeforeRead: number | undefined;
    const slowGroups = {
      ...groups,
      setDesiredSize: async (target: AwsGroupTarget, size: number) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        resized += 1;
        return groups.setDesiredSize(target, size);
      },
    };
    const history = {
      peaks: (...args: Parameters<typeof metrics.peaks>) => {
        resizedBeforeRead ??= resized;
        return metrics.peaks(...args);
      },
    };

    // Act
    const report = await runScalingCycle({ ...deps, groups: slowGroups, history }, { ...settings, fleets });

    // Assess
    expect(report.fleets.at(-1)).toMatchObject({ fleet: 'f60', reason: 'scale-in', action: 'resized' });
    expect(
      report.fleets.slice(0, 60).every((fleet) => fleet.reason === 'scale-out' && fleet.action === 'resized'),
    ).toBe(true);
    expect(resizedBeforeRead).toBe(0);
  });
});

describe('runScalingCycle with a per-window removal limit', () => {
  const LIMITED: Fleet = { ...FLEET, scaleInWindowSeconds: 300, controls: { maxScaleInPerWindow: 3 } };

  /** A quiet past (so the window allows scale-in) and a group of 10 with nothing to do. */
  function quietFleet() {
    const subject = setup({ fleets: [LIMITED], depths: { codeintel: 0 } });
    subject.groups.addGroup({ target: GROUP, desired: 10, min: 0, max: 50 });
    publishedMinutes(subject.metrics, { minutes: 10, burstAt: 0, burst: 0 });
    return subject;
  }

  it('removes at most the limit within a window, across invocations, then more once it has passed', async () => {
    // Prepare
    const { deps, settings, groups, metrics, removals } = quietFleet();

    // Act: a fresh invocation every minute for 7 minutes, publishing as the real loop does
    const sizes: number[] = [];
    for (let minute = 0; minute <= 6; minute++) {
      world.now = START + minute * 60_000;
      await runScalingCycle(deps, settings);
      metrics.record({ series: 'codeintel', environment: 'prod', value: 0 }, world.now);
      sizes.push(groups.getGroup(GROUP)?.desired ?? -1);
    }

    // Assess: 3 at once, then held for the 5-minute window, then 3 more; the ledger holds both removals
    expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 4]);
    expect(removals.entries().map(({ count, at }) => ({ count, minute: (at - START) / 60_000 }))).toEqual([
      { count: 3, minute: 0 },
      { count: 3, minute: 6 },
    ]);
  });

  it('counts its own removals within an invocation even when the ledger could not record them', async () => {
    // Prepare
    const { deps, settings, groups, removals } = quietFleet();
    removals.failRecords(1);
    const memory = createInvocationMemory();

    // Act: two cycles of one invocation
    const first = await runScalingCycle(deps, settings, memory);
    world.now += 10_000;
    const second = await runScalingCycle(deps, settings, memory);

    // Assess: the failed record is reported, and the second cycle still knows the window's 3 are spent
    expect(first.fleets[0]?.detail).toContain('recording the removal failed');
    expect(second.fleets[0]).toMatchObject({ reason: 'removal-limit', action: 'none' });
    expect(groups.getGroup(GROUP)?.desired).toBe(7);
  });

  it('holds scale-in while the ledger cannot be read', async () => {
    // Prepare
    const { deps, settings, groups, removals } = quietFleet();
    removals.failReads(1);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]).toMatchObject({ reason: 'removal-limit', action: 'none' });
    expect(report.fleets[0]?.detail).toContain('reading the removal ledger failed');
    expect(groups.getGroup(GROUP)?.desired).toBe(10);
  });

  it('records nothing for a fleet without a limit', async () => {
    // Prepare
    const subject = quietFleet();
    const { deps, groups, removals } = subject;
    const settings: ScalingSettings = { ...subject.settings, fleets: [FLEET] };

    // Act
    await runScalingCycle(deps, settings);

    // Assess
    expect(groups.getGroup(GROUP)?.desired).toBe(1);
    expect(removals.entries()).toEqual([]);
  });
});

describe('runScalingCycle on a MIG that keeps exited VMs', () => {
  const MIG: GcpGroupTarget = { cloud: 'gcp', project: 'p', zone: 'us-central1-a', instanceGroupManager: 'executors' };
  const GCP_FLEET: Fleet = {
    ...FLEET,
    target: MIG,
    minInstances: 0,
    scaleIn: { mode: 'attrition', order: 'oldest-first' },
  };
  const vm = (id: string, lifecycle: 'in-service' | 'exited'): GroupInstance => ({
    id,
    lifecycle,
    state: lifecycle === 'exited' ? 'NONE/TERMINATED' : 'NONE/RUNNING',
    hostname: id,
  });

  function migFleet(depth: number, recreatesExited = false) {
    const subject = setup({ fleets: [GCP_FLEET], depths: { codeintel: depth } });
    subject.groups.addGroup({
      target: MIG,
      desired: 4,
      min: 0,
      max: 50,
      instances: [vm('vm-a', 'in-service'), vm('vm-b', 'exited'), vm('vm-c', 'in-service'), vm('vm-d', 'exited')],
      recreatesExited,
    });
    publishedMinutes(subject.metrics, { minutes: 10, burstAt: 0, burst: 0 });
    return subject;
  }

  it('attrition removes the exited VMs and nothing running when the fleet shrinks', async () => {
    // Prepare: the queue is empty and the window allows scale-in to 0
    const { deps, settings, groups } = migFleet(0);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess: only the two stopped VMs went; the running ones leave when their executors exit
    expect(report.fleets[0]).toMatchObject({ action: 'removed-exited', desired: 2 });
    expect(groups.getGroup(MIG)?.instances.map((instance) => instance.id)).toEqual(['vm-a', 'vm-c']);
    expect(groups.resizeCalls()).toEqual([]);
  });

  it('recreates the exited VMs while demand still needs the capacity, keeping the size', async () => {
    // Prepare: 40 jobs need all 4 instances
    const { deps, settings, groups } = migFleet(40);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess: the stopped VMs come back as fresh ones under their names; nothing is deleted or resized
    expect(report.fleets[0]).toMatchObject({ action: 'none', desired: 4 });
    expect(report.fleets[0]?.detail).toContain('recreated 2 exited instance(s) vm-b, vm-d');
    expect(groups.removeCalls()).toEqual([]);
    expect(groups.getGroup(MIG)?.instances.map(({ id, lifecycle }) => `${id}:${lifecycle}`)).toEqual([
      'vm-a:in-service',
      'vm-b:booting',
      'vm-c:in-service',
      'vm-d:booting',
    ]);
  });

  it('deletes as many exited VMs as the fleet sheds and recreates the rest', async () => {
    // Prepare: 30 jobs need 3 of the 4 instances
    const { deps, settings, groups } = migFleet(30);

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess: the oldest exited VM goes, the other comes back; the running ones are untouched
    expect(report.fleets[0]).toMatchObject({ desired: 3 });
    expect(groups.removeCalls().map((call) => call.instanceId)).toEqual(['vm-b']);
    expect(groups.getGroup(MIG)?.instances.map(({ id, lifecycle }) => `${id}:${lifecycle}`)).toEqual([
      'vm-a:in-service',
      'vm-c:in-service',
      'vm-d:booting',
    ]);
  });

  it('tells the admin when the MIG recreates exited VMs itself', async () => {
    // Prepare: no exited VM left to remove, and a group that repairs stopped VMs
    const { deps, settings, groups } = migFleet(0, true);
    await runScalingCycle(deps, settings);
    world.now += 10_000;

    // Act
    const report = await runScalingCycle(deps, settings);

    // Assess
    expect(report.fleets[0]?.detail).toContain('defaultActionOnFailure to DO_NOTHING');
    expect(groups.getGroup(MIG)?.desired).toBe(2);
  });

  it('keeps the capacity while the queue depth is unknown', async () => {
    // Prepare
    const { deps, settings, groups } = migFleet(0);
    const unknown = setup({ fleets: [GCP_FLEET], depths: { codeintel: 'Sourcegraph is down' } });

    // Act
    const report = await runScalingCycle({ ...deps, depths: unknown.depths.source }, settings);

    // Assess
    expect(report.fleets[0]?.reason).toBe('demand-unknown');
    expect(groups.getGroup(MIG)?.desired).toBe(4);
  });
});
