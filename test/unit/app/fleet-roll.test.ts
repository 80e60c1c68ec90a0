import { describe, expect, it } from 'vitest';
import {
  type FleetRollDeps,
  membersNow,
  rollFleets,
  rollTargetsOf,
  rollUnderWay,
  watchRolls,
} from '../../../shared/app/fleet-roll.ts';
import type { Fleet, GroupTarget } from '../../../shared/domain/fleet.ts';
import { DEFAULT_ROLL } from '../../../shared/domain/roll.ts';
import { createInMemoryFleetRoller, type InMemoryFleetRoller } from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const MINUTE = 60_000;
const CODEINTEL: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'codeintel' };
const BATCHES: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'batches' };

interface Harness {
  readonly roller: InMemoryFleetRoller;
  readonly deps: FleetRollDeps;
  readonly lines: Record<string, unknown>[];
  now(): number;
}

/** Two fleets over a fake cloud whose roll batches take a minute; sleeping moves the clock on. */
function harness(): Harness {
  let now = T0;
  const roller = createInMemoryFleetRoller({ clock: () => now, batchMs: MINUTE });
  roller.addGroup(CODEINTEL, ['i-1', 'i-2', 'i-3', 'i-4']);
  roller.addGroup(BATCHES, ['i-5']);
  const lines: Record<string, unknown>[] = [];
  const deps: FleetRollDeps = {
    roller,
    fleets: [
      { fleet: 'codeintel', target: CODEINTEL, settings: { maxUnavailable: { fixed: 2 }, maxSurge: { fixed: 0 } } },
      { fleet: 'batches', target: BATCHES, settings: DEFAULT_ROLL },
    ],
    clock: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    logger: createJsonLogger({ write: (line) => lines.push(JSON.parse(line)) }),
  };
  return { roller, deps, lines, now: () => now };
}

describe('rollTargetsOf', () => {
  it('rolls the fleets with a group on its cloud and roll settings, and names those on the other cloud', () => {
    // Prepare
    const base = { queues: [], series: 'codeintel', mode: 'direct', jobsPerInstance: 1 } as const;
    const gce = { cloud: 'gcp', project: 'my-project', zone: 'us-central1-a', instanceGroupManager: 'executors' };
    const fleets = [
      { ...base, name: 'rolled', target: CODEINTEL, roll: DEFAULT_ROLL },
      { ...base, name: 'opted-out', target: BATCHES },
      { ...base, name: 'metrics-only', mode: 'metrics' },
      { ...base, name: 'on-gce', target: gce, roll: DEFAULT_ROLL },
    ] as unknown as Fleet[];
    const lines: Record<string, unknown>[] = [];

    // Act
    const targets = rollTargetsOf(fleets, 'aws', createJsonLogger({ write: (line) => lines.push(JSON.parse(line)) }));

    // Assess: the GCE fleet is named in a warning, not rolled from AWS
    expect(targets).toEqual([{ fleet: 'rolled', target: CODEINTEL, settings: DEFAULT_ROLL }]);
    expect(lines).toMatchObject([{ level: 'warn', fleets: ['on-gce'] }]);
  });
});

describe('rollFleets', () => {
  it('starts every fleet’s roll under the rotation’s name with the fleet’s own settings', async () => {
    // Prepare
    const h = harness();

    // Act
    const rolls = await rollFleets(h.deps, { rotation: 'r-1' });

    // Assess
    expect(rolls.map((roll) => [roll.fleet, roll.outcome])).toEqual([
      ['codeintel', 'started'],
      ['batches', 'started'],
    ]);
    expect(h.roller.started()).toEqual([
      { target: CODEINTEL, name: 'r-1', settings: h.deps.fleets[0]?.settings },
      { target: BATCHES, name: 'r-1', settings: DEFAULT_ROLL },
    ]);
  });

  it('answers a roll started by an earlier run of the rotation instead of starting it again', async () => {
    // Prepare
    const h = harness();
    await rollFleets(h.deps, { rotation: 'r-1' });

    // Act
    const again = await rollFleets(h.deps, { rotation: 'r-1' });

    // Assess
    expect(again.map((roll) => roll.outcome)).toEqual(['already-started', 'already-started']);
    expect(h.roller.started()).toHaveLength(2);
  });

  it('keeps rolling the other fleets when one group refuses, and says which failed and why', async () => {
    // Prepare
    const h = harness();
    h.roller.failNext('start');

    // Act
    const rolls = await rollFleets(h.deps, { rotation: 'r-1' });

    // Assess
    expect(rolls.map((roll) => roll.outcome)).toEqual(['failed', 'started']);
    expect(rolls[0]).toMatchObject({ fleet: 'codeintel', error: expect.stringContaining('injected fault') });
    expect(h.lines.find((line) => line.message === 'fleet roll failed to start')).toMatchObject({ fleet: 'codeintel' });
  });

  it('reports a fleet whose group someone else is rolling as busy, and starts nothing there', async () => {
    // Prepare
    const h = harness();
    h.roller.startForeignRoll(CODEINTEL);

    // Act
    const rolls = await rollFleets(h.deps, { rotation: 'r-1' });

    // Assess
    expect(rolls.map((roll) => roll.outcome)).toEqual(['busy', 'started']);
    expect(h.roller.started().map((start) => start.target)).toEqual([BATCHES]);
  });
});

