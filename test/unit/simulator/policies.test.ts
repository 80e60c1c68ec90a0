import { describe, expect, it } from 'vitest';
import { simulatePolicy } from '../../../simulator/engine.ts';
import type { PolicyModel, Scenario, SimInstance, SimWorld, Trace } from '../../../simulator/model.ts';
import { createBuildkitePolicy } from '../../../simulator/policies/buildkite.ts';
import { createGcePolicy } from '../../../simulator/policies/gce.ts';
import { PolicyOptionsError } from '../../../simulator/policies/options.ts';
import { createTfAwsPolicy } from '../../../simulator/policies/tf-aws.ts';

const scenario: Scenario = {
  bootSeconds: 60,
  maxJobsPerInstance: 2,
  jobsPerInstance: 2,
  minInstances: 0,
  maxInstances: 10,
  tailSeconds: 600,
  sampleSeconds: 60,
  seed: 1,
};

interface FakeInstance {
  id: string;
  launchedAt: number;
  readyAt: number;
  runningJobs: number;
}

/**
 * A scripted world: the test sets the queue and each instance's jobs by hand, timers run in time order, and every
 * resize (or termination) is recorded. Instances are ready `bootSeconds` after launch and removed newest first.
 */
function createFakeWorld(options: { initial?: number; scenario?: Scenario } = {}) {
  const bounds = options.scenario ?? scenario;
  const timers: { at: number; seq: number; action: () => void | Promise<void> }[] = [];
  const resizes: { at: number; size: number }[] = [];
  const terminations: { at: number; ids: readonly string[] }[] = [];
  const load = { queued: 0, running: 0 };
  let instances: FakeInstance[] = [];
  let now = 0;
  let seq = 0;
  let launched = 0;
  let desired = options.initial ?? bounds.minInstances;

  const launch = (readyAt: number) => {
    const id = `i-${++launched}`;
    instances.push({ id, launchedAt: now, readyAt, runningJobs: 0 });
  };
  for (let index = 0; index < desired; index++) {
    launch(0);
  }

  const world: SimWorld = {
    now: () => now,
    queueDepth: () => load.queued + load.running,
    queuedJobs: () => load.queued,
    desired: () => desired,
    instances: (): SimInstance[] =>
      instances.map((instance) => ({
        ...instance,
        state: now >= instance.readyAt ? 'running' : 'booting',
        protected: false,
      })),
    setDesired(size) {
      if (size < bounds.minInstances || size > bounds.maxInstances) {
        throw new RangeError(`desired size ${size} is outside the bounds`);
      }
      if (size === desired) {
        return;
      }
      resizes.push({ at: now, size });
      desired = size;
      while (instances.length < size) {
        launch(now + bounds.bootSeconds * 1000);
      }
      instances = instances.slice(0, size);
    },
    protect() {
      // The models under test never protect instances; fleetplane's own runs go through the real engine.
    },
    terminate(ids) {
      terminations.push({ at: now, ids });
      instances = instances.filter((instance) => !ids.includes(instance.id));
      desired -= ids.length;
    },
    at(at, action) {
      if (at < now) {
        throw new RangeError(`cannot schedule at ${at}: the world is at ${now}`);
      }
      timers.push({ at, seq: seq++, action });
    },
  };

  return {
    world,
    load,
    resizes,
    terminations,
    instance: (id: string) => instances.find((instance) => instance.id === id),
    async start(policy: PolicyModel) {
      await policy.start(this.world, bounds);
    },
    /** Runs every timer due up to `seconds`, in time then scheduling order. */
    async runUntil(seconds: number) {
      const until = seconds * 1000;
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers[0];
        if (next === undefined || next.at > until) {
          break;
        }
        timers.shift();
        now = next.at;
        await next.action();
      }
      now = until;
    },
  };
}

const at = (seconds: number, size: number) => ({ at: seconds * 1000, size });

