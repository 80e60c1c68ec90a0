import { describe, expect, it } from 'vitest';
import { findBursts } from '../../../simulator/bursts.ts';
import { simulatePolicy } from '../../../simulator/engine.ts';
import { EventQueue } from '../../../simulator/event-queue.ts';
import type { PolicyModel, Scenario, SimWorld, Trace, TraceJob } from '../../../simulator/model.ts';
import { percentile } from '../../../simulator/stats.ts';

const scenario: Scenario = {
  bootSeconds: 60,
  maxJobsPerInstance: 2,
  jobsPerInstance: 2,
  minInstances: 0,
  maxInstances: 10,
  tailSeconds: 600,
  sampleSeconds: 60,
  seed: 7,
};

const trace = (jobs: readonly TraceJob[], durationS = 3600): Trace => ({ name: 'test', jobs, durationS });
const jobsAt = (arrivalS: number, count: number, durationS: number): TraceJob[] =>
  Array.from({ length: count }, () => ({ arrivalS, queue: 'codeintel', durationS }));

/** A policy that sets the desired size at fixed moments and records what it saw. */
function scripted(steps: readonly { readonly atS: number; readonly size: number }[], seen: string[] = []): PolicyModel {
  return {
    name: 'scripted',
    description: 'sets sizes at fixed times',
    start(world: SimWorld) {
      for (const step of steps) {
        world.at(step.atS * 1000, () => {
          seen.push(`${world.now() / 1000}s depth=${world.queueDepth()} queued=${world.queuedJobs()}`);
          world.setDesired(step.size);
        });
      }
    },
  };
}

describe('event queue', () => {
  it('pops by time, then phase, then insertion order', () => {
    const queue = new EventQueue();
    const order: string[] = [];
    queue.push(20, 0, () => void order.push('b'));
    queue.push(10, 1, () => void order.push('a-policy'));
    queue.push(10, 0, () => void order.push('a-world-1'));
    queue.push(10, 0, () => void order.push('a-world-2'));
    queue.push(5, 2, () => void order.push('first'));
    for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
      void event.action();
    }
    expect(order).toEqual(['first', 'a-world-1', 'a-world-2', 'a-policy', 'b']);
  });

  it('stays ordered over many random pushes', () => {
    const queue = new EventQueue();
    let state = 1;
    for (let index = 0; index < 1000; index++) {
      state = (state * 48271) % 2147483647;
      queue.push(state % 500, state % 3, () => {});
    }
    let last = { at: -1, phase: -1, seq: -1 };
    for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
      const ordered =
        event.at > last.at ||
        (event.at === last.at && (event.phase > last.phase || (event.phase === last.phase && event.seq > last.seq)));
      expect(ordered).toBe(true);
      last = event;
    }
  });
});

