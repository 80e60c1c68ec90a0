import type { QueueName } from '../../shared/domain/queues.ts';
import type { Clock } from '../../shared/ports/clock.ts';

/**
 * The simulated world behind the local emulators: jobs in Sourcegraph's queues, VMs in cloud groups, and the
 * executors on those VMs taking jobs. The cloud emulators launch and stop instances; the Sourcegraph emulator reads
 * jobs and executors. Time is the injected clock: `advance()` replays every boot, job start and job end up to now, so
 * state is the same however often (or rarely) it is looked at.
 *
 * Executors may retire as real ones do (`EXECUTOR_NUM_TOTAL_JOBS`, `EXECUTOR_MAX_ACTIVE_TIME`): a retiring executor
 * takes no new job, finishes those it runs, then exits, and its VM powers itself off (`systemctl poweroff`). What the
 * power-off does to the VM is the VM's shutdown behaviour: `terminate` (AWS launch templates) ends it, `stop` (GCE)
 * leaves it stopped. The cloud emulators hear of each power-off, at the simulated moment it happens, through
 * `onPowerOff`, and react as their service does (replace it, recreate it, or leave it).
 */

export type JobState = 'queued' | 'processing' | 'errored' | 'completed';

export interface WorldJob {
  readonly id: number;
  readonly queue: QueueName;
  readonly durationMs: number;
  readonly enqueuedAt: number;
  /** Batch jobs belong to a batch spec (its workspaces); codeintel jobs to none. */
  readonly batchSpec?: string;
  state: JobState;
  startedAt?: number;
  finishedAt?: number;
  executor?: string;
  /** Times the job was interrupted by its instance going away and put back in the queue. */
  interruptions: number;
}

/** `stopped`: powered off by itself with shutdown behaviour `stop` (GCE's TERMINATED); it can still be deleted. */
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'terminated';

/** What a guest-initiated power-off does to the VM (EC2's `InstanceInitiatedShutdownBehavior`). */
export type ShutdownBehavior = 'stop' | 'terminate';

export interface WorldInstance {
  readonly id: string;
  /** The owning group's key, as the cloud emulator names it (e.g. `aws:us-east-1:executors`). */
  readonly group: string;
  /** The VM's host name; its executor's name starts with it (EC2 `ip-a-b-c-d`, GCE instance name). */
  readonly hostname: string;
  readonly queues: readonly QueueName[];
  readonly launchedAt: number;
  readonly readyAt: number;
  readonly shutdownBehavior: ShutdownBehavior;
  state: InstanceState;
  /** Epoch ms the VM stopped running: terminated, or powered off when its executor exited. */
  stoppedAt?: number;
  /** Epoch ms its executor exited and the VM powered itself off (absent when it was terminated from outside). */
  poweredOffAt?: number;
  executor?: WorldExecutor;
}

export interface WorldExecutor {
  /** `<hostname>-<uuid>`, as Sourcegraph's executor names itself. */
  readonly name: string;
  readonly hostname: string;
  readonly queues: readonly QueueName[];
  readonly firstSeenAt: number;
  lastSeenAt: number;
  readonly version: string;
  /** Ids of the jobs it is running now. */
  readonly running: Set<number>;
  /** Jobs it has taken since it started. */
  jobsTaken: number;
  /** Epoch ms it stopped taking jobs because it reached a retirement limit; it exits once its jobs are done. */
  retiringSince?: number;
  /** Epoch ms it exited after retiring. */
  exitedAt?: number;
}

