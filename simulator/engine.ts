import { instancesFor } from '../shared/domain/policy.ts';
import type { QueueName } from '../shared/domain/queues.ts';
import { seededRandom } from '../shared/domain/random.ts';
import { ArrivalQueue } from './arrival-queue.ts';
import { createBurstTracker, findBursts } from './bursts.ts';
import { EventQueue } from './event-queue.ts';
import type { PolicyModel, PolicyResult, Scenario, SimInstance, SimWorld, TimelinePoint, Trace } from './model.ts';
import { waitStats } from './stats.ts';

/**
 * The discrete-event world every policy is replayed in. Jobs arrive as the trace says and wait in one FIFO queue (by
 * arrival, so an interrupted job goes back to its old place); an instance takes jobs once booted, up to
 * `maxJobsPerInstance` at once; a lower desired size removes instances the way the clouds do, without regard to the
 * jobs on them. Nothing here knows which policy is running: each policy acts only through `SimWorld`.
 */

/** World events run before policy actions at the same instant, and timeline samples see both. */
const Phase = { World: 0, Policy: 1, Sample: 2 } as const;

interface Job {
  readonly id: number;
  readonly queue: QueueName;
  readonly arrivalMs: number;
  readonly durationMs: number;
  /** Start of the current run; the wait is taken from the run that completes. */
  startedAt?: number;
  completedAt?: number;
  /** Bumped on every start, so a finish event of an interrupted run is recognised as stale. */
  run: number;
}

interface Instance {
  readonly id: string;
  readonly launchedAt: number;
  readonly readyAt: number;
  ready: boolean;
  removed: boolean;
  protected: boolean;
  /** The executor takes no more jobs and exits once its running ones finish. */
  retiring: boolean;
  /** Jobs the executor has taken: `EXECUTOR_NUM_TOTAL_JOBS` counts dequeued jobs. */
  jobsTaken: number;
  readonly running: Set<Job>;
}