describe('watchRolls', () => {
  it('follows the rolls to their end, logging progress, and measures each fleet’s rejection window', async () => {
    // Prepare: the token switched 10 s before the rolls began
    const h = harness();
    const switchedAt = T0 - 10_000;
    const started = await rollFleets(h.deps, { rotation: 'r-1' });

    // Act
    const rolls = await watchRolls(h.deps, started, { switchedAt, until: T0 + 60 * MINUTE, pollMs: 15_000 });

    // Assess: codeintel replaces 2 of 4 a minute (2 minutes), batches its one at once (1 minute)
    expect(rolls).toMatchObject([
      { fleet: 'codeintel', roll: { state: 'succeeded', remaining: 0, endedAt: T0 + 2 * MINUTE } },
      { fleet: 'batches', roll: { state: 'succeeded', remaining: 0, endedAt: T0 + MINUTE } },
    ]);
    expect(rolls[0]).toMatchObject({
      rejectionWindow: { from: switchedAt, until: T0 + 2 * MINUTE, ms: 2 * MINUTE + 10_000 },
    });
    expect(rolls[1]).toMatchObject({ rejectionWindow: { ms: MINUTE + 10_000 } });
    const progress = h.lines.filter((line) => line.message === 'fleet roll progress' && line.fleet === 'codeintel');
    expect(progress.map((line) => line.remaining)).toEqual([4, 4, 4, 2, 2, 2, 2, 0]);
    expect(h.now()).toBeLessThanOrEqual(T0 + 2 * MINUTE + 15_000);
  });

  it('ends a fleet’s rejection window when the last instance that booted with the old token is gone', async () => {
    // Prepare: the instances there as the token became current, read before the rolls start
    const h = harness();
    const oldMembers = await membersNow(h.deps);
    const started = await rollFleets(h.deps, { rotation: 'r-1' });

    // Act
    const rolls = await watchRolls(h.deps, started, {
      switchedAt: T0,
      oldMembers,
      until: T0 + 60 * MINUTE,
      pollMs: 15_000,
    });

    // Assess: codeintel's last two old instances went at two minutes, batches' one at one minute
    expect(rolls[0]).toMatchObject({ rejectionWindow: { from: T0, until: T0 + 2 * MINUTE, basis: 'instances' } });
    expect(rolls[1]).toMatchObject({ rejectionWindow: { from: T0, until: T0 + MINUTE, basis: 'instances' } });
    const progress = h.lines.filter((line) => line.message === 'fleet roll progress' && line.fleet === 'codeintel');
    expect(progress.map((line) => line.refusedInstances)).toEqual([4, 4, 4, 2, 2, 2, 2, 0]);
  });

  it('falls back to the roll’s end for a fleet whose instances could not be read as the token switched', async () => {
    // Prepare
    const h = harness();
    h.roller.failNext('members');
    const oldMembers = await membersNow(h.deps);
    const started = await rollFleets(h.deps, { rotation: 'r-1' });

    // Act
    const rolls = await watchRolls(h.deps, started, {
      switchedAt: T0,
      oldMembers,
      until: T0 + 60 * MINUTE,
      pollMs: 15_000,
    });

    // Assess
    expect(oldMembers.has('codeintel')).toBe(false);
    expect(rolls[0]).toMatchObject({ rejectionWindow: { until: T0 + 2 * MINUTE, basis: 'roll' } });
    expect(h.lines.find((line) => line.message === 'fleet members unknown')).toMatchObject({ fleet: 'codeintel' });
  });

  it('stops following at its deadline and reports the window as still open', async () => {
    // Prepare
    const h = harness();
    const started = await rollFleets(h.deps, { rotation: 'r-1' });

    // Act
    const rolls = await watchRolls(h.deps, started, { switchedAt: T0, until: T0 + 70_000, pollMs: 15_000 });

    // Assess: batches ended at one minute; codeintel still runs, and its window has no end yet
    expect(rolls[0]).toMatchObject({ roll: { state: 'in-progress', remaining: 2 } });
    expect(rolls[0]).toMatchObject({ rejectionWindow: { from: T0, ms: 60_000 } });
    expect(rolls[0]?.outcome !== 'failed' && rolls[0]?.rejectionWindow?.until).toBeUndefined();
    expect(h.now()).toBe(T0 + 60_000);
  });

  it('keeps the last progress seen when a read fails, and reads again at the next poll', async () => {
    // Prepare
    const h = harness();
    const started = await rollFleets(h.deps, { rotation: 'r-1' });
    h.roller.failNext('latest', 3);

    // Act
    const rolls = await watchRolls(h.deps, started, { until: T0 + 10 * MINUTE, pollMs: 15_000 });

    // Assess
    expect(rolls.map((roll) => roll.outcome !== 'failed' && roll.roll.state)).toEqual(['succeeded', 'succeeded']);
    expect(h.lines.filter((line) => line.message === 'fleet roll progress unknown')).toHaveLength(3);
  });

  it('reports a roll superseded by a newer one as cancelled, and stops following it', async () => {
    // Prepare
    const h = harness();
    const started = await rollFleets(h.deps, { rotation: 'r-1' });
    h.roller.startForeignRoll(CODEINTEL);

    // Act
    const rolls = await watchRolls(h.deps, started, { until: T0 + 10 * MINUTE, pollMs: 15_000 });

    // Assess
    expect(rolls[0]).toMatchObject({ roll: { state: 'cancelled' } });
  });
});

describe('rollUnderWay', () => {
  it('names a fleet whose roll has not ended, and nothing once every roll has', async () => {
    // Prepare
    const h = harness();
    h.roller.startForeignRoll(BATCHES);

    // Act
    const during = await rollUnderWay(h.deps);
    await h.deps.sleep(5 * MINUTE);
    const after = await rollUnderWay(h.deps);

    // Assess
    expect(during).toMatchObject({ fleet: 'batches', roll: { state: 'in-progress' } });
    expect(after).toBeUndefined();
  });
});
