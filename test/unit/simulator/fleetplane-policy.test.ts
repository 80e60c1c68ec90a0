import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/index.ts';
import { createSimTask, SimTaskStalledError } from '../../../simulator/coroutine.ts';
import { simulatePolicy } from '../../../simulator/engine.ts';
import type { PolicyModel, Scenario, Trace, TraceJob } from '../../../simulator/model.ts';
import { createFleetplanePolicy } from '../../../simulator/policies/fleetplane.ts';

const scenario: Scenario = {
  bootSeconds: 90,
  maxJobsPerInstance: 4,
  jobsPerInstance: 4,
  minInstances: 0,
  maxInstances: 20,
  tailSeconds: 1800,
  sampleSeconds: 10,
  seed: 1,
};

const burst = (arrivalS: number, count: number, durationS: number): Trace => ({
  name: 'burst',
  jobs: Array.from({ length: count }, (): TraceJob => ({ arrivalS, queue: 'codeintel', durationS })),
  durationS: 1800,
});

describe('the fleetplane policy (the real scale invocation on simulated time)', () => {
  it('covers a burst within one poll interval, wherever in the minute it lands', async () => {
    for (const arrivalS of [300, 301, 309, 355, 359]) {
      const result = await simulatePolicy(burst(arrivalS, 40, 120), scenario, createFleetplanePolicy());
      const covered = result.bursts[0]?.coveredAfterS;
      expect(covered, `burst at ${arrivalS}s`).toBeDefined();
      expect(covered).toBeLessThanOrEqual(10);
      expect(result.peakInstances).toBe(10);
    }
  });

  it('scales in only after the stabilization window has seen no demand', async () => {
    const result = await simulatePolicy(burst(300, 40, 120), scenario, createFleetplanePolicy());
    // Jobs run from 390 (boot) to 510; the 600-s window then has to pass, counted in whole published minutes.
    const drained = result.timeline.find((point) => point.t > 300 && point.depth === 0)?.t ?? Number.NaN;
    const shrunk = result.timeline.find((point) => point.t > 300 && point.desired < 10)?.t ?? Number.NaN;
    expect(drained).toBe(510);
    expect(shrunk).toBeGreaterThanOrEqual(drained + 600);
    expect(shrunk).toBeLessThanOrEqual(drained + 600 + 120);
    expect(result.timeline.at(-1)).toMatchObject({ desired: 0, instances: 0 });
    expect(result.interruptedJobs).toBe(0);
  });

  it('follows its config: a shorter window scales in sooner, and the fleet bounds hold', async () => {
    const policy = createFleetplanePolicy({ fleet: { scaleInWindowSeconds: 120 } });
    const result = await simulatePolicy(burst(300, 200, 120), { ...scenario, maxInstances: 8 }, policy);
    expect(result.peakInstances).toBe(8);
    const shrunk = result.timeline.find((point) => point.t > 300 && point.desired < 8)?.t ?? Number.NaN;
    const drained = result.timeline.find((point) => point.t > 300 && point.depth === 0)?.t ?? Number.NaN;
    expect(shrunk - drained).toBeLessThanOrEqual(120 + 120);
  });

  it('is deterministic', async () => {
    const jobs = Array.from(
      { length: 300 },
      (_, index): TraceJob => ({
        arrivalS: (index * 37) % 1700,
        queue: index % 3 === 0 ? 'batches' : 'codeintel',
        durationS: 30 + ((index * 13) % 400),
      }),
    ).sort((a, b) => a.arrivalS - b.arrivalS);
    const trace: Trace = { name: 'mixed', jobs, durationS: 1800 };
    const first = await simulatePolicy(trace, scenario, createFleetplanePolicy());
    const second = await simulatePolicy(trace, scenario, createFleetplanePolicy());
    expect(second).toEqual(first);
  });
});

describe('simulated tasks (real async code on simulated time)', () => {
  it('lets time pass only through the task’s sleeps, and refuses a second start while one runs', async () => {
    const woke: number[] = [];
    const started: boolean[] = [];
    const policy: PolicyModel = {
      name: 'sleeper',
      description: 'sleeps 30 s three times',
      start(world) {
        const task = createSimTask(world);
        const body = async () => {
          for (let round = 0; round < 4; round++) {
            woke.push(world.now());
            if (round < 3) {
              await task.sleep(30_000);
            }
          }
        };
        world.at(0, async () => void started.push(await task.start(body)));
        world.at(60_000, async () => void started.push(await task.start(body)));
        world.at(120_000, async () => void started.push(await task.start(body)));
      },
    };
    await simulatePolicy(burst(0, 1, 10), scenario, policy);
    expect(started).toEqual([true, false, true]);
    expect(woke).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 210_000]);
  });

  it('fails the run, instead of hanging, when the task waits on something that never settles', async () => {
    const policy: PolicyModel = {
      name: 'stuck',
      description: 'awaits forever',
      start(world) {
        const task = createSimTask(world);
        world.at(0, async () => void (await task.start(() => new Promise(() => {}))));
      },
    };
    await expect(simulatePolicy(burst(0, 1, 10), scenario, policy)).rejects.toThrow(SimTaskStalledError);
  });

  it('refuses fleetplane settings the real function would refuse, before any run', () => {
    expect(() =>
      createFleetplanePolicy({ config: { pollIntervalSeconds: 0 }, fleet: { scaleInWindowSeconds: 5 } }),
    ).toThrow(ConfigError);
    expect(createFleetplanePolicy({ fleet: { scaleInWindowSeconds: 300 } }).description).toContain('300s window');
  });
});

