import type { QueueName } from '../../shared/domain/queues.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { acceptedJustBefore, type ExecutorTokenChange, nextAcceptanceChange } from './executor-tokens.ts';

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
 *
 * Once told how executors authenticate (`useExecutorAuth`), the world also knows the token each VM boots with and
 * whether Sourcegraph accepts it. A token Sourcegraph refuses makes the executor *rejected*: its heartbeats and
 * dequeues get 401, so Sourcegraph stops seeing it and it takes no job. A real executor keeps running the jobs it has
 * (their job tokens still work), but with its heartbeats refused Sourcegraph's resetter hands them out again; the
 * world puts them back in the queue at once, at the moment the token stopped being accepted. Sourcegraph's token
 * changes are replayed like boots and job ends, after every other event of the same moment (a change is recorded at
 * the clock's now, which the world may already have replayed), so the outcome does not depend on how often the world
 * is looked at.
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
  /** Its first accepted heartbeat: its boot, or the moment its token was first accepted when it was refused at boot. */
  firstSeenAt: number;
  /** Its latest accepted heartbeat. */
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
  /** Epoch ms since which Sourcegraph refuses its token (no heartbeat, no job); absent while it is accepted. */
  rejectedSince?: number;
}

/** From the first rejection to the moment no executor is refused any more; `to` is absent while one still is. */
export interface RejectionWindow {
  readonly from: number;
  readonly to?: number;
}

/** How the world learns what executors present to Sourcegraph and what Sourcegraph makes of it. */
export interface ExecutorAuth {
  /**
   * The token the instance's executor will present, read from the secret store as the VM launches (at
   * `instance.launchedAt`, which may be a moment the world is replaying); undefined when it finds none.
   */
  tokenAtBoot(instance: WorldInstance): string | undefined;
  /** Sourcegraph's `executors.accessToken` over time, oldest first; changes are only appended, at the clock's now. */
  tokenHistory(): readonly ExecutorTokenChange[];
}