describe('simulatePolicy', () => {
  it('runs jobs on booted instances only, up to the slots of each, and times the waits', async () => {
    // 4 jobs arrive at 0; 2 instances launched at 0 boot until 60 s and run 2 jobs each for 100 s.
    const result = await simulatePolicy(trace(jobsAt(0, 4, 100)), scenario, scripted([{ atS: 0, size: 2 }]));
    expect(result.completed).toBe(4);
    expect(result.wait).toEqual({ p50: 60, p95: 60, max: 60, mean: 60 });
    expect(result.scaleActions).toBe(1);
    expect(result.interruptedJobs).toBe(0);
    // Two instances for the whole run: trace (3600 s) plus tail (600 s).
    expect(result.instanceMinutes).toBe(140);
  });

  it('queues jobs beyond the free slots and serves them first come, first served', async () => {
    const jobs = [...jobsAt(0, 2, 100), ...jobsAt(10, 1, 100)];
    const result = await simulatePolicy(trace(jobs), scenario, scripted([{ atS: 0, size: 1 }]));
    // The third job waits for a slot: the instance is ready at 60 and frees a slot at 160.
    expect(result.wait.max).toBe(150);
    expect(result.wait.p50).toBe(60);
  });

  it('removes instances the cloud picks, putting their running jobs back in the queue', async () => {
    const seen: string[] = [];
    const steps = [
      { atS: 0, size: 2 },
      { atS: 100, size: 1 },
      { atS: 400, size: 2 },
    ];
    const result = await simulatePolicy(trace(jobsAt(0, 4, 200)), scenario, scripted(steps, seen));
    // At 100 one of the two serving instances goes, with its 2 jobs; they wait for the other instance's slots.
    expect(result.interruptedJobs).toBe(2);
    expect(result.completed).toBe(4);
    expect(result.scaleActions).toBe(3);
    expect(seen[1]).toBe('100s depth=4 queued=0');
    const at = (t: number) => result.timeline.find((point) => point.t === t);
    expect(at(120)).toMatchObject({ instances: 1, desired: 1, queued: 2, depth: 4 });
    // The lost run counts as waiting: the interrupted jobs start again when the survivor frees its slots at 260.
    expect(result.wait.max).toBe(260);
    // Instance-minutes follow the size: 2 for 100 s, 1 until 400 s, then 2 until the end (4200 s).
    expect(result.instanceMinutes).toBeCloseTo((2 * 100 + 300 + 2 * 3800) / 60, 2);
  });

  it('terminates exactly the instances named, lowering the desired size by as many', async () => {
    const policy: PolicyModel = {
      name: 'terminator',
      description: 'terminates the idle instance',
      start(world) {
        world.at(0, () => world.setDesired(3));
        world.at(100_000, () => {
          const idle = world.instances().filter((instance) => instance.runningJobs === 0);
          expect(() => world.terminate(['i-nope'])).toThrow(/not all of them/);
          world.terminate(idle.map((instance) => instance.id));
        });
      },
    };
    // The first instance to be ready takes both jobs; the other two stay idle and are the ones terminated.
    const result = await simulatePolicy(trace(jobsAt(0, 2, 200)), scenario, policy);
    expect(result.interruptedJobs).toBe(0);
    expect(result.scaleActions).toBe(2);
    expect(result.timeline.find((point) => point.t === 120)).toMatchObject({ desired: 1, instances: 1, depth: 2 });
  });

  it('never picks a protected instance when the desired size drops: the group stays above it', async () => {
    const policy: PolicyModel = {
      name: 'protector',
      description: 'protects two of three, then asks for none',
      start(world) {
        world.at(0, () => world.setDesired(3));
        world.at(100_000, () => {
          world.protect(
            world
              .instances()
              .slice(0, 2)
              .map((instance) => instance.id),
          );
          world.setDesired(0);
        });
      },
    };
    const result = await simulatePolicy(trace(jobsAt(0, 4, 3000)), scenario, policy);
    expect(result.timeline.find((point) => point.t === 120)).toMatchObject({ desired: 0, instances: 2 });
    expect(result.interruptedJobs).toBe(0);
  });

  it('retires an executor after its jobs, replacing it only while the group is below its desired size', async () => {
    // Each executor retires after 2 jobs; 6 jobs of 100 s on a group of 1, then of 0.
    const steps = [
      { atS: 0, size: 1 },
      { atS: 250, size: 0 },
    ];
    const retiring = { ...scenario, retireAfterJobs: 2 };
    const result = await simulatePolicy(trace(jobsAt(0, 6, 100)), retiring, scripted(steps));
    // The first instance runs 2 jobs (60-160 s) and exits; its replacement boots (160-220 s) and takes 2 more, which
    // the drop to 0 at 250 s interrupts (it is not protected).
    expect(result.completed).toBe(2);
    expect(result.interruptedJobs).toBe(2);
    expect(result.timeline.at(-1)).toMatchObject({ desired: 0, instances: 0 });
  });

  it('refuses a size the group cannot hold, as the cloud API does', async () => {
    await expect(simulatePolicy(trace(jobsAt(0, 1, 10)), scenario, scripted([{ atS: 0, size: 11 }]))).rejects.toThrow(
      /outside \[0, 10\]/,
    );
  });

  it('starts the group at its minimum with booted instances', async () => {
    const result = await simulatePolicy(trace(jobsAt(0, 2, 10)), { ...scenario, minInstances: 1 }, scripted([]));
    expect(result.wait.max).toBe(0);
    expect(result.timeline[0]).toMatchObject({ desired: 1, instances: 1 });
  });

  it('counts jobs that never ran as unfinished, waiting until the end', async () => {
    const result = await simulatePolicy(trace(jobsAt(100, 1, 10)), scenario, scripted([]));
    expect(result.unfinished).toBe(1);
    expect(result.wait.max).toBe(3600 + 600 - 100);
  });

  it('times a burst from its first arrival until desired capacity covers the demand', async () => {
    const jobs = jobsAt(300, 20, 600);
    const result = await simulatePolicy(trace(jobs), scenario, scripted([{ atS: 330, size: 10 }]));
    expect(result.bursts).toEqual([{ startS: 300, jobs: 20, coveredAfterS: 30, longestShortfallS: 30 }]);
  });

  it('times a spread-out burst until it is covered, and separately its longest gap without capacity asked for', async () => {
    // 4 jobs every 10 s from 300 to 350; the scaler keeps up within 5 s four times, then falls behind from 340.
    const jobs = [0, 10, 20, 30, 40, 50].flatMap((offset) => jobsAt(300 + offset, 4, 3000));
    const steps = [0, 10, 20, 30].map((offset, index) => ({ atS: 305 + offset, size: 2 * (index + 1) }));
    const result = await simulatePolicy(trace(jobs), scenario, scripted([...steps, { atS: 365, size: 10 }]));
    expect(result.bursts).toEqual([{ startS: 300, jobs: 24, coveredAfterS: 65, longestShortfallS: 25 }]);
  });

  it('is deterministic for a seed', async () => {
    const jobs = Array.from(
      { length: 200 },
      (_, index): TraceJob => ({
        arrivalS: index * 7,
        queue: index % 2 ? 'codeintel' : 'batches',
        durationS: 50 + (index % 13) * 20,
      }),
    );
    const steps = Array.from({ length: 30 }, (_, index) => ({ atS: index * 45, size: (index * 7) % 11 }));
    const first = await simulatePolicy(trace(jobs), scenario, scripted(steps));
    const second = await simulatePolicy(trace(jobs), scenario, scripted(steps));
    expect(second).toEqual(first);
    expect(first.interruptedJobs).toBeGreaterThan(0);
  });
});

describe('findBursts', () => {
  it('finds two instances worth of arrivals (at least 10) within a minute, once per 10 minutes', () => {
    const jobs = [...jobsAt(100, 6, 10), ...jobsAt(150, 6, 10), ...jobsAt(400, 20, 10), ...jobsAt(2000, 9, 10)];
    expect(findBursts(trace(jobs), { jobsPerInstance: 2 })).toEqual([{ startS: 100, lastArrivalS: 150, jobs: 12 }]);
    expect(findBursts(trace(jobs), { jobsPerInstance: 8 })).toEqual([{ startS: 400, lastArrivalS: 400, jobs: 20 }]);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 20 }, (_, index) => index + 1);
    expect(percentile(sorted, 0.5)).toBe(10);
    expect(percentile(sorted, 0.95)).toBe(19);
    expect(percentile([], 0.95)).toBe(0);
  });
});