describe('fleetplane with busy-signal scale-in', () => {
  const busyAware = () => createFleetplanePolicy({ fleet: { scaleIn: { mode: 'busy-signal' } } });

  it('never interrupts a job, keeps the size within bounds, and returns to the minimum once the queue drains', async () => {
    const job = fc.record({
      arrivalS: fc.integer({ min: 0, max: 1700 }),
      queue: fc.constantFrom('codeintel' as const, 'batches' as const),
      durationS: fc.integer({ min: 5, max: 900 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(job, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 3, max: 12 }),
        async (jobs, min, max) => {
          const trace: Trace = {
            name: 'random',
            jobs: [...jobs].sort((a, b) => a.arrivalS - b.arrivalS),
            durationS: 1800,
          };
          const bounds = { ...scenario, minInstances: min, maxInstances: max, tailSeconds: 3600 };
          const result = await simulatePolicy(trace, bounds, busyAware());
          expect(result.interruptedJobs).toBe(0);
          for (const point of result.timeline) {
            expect(point.desired).toBeGreaterThanOrEqual(min);
            expect(point.desired).toBeLessThanOrEqual(max);
          }
          // Drained: the 600-s window (in whole published minutes) plus one cycle later, the group is at its minimum.
          const drained = result.timeline.findLast((point) => point.depth > 0)?.t ?? 0;
          const settled = result.timeline.filter((point) => point.t >= drained + 600 + 120);
          expect(settled.length).toBeGreaterThan(0);
          expect(settled.every((point) => point.desired === min)).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('removes nothing while the busy signal is down, and still interrupts no job', async () => {
    const outage = fc.record({
      startS: fc.integer({ min: 0, max: 3000 }),
      lengthS: fc.integer({ min: 60, max: 1200 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(outage, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        async (outages, salt) => {
          const jobs = Array.from(
            { length: 150 },
            (_, index): TraceJob => ({
              arrivalS: (index * 37 + salt) % 3000,
              queue: 'codeintel',
              durationS: 30 + ((index * 53 + salt) % 600),
            }),
          ).sort((a, b) => a.arrivalS - b.arrivalS);
          const down = (at: number) =>
            outages.some(({ startS, lengthS }) => at >= startS * 1000 && at < (startS + lengthS) * 1000);
          const policy = createFleetplanePolicy({ fleet: { scaleIn: { mode: 'busy-signal' } }, busySignalDown: down });
          const result = await simulatePolicy({ name: 'outages', jobs, durationS: 3600 }, scenario, policy);
          expect(result.interruptedJobs).toBe(0);
          // Between two samples inside one outage (a sample at its end instant already sees the first read after
          // it), no instance goes: the desired size may drop (attrition), the instances stay.
          result.timeline.forEach((point, index) => {
            const next = result.timeline[index + 1];
            const inOneOutage =
              next !== undefined &&
              outages.some(({ startS, lengthS }) => point.t >= startS && next.t < startS + lengthS);
            if (inOneOutage) {
              expect(next.instances).toBeGreaterThanOrEqual(point.instances);
            }
          });
        },
      ),
      { numRuns: 10 },
    );
  });

  it('waits less than when the cloud picks the victims, on a day with many scale-ins', async () => {
    const jobs = Array.from(
      { length: 400 },
      (_, index): TraceJob => ({
        arrivalS: (index * 263) % 7000,
        queue: 'codeintel',
        durationS: 60 + ((index * 97) % 1200),
      }),
    ).sort((a, b) => a.arrivalS - b.arrivalS);
    const trace: Trace = { name: 'churn', jobs, durationS: 7200 };
    const [cloudPicks, idleOnly] = await Promise.all([
      simulatePolicy(trace, scenario, createFleetplanePolicy({ fleet: { scaleIn: { mode: 'resize' } } })),
      simulatePolicy(trace, scenario, busyAware()),
    ]);
    expect(cloudPicks.interruptedJobs).toBeGreaterThan(0);
    expect(idleOnly.interruptedJobs).toBe(0);
    expect(idleOnly.wait.max).toBeLessThan(cloudPicks.wait.max);
  });
});

describe('fleetplane with attrition scale-in', () => {
  it('never removes an instance: the fleet shrinks as executors retire, and they are not replaced', async () => {
    const attrition = createFleetplanePolicy({ fleet: { scaleIn: { mode: 'attrition' } } });
    const retiring = { ...scenario, retireAfterSeconds: 1200, tailSeconds: 3600 };
    const result = await simulatePolicy(burst(300, 80, 600), retiring, attrition);
    expect(result.interruptedJobs).toBe(0);
    expect(result.peakInstances).toBe(20);
    expect(result.completed).toBe(80);
    // Once every executor has retired, the group holds what its (lowered) desired size says: nothing.
    expect(result.timeline.at(-1)).toMatchObject({ desired: 0, instances: 0 });
  });

  it('keeps idle instances running while executors do not retire: attrition removes nothing by itself', async () => {
    const attrition = createFleetplanePolicy({ fleet: { scaleIn: { mode: 'attrition' } } });
    const result = await simulatePolicy(burst(300, 40, 120), { ...scenario, tailSeconds: 3600 }, attrition);
    expect(result.timeline.at(-1)).toMatchObject({ desired: 0, instances: 10 });
    expect(result.interruptedJobs).toBe(0);
  });
});