/** A stretch of time in which Sourcegraph refused an executor's token. */
export interface WorldRejection {
  /** The instance's id. */
  readonly instance: string;
  /** The executor's name. */
  readonly executor: string;
  readonly from: number;
  /** When its token was accepted again or its VM stopped; absent while it runs refused. */
  readonly to?: number;
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
  /** Jobs put back in the queue because their instance went away or their executor's token was refused. */
  readonly jobsInterrupted: number;
  /** Of those, the ones put back because their executor's token was refused. */
  readonly jobsLostToRejection: number;
  /** Executors whose token Sourcegraph refused at some point (at boot or later). */
  readonly executorsRejected: number;
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
  let auth: ExecutorAuth | undefined;
  /**
   * The token each VM's executor presents, read at launch; never exposed. A VM launched before `useExecutorAuth` has
   * no entry, and its executor is accepted throughout, as every executor was before.
   */
  const bootTokens = new Map<WorldInstance, string | undefined>();
  /** The moment since which each executor's standing with Sourcegraph is known: its boot, then each change of it. */
  const standingSince = new Map<WorldExecutor, number>();
  /** Where each executor's heartbeat grid starts: its boot, or the moment it was accepted again. */
  const beatOrigin = new Map<WorldExecutor, number>();
  /** Executors refused since their boot: Sourcegraph has no heartbeat row for them, so they are not listed. */
  const unseen = new Set<WorldExecutor>();
  const rejectionLog: {
    readonly instance: WorldInstance;
    readonly executor: WorldExecutor;
    readonly from: number;
    until?: number;
  }[] = [];
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
    jobsLostToRejection: 0,
    executorsRejected: 0,
    instancesLaunched: 0,
    instancesTerminated: 0,
    executorsRetired: 0,
  };

  const waiting = () => jobs.filter((job) => job.state === 'queued' || job.state === 'errored');

  function startJobs(at: number): void {
    for (const instance of instances.values()) {
      const executor = instance.executor;
      // A rejected executor's dequeues are refused.
      if (instance.state !== 'running' || executor === undefined || executor.rejectedSince !== undefined) {
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

  /**
   * The earliest boot, retirement, job end, scheduled action or change of an executor's standing with Sourcegraph not
   * yet replayed, at or before `until`. At a tie the one considered first wins.
   */
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
          const executor: WorldExecutor = {
            name: `${instance.hostname}-${uuidFrom(random)}`,
            hostname: instance.hostname,
            queues: instance.queues,
            firstSeenAt: instance.readyAt,
            lastSeenAt: instance.readyAt,
            version,
            running: new Set(),
            jobsTaken: 0,
          };
          instance.executor = executor;
          admit(instance, executor, instance.readyAt);
        });
      }
      const executor = instance.executor;
      if (
        instance.state === 'running' &&
        executor !== undefined &&
        executor.retiringSince === undefined &&
        retireAfterMs !== undefined
      ) {
        // Listed before job ends: at a tie the executor's own timer fires before it could take another job. The timer
        // runs from the process's start, whether or not Sourcegraph accepted it then.
        const at = instance.readyAt + retireAfterMs;
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
    // Last: a token change takes effect after everything else that happens at its moment, for every executor at
    // once (none takes the jobs another just lost to the same change).
    const changes = standingChanges();
    if (changes.length > 0) {
      const first = Math.min(...changes.map((change) => change.at));
      consider(first, () => {
        for (const { instance, executor, at, accepted } of changes) {
          if (at === first) {
            (accepted ? reject : readmit)(instance, executor, at);
          }
        }
      });
    }
    return next;
  }

  /** Each running executor's next change of standing with Sourcegraph, as far as the token history goes now. */
  function standingChanges(): { instance: WorldInstance; executor: WorldExecutor; at: number; accepted: boolean }[] {
    if (auth === undefined) {
      return [];
    }
    const history = auth.tokenHistory();
    return [...instances.values()].flatMap((instance) => {
      const executor = instance.executor;
      const since = executor === undefined ? undefined : standingSince.get(executor);
      if (instance.state !== 'running' || executor === undefined || since === undefined) {
        return [];
      }
      const accepted = executor.rejectedSince === undefined;
      const at = nextAcceptanceChange(history, bootTokens.get(instance), since, accepted);
      return at === undefined ? [] : [{ instance, executor, at, accepted }];
    });
  }

  /**
   * An executor's standing at its boot. Only the changes made before that moment count: one made at the boot moment
   * itself is replayed after it, as every token change is.
   */
  function admit(instance: WorldInstance, executor: WorldExecutor, at: number): void {
    if (auth === undefined || !bootTokens.has(instance)) {
      return;
    }
    standingSince.set(executor, at);
    if (!acceptedJustBefore(auth.tokenHistory(), bootTokens.get(instance), at)) {
      executor.rejectedSince = at;
      unseen.add(executor);
      rejectionLog.push({ instance, executor, from: at });
      stats.executorsRejected += 1;
    }
  }

  /** Sourcegraph stopped accepting the executor's token at `at`: its jobs go back to the queue then. */
  function reject(instance: WorldInstance, executor: WorldExecutor, at: number): void {
    executor.lastSeenAt = Math.max(executor.lastSeenAt, lastBeat(executor, at));
    executor.rejectedSince = at;
    standingSince.set(executor, at);
    if (!rejectionLog.some((rejection) => rejection.executor === executor)) {
      stats.executorsRejected += 1;
    }
    rejectionLog.push({ instance, executor, from: at });
    stats.jobsLostToRejection += requeue(executor);
    // A retiring executor has nothing left to finish: it exits now.
    exitIfDone(instance, at);
  }

  /** The token is accepted again (Sourcegraph's secret came back): the executor heartbeats at once and takes jobs. */
  function readmit(instance: WorldInstance, executor: WorldExecutor, at: number): void {
    delete executor.rejectedSince;
    standingSince.set(executor, at);
    beatOrigin.set(executor, at);
    if (unseen.delete(executor)) {
      executor.firstSeenAt = at;
    }
    executor.lastSeenAt = at;
    const open = rejectionLog.findLast((rejection) => rejection.instance === instance && rejection.until === undefined);
    if (open !== undefined) {
      open.until = at;
    }
  }

  /** Puts the executor's running jobs back in the queue, each counted as interrupted; returns how many. */
  function requeue(executor: WorldExecutor): number {
    let count = 0;
    for (const jobId of executor.running) {
      const job = jobs.find((candidate) => candidate.id === jobId);
      if (job !== undefined) {
        job.state = 'queued';
        job.interruptions += 1;
        delete job.startedAt;
        delete job.executor;
        stats.jobsInterrupted += 1;
        count += 1;
      }
    }
    executor.running.clear();
    return count;
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
  const lastBeat = (executor: WorldExecutor, at: number) => {
    const origin = beatOrigin.get(executor) ?? executor.firstSeenAt;
    return origin + Math.floor((at - origin) / heartbeatMs) * heartbeatMs;
  };

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
    if (executor.rejectedSince === undefined) {
      executor.lastSeenAt = lastBeat(executor, at);
    }
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

  /** Every stretch of time an executor's token was refused, in the order they began. */
  function rejections(): readonly WorldRejection[] {
    advance();
    return rejectionLog
      .map(({ instance, executor, from, until }) => {
        const to = until ?? instance.stoppedAt;
        return { instance: instance.id, executor: executor.name, from, ...(to === undefined ? {} : { to }) };
      })
      .sort((a, b) => a.from - b.from);
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
      const executor = instance.executor;
      if (instance.state === 'running' && executor !== undefined && executor.rejectedSince === undefined) {
        executor.lastSeenAt = lastBeat(executor, until);
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
      if (auth !== undefined) {
        bootTokens.set(instance, auth.tokenAtBoot(instance));
      }
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
      if (instance.executor !== undefined) {
        requeue(instance.executor);
      }
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
        .flatMap((instance) =>
          instance.executor === undefined || unseen.has(instance.executor) ? [] : [instance.executor],
        )
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
    /**
     * From now on, each VM launched reads its executor's token (`tokenAtBoot`) and its executor is accepted or
     * rejected by Sourcegraph's token history. VMs launched before are accepted throughout. Replaces an earlier hook.
     */
    useExecutorAuth(executorAuth: ExecutorAuth): void {
      advance();
      auth = executorAuth;
    },
    rejections,
    /**
     * From the first rejection that began at or after `since` (default: any) to the moment none of those executors is
     * refused any more; `to` is absent while one still runs refused. Undefined when there was none.
     */
    rejectionWindow(since = Number.NEGATIVE_INFINITY): RejectionWindow | undefined {
      const counted = rejections().filter((rejection) => rejection.from >= since);
      const first = counted[0];
      if (first === undefined) {
        return undefined;
      }
      const ends = counted.flatMap((rejection) => (rejection.to === undefined ? [] : [rejection.to]));
      return ends.length < counted.length ? { from: first.from } : { from: first.from, to: Math.max(...ends) };
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