export interface WorldOptions {
  readonly clock: Clock;
  /** Milliseconds from launch until the executor heartbeats and takes jobs. */
  readonly bootDelayMs?: number;
  /** Milliseconds a job runs unless enqueued with its own duration. */
  readonly jobDurationMs?: number;
  /** Jobs one executor runs at once (the executor's `EXECUTOR_MAXIMUM_NUM_JOBS`). */
  readonly maxJobsPerExecutor?: number;
  /** Milliseconds between executor heartbeats (Sourcegraph's executors send one every 5 s). */
  readonly heartbeatIntervalMs?: number;
  readonly executorVersion?: string;
  /** An executor retires after taking this many jobs (`EXECUTOR_NUM_TOTAL_JOBS`). Default: never. */
  readonly retireAfterJobs?: number;
  /**
   * An executor retires this many milliseconds after it starts taking jobs (`EXECUTOR_MAX_ACTIVE_TIME`). Default:
   * never.
   */
  readonly retireAfterMs?: number;
  /** Uniform in [0, 1), for executor names' UUIDs; fixed, it makes a run repeatable. Default `Math.random`. */
  readonly random?: () => number;
}

/** What the cloud emulators hear when a VM powers itself off: the instance (already in its new state) and when. */
export type PowerOffListener = (instance: WorldInstance, at: number) => void;

export interface EnqueueOptions {
  readonly durationMs?: number;
  readonly batchSpec?: string;
  /** `errored`: failed once and waiting for a retry, which Sourcegraph's queue count includes. */
  readonly state?: 'queued' | 'errored';
}

export interface WorldStats {
  readonly jobsEnqueued: number;
  readonly jobsCompleted: number;
  readonly jobsInterrupted: number;
  readonly instancesLaunched: number;
  readonly instancesTerminated: number;
  /** Executors that reached a retirement limit, finished their jobs and exited (their VM powered off). */
  readonly executorsRetired: number;
}

export interface LaunchSpec {
  readonly id: string;
  readonly hostname: string;
  readonly queues: readonly QueueName[];
  /** Default `stop`, EC2's and GCE's own default. */
  readonly shutdownBehavior?: ShutdownBehavior;
}

export type World = ReturnType<typeof createWorld>;