describe('tf-aws policy', () => {
  it('adds exactly one instance per alarm period outside the cooldown and none inside it', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 20;
    await fake.start(createTfAwsPolicy());

    // Act
    await fake.runUntil(359);
    const inCooldown = [...fake.resizes];
    await fake.runUntil(700);

    // Assess
    expect(inCooldown).toEqual([at(60, 1)]);
    expect(fake.resizes).toEqual([at(60, 1), at(360, 2), at(660, 3)]);
  });

  it('keeps acting every period while the alarm stays in ALARM when there is no cooldown', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 20;
    await fake.start(createTfAwsPolicy({ cooldownSeconds: 0 }));

    // Act
    await fake.runUntil(300);

    // Assess
    expect(fake.resizes).toEqual([at(60, 1), at(120, 2), at(180, 3), at(240, 4), at(300, 5)]);
  });

  it('scales out on the period maximum of the queue size, however brief the peak', async () => {
    // Prepare
    const fake = createFakeWorld();
    await fake.start(createTfAwsPolicy());
    await fake.runUntil(29);
    fake.load.queued = 3;

    // Act
    await fake.runUntil(30);
    fake.load.queued = 0;
    await fake.runUntil(60);

    // Assess
    expect(fake.resizes).toEqual([at(60, 1)]);
  });

  it('removes one instance only once CEIL(queue / jobs per instance) is below the instance count', async () => {
    // Prepare
    const fake = createFakeWorld({ initial: 3 });
    fake.load.queued = 5;
    await fake.start(createTfAwsPolicy());

    // Act
    await fake.runUntil(599);
    const balanced = [...fake.resizes];
    fake.load.queued = 4;
    await fake.runUntil(700);

    // Assess
    expect(balanced).toEqual([]);
    expect(fake.resizes).toEqual([at(660, 2)]);
  });

  it('counts booting instances (GroupTotalInstances), so one launch answers one period of need', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 2;
    await fake.start(createTfAwsPolicy({ cooldownSeconds: 0 }));

    // Act: the instance launched at 60 s is still booting for the periods after it
    await fake.runUntil(300);

    // Assess
    expect(fake.world.instances().map((instance) => instance.state)).toEqual(['running']);
    expect(fake.resizes).toEqual([at(60, 1)]);
  });

  it('does nothing at the group maximum', async () => {
    // Prepare
    const bounded = { ...scenario, maxInstances: 2 };
    const fake = createFakeWorld({ initial: 2, scenario: bounded });
    fake.load.queued = 100;
    await fake.start(createTfAwsPolicy());

    // Act
    await fake.runUntil(600);

    // Assess
    expect(fake.resizes).toEqual([]);
  });
});

describe('gce policy', () => {
  it('keeps the recommendation within the group bounds', async () => {
    // Prepare
    const fake = createFakeWorld({ scenario: { ...scenario, minInstances: 1, maxInstances: 3 } });
    fake.load.queued = 100;

    // Act
    await fake.start(createGcePolicy());
    await fake.runUntil(0);

    // Assess
    expect(fake.resizes).toEqual([at(0, 3)]);
  });

  it('scales out at once to ceil(metric / single instance assignment)', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 7;

    // Act
    await fake.start(createGcePolicy());
    await fake.runUntil(0);

    // Assess
    expect(fake.resizes).toEqual([at(0, 4)]);
  });

  it('never goes below the highest recommendation of the last 10 minutes', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 20;
    await fake.start(createGcePolicy());
    await fake.runUntil(59);
    fake.load.queued = 2;
    await fake.runUntil(299);
    fake.load.queued = 10;
    await fake.runUntil(300);
    fake.load.queued = 2;

    // Act
    await fake.runUntil(599);
    const held = [...fake.resizes];
    await fake.runUntil(1000);

    // Assess
    expect(held).toEqual([at(0, 10)]);
    expect(fake.resizes).toEqual([at(0, 10), at(600, 5), at(900, 1)]);
  });

  it('decides on the datapoint read metricDelaySeconds earlier', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 7;
    await fake.start(createGcePolicy({ metricDelaySeconds: 30 }));

    // Act
    await fake.runUntil(0);
    fake.load.queued = 0;
    await fake.runUntil(30);

    // Assess
    expect(fake.resizes).toEqual([at(30, 4)]);
  });
});

