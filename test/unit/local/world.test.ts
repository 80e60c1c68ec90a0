import { describe, expect, it } from 'vitest';
import { createWorld } from '../../../local/world/world.ts';

function setup(options: { bootDelayMs?: number; jobDurationMs?: number; maxJobsPerExecutor?: number } = {}) {
  const time = { now: 1_000_000 };
  const world = createWorld({
    clock: () => time.now,
    bootDelayMs: options.bootDelayMs ?? 10_000,
    jobDurationMs: options.jobDurationMs ?? 30_000,
    maxJobsPerExecutor: options.maxJobsPerExecutor ?? 2,
  });
  return { world, time };
}

describe('createWorld', () => {
  it('boots an instance into an executor after the boot delay, which then takes jobs up to its limit', () => {
    // Prepare
    const { world, time } = setup();
    world.enqueue('codeintel', 3);
    const instance = world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });

    // Act
    time.now += 9_999;
    const booting = world.instance('i-1')?.state;
    time.now += 1;
    const depth = world.depth('codeintel');

    // Assess
    expect(booting).toBe('pending');
    expect(instance.state).toBe('running');
    expect(instance.executor?.name).toMatch(/^ip-10-0-0-1-[0-9a-f-]{36}$/);
    expect(depth).toEqual({ queued: 1, processing: 2, errored: 0 });
  });

  it('replays job ends and starts in order however rarely it is looked at', () => {
    // Prepare
    const { world, time } = setup();
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
    world.enqueue('codeintel', 5);

    // Act: 10 s boot, then three rounds of two 30 s jobs; look only once, at the end
    time.now += 10_000 + 3 * 30_000;
    const stats = world.stats();

    // Assess
    expect(stats.jobsCompleted).toBe(5);
    expect(world.depth('codeintel')).toEqual({ queued: 0, processing: 0, errored: 0 });
    const finished = world.jobs().map((job) => job.finishedAt);
    expect(finished).toEqual([1_040_000, 1_040_000, 1_070_000, 1_070_000, 1_100_000]);
  });

  it('serves only the queues an executor listens to, multi-queue executors both', () => {
    // Prepare
    const { world, time } = setup();
    world.enqueue('batches', 1);
    world.enqueue('codeintel', 1);
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
    world.launchInstance('g', { id: 'i-2', hostname: 'h2', queues: ['batches', 'codeintel'] });

    // Act
    time.now += 10_000;

    // Assess
    expect(world.depth('batches').processing).toBe(1);
    expect(world.depth('codeintel').processing).toBe(1);
    expect(world.jobs().find((job) => job.queue === 'batches')?.executor).toMatch(/^h2-/);
  });

  it('puts the jobs of a terminated instance back in the queue and counts the interruption', () => {
    // Prepare
    const { world, time } = setup();
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
    world.enqueue('codeintel', 2);
    time.now += 15_000;

    // Act
    world.terminateInstance('i-1');

    // Assess
    expect(world.depth('codeintel')).toEqual({ queued: 2, processing: 0, errored: 0 });
    expect(world.stats()).toMatchObject({ jobsInterrupted: 2, instancesTerminated: 1, jobsCompleted: 0 });
    expect(world.instance('i-1')?.state).toBe('terminated');
  });

  it('reports heartbeats on the 5-second beat and keeps the last one after the instance is gone', () => {
    // Prepare
    const { world, time } = setup();
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });

    // Act
    time.now += 10_000 + 12_000;
    const alive = world.executors()[0]?.lastSeenAt;
    world.terminateInstance('i-1');
    time.now += 60_000;
    const gone = world.executors()[0]?.lastSeenAt;

    // Assess
    expect(alive).toBe(1_000_000 + 10_000 + 10_000);
    expect(gone).toBe(alive);
  });

  it('counts errored jobs in the depth and retries them', () => {
    // Prepare
    const { world, time } = setup();
    world.enqueue('codeintel', 1, { state: 'errored' });

    // Act
    const before = world.depth('codeintel');
    world.launchInstance('g', { id: 'i-1', hostname: 'h1', queues: ['codeintel'] });
    time.now += 10_000;

    // Assess
    expect(before).toEqual({ queued: 0, processing: 0, errored: 1 });
    expect(world.depth('codeintel')).toEqual({ queued: 0, processing: 1, errored: 0 });
  });
});