export async function simulatePolicy(trace: Trace, scenario: Scenario, policy: PolicyModel): Promise<PolicyResult> {
  const events = new EventQueue();
  const random = seededRandom(scenario.seed);
  const horizon = (trace.durationS + scenario.tailSeconds) * 1000;
  const jobs: Job[] = trace.jobs.map((job, id) => ({
    id,
    queue: job.queue,
    arrivalMs: Math.round(job.arrivalS * 1000),
    durationMs: Math.max(1, Math.round(job.durationS * 1000)),
    run: 0,
  }));

  let now = 0;
  let desired = 0;
  let instanceSeq = 0;
  let scaleActions = 0;
  let interruptedJobs = 0;
  let instanceMs = 0;
  let peakInstances = 0;
  let lastCountedAt = 0;
  let running = 0;
  // Jobs Sourcegraph counts per queue (queued plus processing): arrivals add, completions subtract.
  const depths = new Map<QueueName, number>();
  const instances = new Map<string, Instance>();
  const waiting = new ArrivalQueue<Job>();
  const timeline: TimelinePoint[] = [];

  const countInstanceTime = () => {
    instanceMs += (now - lastCountedAt) * instances.size;
    lastCountedAt = now;
  };

  // Executors poll independently, so work spreads: the next job goes to the instance with the most free slots.
  const dispatch = () => {
    while (waiting.length > 0) {
      let best: Instance | undefined;
      for (const instance of instances.values()) {
        if (instance.ready && !instance.retiring && instance.running.size < scenario.maxJobsPerInstance) {
          if (best === undefined || instance.running.size < best.running.size) {
            best = instance;
          }
        }
      }
      if (best === undefined) {
        return;
      }
      const job = waiting.next() as Job;
      const run = ++job.run;
      job.startedAt = now;
      best.running.add(job);
      running += 1;
      best.jobsTaken += 1;
      if ((scenario.retireAfterJobs ?? 0) > 0 && best.jobsTaken >= (scenario.retireAfterJobs ?? 0)) {
        best.retiring = true;
      }
      const instance = best;
      events.push(now + job.durationMs, Phase.World, () => {
        if (job.run !== run || instance.removed) {
          return;
        }
        instance.running.delete(job);
        running -= 1;
        depths.set(job.queue, (depths.get(job.queue) ?? 0) - 1);
        job.completedAt = now;
        exitIfDone(instance);
        dispatch();
      });
    }
  };

  const launch = () => {
    countInstanceTime();
    const instance: Instance = {
      id: `i-${String(++instanceSeq).padStart(5, '0')}`,
      launchedAt: now,
      readyAt: now + scenario.bootSeconds * 1000,
      ready: false,
      removed: false,
      protected: false,
      retiring: false,
      jobsTaken: 0,
      running: new Set(),
    };
    instances.set(instance.id, instance);
    peakInstances = Math.max(peakInstances, instances.size);
    events.push(instance.readyAt, Phase.World, () => {
      if (!instance.removed) {
        instance.ready = true;
        retireLater(instance);
        dispatch();
      }
    });
  };

  const retireLater = (instance: Instance) => {
    const seconds = scenario.retireAfterSeconds ?? 0;
    if (seconds > 0) {
      events.push(instance.readyAt + seconds * 1000, Phase.World, () => {
        instance.retiring = true;
        exitIfDone(instance);
      });
    }
  };

  // A retired executor's VM powers off; the cloud replaces it only to get back to the desired size.
  const exitIfDone = (instance: Instance) => {
    if (!instance.retiring || instance.removed || instance.running.size > 0) {
      return;
    }
    countInstanceTime();
    instance.removed = true;
    instances.delete(instance.id);
    while (instances.size < desired) {
      launch();
    }
  };

  const remove = (instance: Instance) => {
    countInstanceTime();
    instance.removed = true;
    instances.delete(instance.id);
    for (const job of instance.running) {
      interruptedJobs += 1;
      running -= 1;
      job.startedAt = undefined;
      waiting.add(job);
    }
    instance.running.clear();
  };

  // Neither cloud looks at running jobs when it picks what a lower desired size removes: here, uniformly at random,
  // among the instances not protected from scale-in (the others stay, above the desired size, until they exit).
  const chooseVictims = (count: number): Instance[] => {
    const candidates = [...instances.values()].filter((instance) => !instance.protected);
    const victims: Instance[] = [];
    while (victims.length < count && candidates.length > 0) {
      const [victim] = candidates.splice(Math.floor(random() * candidates.length), 1);
      victims.push(victim as Instance);
    }
    return victims;
  };

  const view = (instance: Instance): SimInstance => ({
    id: instance.id,
    launchedAt: instance.launchedAt,
    readyAt: instance.readyAt,
    state: instance.ready ? 'running' : 'booting',
    runningJobs: instance.running.size,
    protected: instance.protected,
  });

  const world: SimWorld = {
    now: () => now,
    queueDepth: (queue) => (queue === undefined ? waiting.length + running : (depths.get(queue) ?? 0)),
    queuedJobs: () => waiting.length,
    desired: () => desired,
    instances: () => [...instances.values()].map(view),
    setDesired(size) {
      if (!Number.isInteger(size) || size < scenario.minInstances || size > scenario.maxInstances) {
        throw new RangeError(`desired size ${size} is outside [${scenario.minInstances}, ${scenario.maxInstances}]`);
      }
      if (size === desired) {
        return;
      }
      scaleActions += 1;
      desired = size;
      while (instances.size < size) {
        launch();
      }
      for (const victim of chooseVictims(instances.size - size)) {
        remove(victim);
      }
      dispatch();
    },
    terminate(ids) {
      const victims = [...new Set(ids)].map((id) => instances.get(id));
      if (victims.some((victim) => victim === undefined)) {
        throw new RangeError(`cannot terminate ${ids.join(', ')}: not all of them are in the group`);
      }
      if (desired - victims.length < scenario.minInstances) {
        throw new RangeError(`terminating ${victims.length} would take the group below its minimum`);
      }
      if (victims.length === 0) {
        return;
      }
      scaleActions += 1;
      desired -= victims.length;
      for (const victim of victims) {
        remove(victim as Instance);
      }
      dispatch();
    },
    protect(ids) {
      for (const id of ids) {
        const instance = instances.get(id);
        if (instance === undefined) {
          throw new RangeError(`cannot protect ${id}: it is not in the group`);
        }
        instance.protected = true;
      }
    },
    at(at, action) {
      if (!Number.isFinite(at) || at < now) {
        throw new RangeError(`cannot schedule at ${at}: the simulation is at ${now}`);
      }
      events.push(at, Phase.Policy, action);
    },
  };

  for (const job of jobs) {
    events.push(job.arrivalMs, Phase.World, () => {
      depths.set(job.queue, (depths.get(job.queue) ?? 0) + 1);
      waiting.add(job);
      dispatch();
    });
  }
  const sampleMs = scenario.sampleSeconds * 1000;
  for (let at = 0; at <= horizon; at += sampleMs) {
    events.push(at, Phase.Sample, () => {
      timeline.push({
        t: now / 1000,
        depth: waiting.length + running,
        queued: waiting.length,
        desired,
        instances: instances.size,
      });
    });
  }

  const bursts = createBurstTracker(findBursts(trace, scenario));

  // The group starts at its minimum with booted instances, as a fleet that has been running would.
  for (let index = 0; index < scenario.minInstances; index++) {
    launch();
  }
  desired = scenario.minInstances;
  for (const instance of instances.values()) {
    instance.ready = true;
    retireLater(instance);
  }
  await policy.start(world, scenario);

  for (let event = events.pop(); event !== undefined && event.at <= horizon; event = events.pop()) {
    now = event.at;
    const pending = event.action();
    if (pending !== undefined) {
      await pending;
    }
    bursts.observe(
      now,
      desired,
      Math.min(scenario.maxInstances, instancesFor(waiting.length + running, scenario.jobsPerInstance)),
    );
  }
  now = horizon;
  countInstanceTime();

  // A job still queued at the end has waited until the end; a running one, until it (last) started.
  const waits = jobs.map((job) => ((job.startedAt ?? horizon) - job.arrivalMs) / 1000);
  const completed = jobs.filter((job) => job.completedAt !== undefined).length;
  return {
    policy: policy.name,
    description: policy.description,
    jobs: jobs.length,
    completed,
    unfinished: jobs.length - completed,
    wait: waitStats(waits),
    instanceMinutes: Math.round(instanceMs / 600) / 100,
    scaleActions,
    interruptedJobs,
    peakInstances,
    bursts: bursts.outcomes(),
    timeline,
  };
}
