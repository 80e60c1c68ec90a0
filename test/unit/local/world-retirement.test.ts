import { describe, expect, it } from 'vitest';
import { createWorld, type WorldOptions } from '../../../local/world/world.ts';

const START = 1_000_000;
const BOOT_MS = 10_000;
const JOB_MS = 30_000;

function setup(options: Partial<Omit<WorldOptions, 'clock'>> = {}) {
  const time = { now: START };
  const world = createWorld({
    clock: () => time.now,
    bootDelayMs: BOOT_MS,
    jobDurationMs: JOB_MS,
    maxJobsPerExecutor: 2,
    ...options,
  });
  const powerOffs: { id: string; state: string; at: number }[] = [];
  world.onPowerOff((instance, at) => powerOffs.push({ id: instance.id, state: instance.state, at }));
  return { world, time, powerOffs };
}

describe('executor retirement in the world', () => {
  it('retires after its job limit: takes nothing more, finishes what it runs, then powers the VM off', () => {
    // Prepare: 2 jobs at once, the third one taken is the last (EXECUTOR_NUM_TOTAL_JOBS = 3)
    const { world, time, powerOffs } = setup({ retireAfterJobs: 3 });
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
    world.enqueue('codeintel', 5);

    // Act: boot, two rounds of jobs, and long after
    time.now += BOOT_MS + 3 * JOB_MS;
    const stats = world.stats();

    // Assess: jobs 1-2 ran from the boot, job 3 after them; the executor exited when job 3 ended
    const exitAt = START + BOOT_MS + 2 * JOB_MS;
    expect(powerOffs).toEqual([{ id: 'i-1', state: 'stopped', at: exitAt }]);
    expect(world.instance('i-1')).toMatchObject({ state: 'stopped', stoppedAt: exitAt, poweredOffAt: exitAt });
    expect(world.executors()[0]).toMatchObject({ jobsTaken: 3, retiringSince: START + BOOT_MS + JOB_MS });
    expect(world.executors()[0]?.exitedAt).toBe(exitAt);
    expect(world.depth('codeintel')).toEqual({ queued: 2, processing: 0, errored: 0 });
    expect(stats).toMatchObject({ jobsCompleted: 3, jobsInterrupted: 0, executorsRetired: 1, instancesTerminated: 0 });
  });

  it('retires after its active time without cutting a job short; an idle one exits right at the limit', () => {
    // Prepare: EXECUTOR_MAX_ACTIVE_TIME 20 s; one executor gets a 60 s job, the other none
    const { world, time, powerOffs } = setup({ retireAfterMs: 20_000 });
    world.launchInstance('g', { id: 'i-busy', hostname: 'h1', queues: ['codeintel'], shutdownBehavior: 'terminate' });
    time.now += BOOT_MS;
    world.enqueue('codeintel', 1, { durationMs: 60_000 });
    world.launchInstance('g', { id: 'i-idle', hostname: 'h2', queues: ['batches'], shutdownBehavior: 'terminate' });

    // Act: a job arrives for the busy executor after its limit; look once, long after
    time.now += 30_000;
    world.enqueue('codeintel', 1);
    time.now += 60_000;
    const stats = world.stats();

    // Assess
    expect(powerOffs).toEqual([
      { id: 'i-idle', state: 'terminated', at: START + BOOT_MS + BOOT_MS + 20_000 },
      { id: 'i-busy', state: 'terminated', at: START + BOOT_MS + 60_000 },
    ]);
    expect(world.depth('codeintel')).toEqual({ queued: 1, processing: 0, errored: 0 });
    expect(stats).toMatchObject({ jobsCompleted: 1, jobsInterrupted: 0, executorsRetired: 2, instancesTerminated: 2 });
  });

  it('lets a listener replace a powered-off VM at that moment, however rarely the world is looked at', () => {
    // Prepare: each power-off launches a replacement (as an Auto Scaling group below its desired capacity does)
    const run = (looks: number) => {
      const { world, time } = setup({ retireAfterJobs: 1, maxJobsPerExecutor: 1 });
      let replacements = 0;
      world.onPowerOff((instance) => {
        replacements += 1;
        world.launchInstance(instance.group, {
          id: `r-${replacements}`,
          hostname: `r${replacements}`,
          queues: ['codeintel'],
        });
      });
      world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
      world.enqueue('codeintel', 3);
      const horizon = START + 3 * (BOOT_MS + JOB_MS) + 1;
      for (let look = 1; look <= looks; look++) {
        time.now = START + Math.round(((horizon - START) * look) / looks);
        world.advance();
      }
      return world.instances().map((instance) => [instance.id, instance.launchedAt, instance.state]);
    };

    // Act
    const once = run(1);
    const often = run(97);

    // Assess: every replacement launched exactly when the previous VM powered off, and ran the next job
    expect(once).toEqual(often);
    expect(once).toEqual([
      ['i-1', START, 'stopped'],
      ['r-1', START + BOOT_MS + JOB_MS, 'stopped'],
      ['r-2', START + 2 * (BOOT_MS + JOB_MS), 'stopped'],
      ['r-3', START + 3 * (BOOT_MS + JOB_MS), 'pending'],
    ]);
  });

  it('replays scheduled actions in time order and refuses one in the past', () => {
    // Prepare
    const { world, time } = setup();
    const ran: number[] = [];
    world.schedule(START + 20_000, () => ran.push(2));
    world.schedule(START + 10_000, () => ran.push(1));

    // Act
    time.now += 30_000;
    world.advance();
    const late = () => world.schedule(START, () => ran.push(0));

    // Assess
    expect(ran).toEqual([1, 2]);
    expect(late).toThrow(RangeError);
  });

  it('refuses retirement limits that are not positive whole numbers', () => {
    // Act and Assess
    expect(() => setup({ retireAfterJobs: 0 })).toThrow(/retireAfterJobs must be a positive whole number/);
    expect(() => setup({ retireAfterMs: 1.5 })).toThrow(/retireAfterMs/);
  });
});