export function createWorld(options: WorldOptions) {
  const clock = options.clock;
  const bootDelayMs = options.bootDelayMs ?? 15_000;
  const jobDurationMs = options.jobDurationMs ?? 20_000;
  const maxJobs = options.maxJobsPerExecutor ?? 4;
  const heartbeatMs = options.heartbeatIntervalMs ?? 5_000;
  const version = options.executorVersion ?? '6.10.0';
  const retireAfterJobs = retirementLimit('retireAfterJobs', options.retireAfterJobs);
  const retireAfterMs = retirementLimit('retireAfterMs', options.retireAfterMs);
  const random = options.random ?? Math.random;

  const jobs: WorldJob[] = [];
  const instances = new Map<string, WorldInstance>();
  /** Actions the emulators scheduled for a simulated moment (a MIG recreating a VM), replayed like boots and job ends. */
  const scheduled: { readonly at: number; readonly action: () => void }[] = [];
  const listeners = new Set<PowerOffListener>();
  let nextJobId = 1;
  let advancedTo = clock();
  /**
   * The moment of the event `advance()` is applying. A world call made meanwhile (a cloud emulator launching a
   * replacement for a VM that just powered off) happens at that moment, not at the clock's now.
   */
  let replaying: number | undefined;
  const now = () => replaying ?? clock();
  const stats = {
    jobsEnqueued: 0,
    jobsCompleted: 0,
    jobsInterrupted: 0,
    instancesLaunched: 0,
    instancesTerminated: 0,
    executorsRetired: 0,
  };

  const waiting = () => jobs.filter((job) => job.state === 'queued' || job.state === 'errored');

  function startJobs(at: number): void {
    for (const instance of instances.values()) {
      const executor = instance.executor;
      if (instance.state !== 'running' || executor === undefined) {
        continue;
      }
      for (const job of waiting()) {
        // A retiring executor dequeues nothing more, as a real one stops its worker loop at the limit.
        if (executor.running.size >= maxJobs || executor.retiringSince !== undefined) {
          break;
        }
        if (executor.queues.includes(job.queue)) {
          job.state = 'processing';
          job.startedAt = at;
          job.executor = executor.name;
          executor.running.add(job.id);
          executor.jobsTaken += 1;
          if (retireAfterJobs !== undefined && executor.jobsTaken >= retireAfterJobs) {
            executor.retiringSince = at;
          }
        }
      }
    }
  }

  /** The earliest boot, retirement, job end or scheduled action not yet replayed, at or before `until`. */
  function nextEvent(until: number): { at: number; apply: () => void } | undefined {
    let next: { at: number; apply: () => void } | undefined;
    const consider = (at: number, apply: () => void) => {
      if (at <= until && (next === undefined || at < next.at)) {
        next = { at, apply };
      }
    };
    for (const instance of instances.values()) {
      if (instance.state === 'pending') {
        consider(instance.readyAt, () => {
          instance.state = 'running';
          instance.executor = {
            name: `${instance.hostname}-${uuidFrom(random)}`,
            hostname: instance.hostname,
            queues: instance.queues,
            firstSeenAt: instance.readyAt,
            lastSeenAt: instance.readyAt,
            version,
            running: new Set(),
            jobsTaken: 0,
          };
        });
      }
      const executor = instance.executor;
      if (
        instance.state === 'running' &&
        executor !== undefined &&
        executor.retiringSince === undefined &&
        retireAfterMs !== undefined
      ) {
        // Listed before job ends: at a tie the executor's own timer fires before it could take another job.
        const at = executor.firstSeenAt + retireAfterMs;
        consider(at, () => {
          executor.retiringSince = at;
          exitIfDone(instance, at);
        });
      }
    }
    for (const job of jobs) {
      if (job.state === 'processing' && job.startedAt !== undefined) {
        const endsAt = job.startedAt + job.durationMs;
        consider(endsAt, () => finish(job, endsAt));
      }
    }
    for (const item of scheduled) {
      consider(item.at, () => {
        scheduled.splice(scheduled.indexOf(item), 1);
        item.action();
      });
    }
    return next;
  }

  function finish(job: WorldJob, at: number): void {
    job.state = 'completed';
    job.finishedAt = at;
    stats.jobsCompleted += 1;
    for (const instance of instances.values()) {
      if (instance.executor?.running.delete(job.id) === true) {
        exitIfDone(instance, at);
      }
    }
  }

  /** The latest heartbeat at or before `at`: heartbeats land every interval from the executor's first one. */
  const lastBeat = (executor: WorldExecutor, at: number) =>
    executor.firstSeenAt + Math.floor((at - executor.firstSeenAt) / heartbeatMs) * heartbeatMs;

  /**
   * A retiring executor with no job left exits cleanly, and the unit's `ExecStopPost` powers the VM off at once. Only
   * called while an event is replayed, so listeners act at the moment it happens.
   */
  function exitIfDone(instance: WorldInstance, at: number): void {
    const executor = instance.executor;
    if (
      instance.state !== 'running' ||
      executor === undefined ||
      executor.retiringSince === undefined ||
      executor.running.size > 0
    ) {
      return;
    }
    executor.exitedAt = at;
    executor.lastSeenAt = lastBeat(executor, at);
    instance.state = instance.shutdownBehavior === 'terminate' ? 'terminated' : 'stopped';
    instance.stoppedAt = at;
    instance.poweredOffAt = at;
    stats.executorsRetired += 1;
    if (instance.state === 'terminated') {
      stats.instancesTerminated += 1;
    }
    for (const listener of [...listeners]) {
      listener(instance, at);
    }
  }

  /** Replays everything that happened up to the clock's now. Idempotent; a no-op when called while replaying. */
  function advance(): void {
    if (replaying !== undefined) {
      return;
    }
    const until = clock();
    try {
      for (let event = nextEvent(until); event !== undefined; event = nextEvent(until)) {
        replaying = event.at;
        event.apply();
        startJobs(event.at);
      }
    } finally {
      replaying = undefined;
    }
    startJobs(until);
    for (const instance of instances.values()) {
      if (instance.state === 'running' && instance.executor !== undefined) {
        instance.executor.lastSeenAt = lastBeat(instance.executor, until);
      }
    }
    advancedTo = until;
  }

  return {
    clock,
    enqueue(queue: QueueName, count: number, enqueue: EnqueueOptions = {}): readonly WorldJob[] {
      advance();
      const at = now();
      const added = Array.from({ length: count }, (): WorldJob => {
        const job: WorldJob = {
          id: nextJobId++,
          queue,
          durationMs: enqueue.durationMs ?? jobDurationMs,
          enqueuedAt: at,
          state: enqueue.state ?? 'queued',
          interruptions: 0,
          ...(enqueue.batchSpec === undefined ? {} : { batchSpec: enqueue.batchSpec }),
        };
        return job;
      });
      jobs.push(...added);
      stats.jobsEnqueued += count;
      startJobs(at);
      return added;
    },

    /** A VM joins a group; its executor appears `bootDelayMs` later. */
    launchInstance(group: string, spec: LaunchSpec): WorldInstance {
      advance();
      const at = now();
      const instance: WorldInstance = {
        id: spec.id,
        hostname: spec.hostname,
        queues: spec.queues,
        group,
        launchedAt: at,
        readyAt: at + bootDelayMs,
        shutdownBehavior: spec.shutdownBehavior ?? 'stop',
        state: 'pending',
      };
      instances.set(instance.id, instance);
      stats.instancesLaunched += 1;
      return instance;
    },

    /** The VM goes away now: its running jobs are interrupted and go back to the queue. */
    terminateInstance(id: string): void {
      advance();
      const at = now();
      const instance = instances.get(id);
      if (instance === undefined || instance.state === 'terminated') {
        return;
      }
      for (const jobId of instance.executor?.running ?? []) {
        const job = jobs.find((candidate) => candidate.id === jobId);
        if (job !== undefined) {
          job.state = 'queued';
          job.interruptions += 1;
          delete job.startedAt;
          delete job.executor;
          stats.jobsInterrupted += 1;
        }
      }
      instance.executor?.running.clear();
      instance.state = 'terminated';
      // A VM that powered off earlier stopped then; deleting it later does not move that.
      instance.stoppedAt ??= at;
      stats.instancesTerminated += 1;
      startJobs(at);
    },

    /**
     * Hears every VM that powers itself off (its executor retired), at the simulated moment it does, with the VM
     * already `terminated` or `stopped` by its shutdown behaviour. Returns the unsubscribe.
     */
    onPowerOff(listener: PowerOffListener): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    /**
     * Runs `action` at the simulated moment `at` (not before), when `advance()` replays it among boots and job ends;
     * world calls it makes happen at that moment.
     */
    schedule(at: number, action: () => void): void {
      if (!Number.isFinite(at) || at < now()) {
        throw new RangeError(`cannot schedule at ${at}: it is before the world's now (${now()})`);
      }
      scheduled.push({ at, action });
    },

    instance: (id: string) => {
      advance();
      return instances.get(id);
    },
    instances(group?: string): readonly WorldInstance[] {
      advance();
      return [...instances.values()].filter((instance) => group === undefined || instance.group === group);
    },
    /** Executors that have ever heartbeated, newest first (Sourcegraph lists them by `first_seen_at DESC`). */
    executors(): readonly WorldExecutor[] {
      advance();
      return [...instances.values()]
        .flatMap((instance) => (instance.executor === undefined ? [] : [instance.executor]))
        .sort((a, b) => b.firstSeenAt - a.firstSeenAt);
    },
    jobs(): readonly WorldJob[] {
      advance();
      return jobs;
    },
    /** Queued + processing + errored, as Sourcegraph's worker counts a queue. */
    depth(queue: QueueName): { queued: number; processing: number; errored: number } {
      advance();
      const of = (state: JobState) => jobs.filter((job) => job.queue === queue && job.state === state).length;
      return { queued: of('queued'), processing: of('processing'), errored: of('errored') };
    },
    stats(): WorldStats {
      advance();
      return { ...stats };
    },
    advance,
    advancedTo: () => advancedTo,
  };
}

/** A retirement limit is off when absent; otherwise it must be a positive whole number (jobs, milliseconds). */
function retirementLimit(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive whole number, got ${value}`);
  }
  return value;
}

/** A version-4 UUID drawn from `random`, as an executor suffixes its name. */
function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}