describe('buildkite policy', () => {
  it('scales out to ceil((scheduled + running) / agents per instance), then waits out the scale-out cooldown', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 3;
    fake.load.running = 2;
    await fake.start(createBuildkitePolicy());

    // Act
    await fake.runUntil(5);
    fake.load.queued = 7;
    await fake.runUntil(299);
    const inCooldown = [...fake.resizes];
    await fake.runUntil(300);

    // Assess
    expect(inCooldown).toEqual([at(0, 3)]);
    expect(fake.resizes).toEqual([at(0, 3), at(300, 5)]);
  });

  it('adds the instance buffer while jobs exist, and none for an empty queue', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.running = 4;
    await fake.start(createBuildkitePolicy({ instanceBuffer: 1, scaleOutCooldownSeconds: 0 }));

    // Act
    await fake.runUntil(0);
    fake.load.running = 0;
    await fake.runUntil(30);

    // Assess: 4 jobs need 2 instances, plus 1 spare
    expect(fake.resizes).toEqual([at(0, 3)]);
  });

  it('applies the scale-out factor to the step, rounded up', async () => {
    // Prepare
    const fake = createFakeWorld();
    fake.load.queued = 8;

    // Act
    await fake.start(createBuildkitePolicy({ scaleOutFactor: 0.3 }));
    await fake.runUntil(0);

    // Assess
    expect(fake.resizes).toEqual([at(0, 2)]);
  });

  it('never lowers the desired size itself; each instance terminates itself after 600 s without a job', async () => {
    // Prepare
    const fake = createFakeWorld({ initial: 2 });
    const busy = fake.instance('i-1');
    if (busy !== undefined) {
      busy.runningJobs = 1;
    }
    fake.load.running = 1;
    await fake.start(createBuildkitePolicy());

    // Act
    await fake.runUntil(295);
    if (busy !== undefined) {
      busy.runningJobs = 0;
    }
    fake.load.running = 0;
    await fake.runUntil(1000);

    // Assess
    expect(fake.resizes).toEqual([]);
    expect(fake.terminations).toEqual([
      { at: 600_000, ids: ['i-2'] },
      { at: 900_000, ids: ['i-1'] },
    ]);
  });

  it('keeps idle instances at the group minimum', async () => {
    // Prepare
    const fake = createFakeWorld({ initial: 1, scenario: { ...scenario, minInstances: 1 } });
    await fake.start(createBuildkitePolicy());

    // Act
    await fake.runUntil(3600);

    // Assess
    expect(fake.terminations).toEqual([]);
  });

  it('with scaler scale-in enabled, waits the scale-in cooldown between scale-ins', async () => {
    // Prepare
    const fake = createFakeWorld({ initial: 4 });
    fake.load.running = 6;
    await fake.start(createBuildkitePolicy({ scalerScaleIn: true, scaleInIdleSeconds: 86_400 }));

    // Act
    await fake.runUntil(5);
    fake.load.running = 2;
    await fake.runUntil(3599);
    const inCooldown = [...fake.resizes];
    await fake.runUntil(3600);

    // Assess
    expect(inCooldown).toEqual([at(0, 3)]);
    expect(fake.resizes).toEqual([at(0, 3), at(3600, 1)]);
  });
});

describe('policies in the engine', () => {
  // Ten one-minute jobs at once: two per instance, one instance boots in a minute.
  const trace: Trace = {
    name: 'test',
    durationS: 600,
    jobs: Array.from({ length: 10 }, () => ({ arrivalS: 0, queue: 'codeintel' as const, durationS: 60 })),
  };
  const small = { ...scenario, maxInstances: 5 };
  const desiredAt = (result: { timeline: readonly { t: number; desired: number }[] }, t: number) =>
    result.timeline.find((point) => point.t === t)?.desired;

  it('tf-aws climbs one instance per cooldown and steps back down the same way', async () => {
    // Act
    const result = await simulatePolicy(trace, small, createTfAwsPolicy());

    // Assess: +1 at 60 s and 360 s, −1 at 660 s and 960 s.
    expect(result.completed).toBe(10);
    expect(result.scaleActions).toBe(4);
    expect(result.peakInstances).toBe(2);
    expect([60, 360, 660, 960].map((t) => desiredAt(result, t))).toEqual([1, 2, 1, 0]);
  });

  it('gce sizes for the whole queue at once and holds it for the stabilization period', async () => {
    // Act
    const result = await simulatePolicy(trace, small, createGcePolicy());

    // Assess
    expect(result.completed).toBe(10);
    expect(result.scaleActions).toBe(2);
    expect(result.wait.max).toBe(60);
    expect([600, 660].map((t) => desiredAt(result, t))).toEqual([5, 0]);
  });

  it('buildkite sizes for the whole queue at once and drops instances once they have idled 600 s', async () => {
    // Act
    const result = await simulatePolicy(trace, small, createBuildkitePolicy());

    // Assess: jobs end at 120 s; the instances idle out at 720 s.
    expect(result.completed).toBe(10);
    expect(result.interruptedJobs).toBe(0);
    expect([0, 660, 720].map((t) => desiredAt(result, t))).toEqual([5, 5, 0]);
  });
});

describe('model options', () => {
  it('refuses options that cannot work, naming each, before any run', () => {
    expect(() => createTfAwsPolicy({ periodSeconds: 60, sampleSeconds: 7 })).toThrow(
      /tf-aws options: periodSeconds: periodSeconds must be a multiple of sampleSeconds/,
    );
    expect(() => createGcePolicy({ evaluationSeconds: 0, metricDelaySeconds: -1 })).toThrow(
      /gce options: evaluationSeconds: .*; metricDelaySeconds: /,
    );
    expect(() => createBuildkitePolicy({ pollSeconds: 0, instanceBuffer: 1.5 })).toThrow(PolicyOptionsError);
  });

  it('lets gce run without a stabilization window: the current recommendation alone decides', async () => {
    const fake = createFakeWorld({ initial: 4 });
    fake.load.running = 4;
    await fake.start(createGcePolicy({ stabilizationSeconds: 0 }));
    await fake.runUntil(60);
    expect(fake.resizes.at(-1)).toEqual({ at: 0, size: 2 });
  });
});
