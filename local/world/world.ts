import { randomUUID } from 'node:crypto';
import type { QueueName } from '../../shared/domain/queues.ts';
import type { Clock } from '../../shared/ports/clock.ts';

/**
 * The simulated world behind the local emulators: jobs in Sourcegraph's queues, VMs in cloud groups, and the
 * executors on those VMs taking jobs. The cloud emulators launch and stop instances; the Sourcegraph emulator reads
 * jobs and executors. Time is the injected clock: `advance()` replays every boot, job start and job end up to now, so
 * state is the same however often (or rarely) it is looked at.
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

export type InstanceState = 'pending' | 'running' | 'stopping' | 'terminated';

export interface WorldInstance {
  readonly id: string;
  /** The owning group's key, as the cloud emulator names it (e.g. `aws:us-east-1:executors`). */
  readonly group: string;
  /** The VM's host name; its executor's name starts with it (EC2 `ip-a-b-c-d`, GCE instance name). */
  readonly hostname: string;
  readonly queues: readonly QueueName[];
  readonly launchedAt: number;
  readonly readyAt: number;
  state: InstanceState;
  stoppedAt?: number;
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
}

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
}

export type World = ReturnType<typeof createWorld>;

export function createWorld(options: WorldOptions) {
  const clock = options.clock;
  const bootDelayMs = options.bootDelayMs ?? 15_000;
  const jobDurationMs = options.jobDurationMs ?? 20_000;
  const maxJobs = options.maxJobsPerExecutor ?? 4;
  const heartbeatMs = options.heartbeatIntervalMs ?? 5_000;
  const version = options.executorVersion ?? '6.10.0';

  const jobs: WorldJob[] = [];
  const instances = new Map<string, WorldInstance>();
  let nextJobId = 1;
  let advancedTo = clock();
  const stats = { jobsEnqueued: 0, jobsCompleted: 0, jobsInterrupted: 0, instancesLaunched: 0, instancesTerminated: 0 };

  const waiting = () => jobs.filter((job) => job.state === 'queued' || job.state === 'errored');

  function startJobs(at: number): void {
    for (const instance of instances.values()) {
      const executor = instance.executor;
      if (instance.state !== 'running' || executor === undefined) {
        continue;
      }
      for (const job of waiting()) {
        if (executor.running.size >= maxJobs) {
          break;
        }
        if (executor.queues.includes(job.queue)) {
          job.state = 'processing';
          job.startedAt = at;
          job.executor = executor.name;
          executor.running.add(job.id);
        }
      }
    }
  }

  /** The earliest boot or job end not yet replayed, at or before `until`. */
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
            name: `${instance.hostname}-${randomUUID()}`,
            hostname: instance.hostname,
            queues: instance.queues,
            firstSeenAt: instance.readyAt,
            lastSeenAt: instance.readyAt,
            version,
            running: new Set(),
          };
        });
      }
    }
    for (const job of jobs) {
      if (job.state === 'processing' && job.startedAt !== undefined) {
        const endsAt = job.startedAt + job.durationMs;
        consider(endsAt, () => finish(job, endsAt));
      }
    }
    return next;
  }

  function finish(job: WorldJob, at: number): void {
    job.state = 'completed';
    job.finishedAt = at;
    stats.jobsCompleted += 1;
    for (const instance of instances.values()) {
      instance.executor?.running.delete(job.id);
    }
  }

  /** Replays everything that happened up to the clock's now. Idempotent. */
  function advance(): void {
    const now = clock();
    for (let event = nextEvent(now); event !== undefined; event = nextEvent(now)) {
      event.apply();
      startJobs(event.at);
    }
    startJobs(now);
    for (const instance of instances.values()) {
      if (instance.state === 'running' && instance.executor !== undefined) {
        // Heartbeats land every interval; lastSeenAt is the latest one at or before now.
        const since = now - instance.executor.firstSeenAt;
        instance.executor.lastSeenAt = instance.executor.firstSeenAt + Math.floor(since / heartbeatMs) * heartbeatMs;
      }
    }
    advancedTo = now;
  }

  return {
    clock,
    enqueue(queue: QueueName, count: number, enqueue: EnqueueOptions = {}): readonly WorldJob[] {
      advance();
      const added = Array.from({ length: count }, (): WorldJob => {
        const job: WorldJob = {
          id: nextJobId++,
          queue,
          durationMs: enqueue.durationMs ?? jobDurationMs,
          enqueuedAt: clock(),
          state: enqueue.state ?? 'queued',
          interruptions: 0,
          ...(enqueue.batchSpec === undefined ? {} : { batchSpec: enqueue.batchSpec }),
        };
        return job;
      });
      jobs.push(...added);
      stats.jobsEnqueued += count;
      startJobs(clock());
      return added;
    },

    /** A VM joins a group; its executor appears `bootDelayMs` later. */
    launchInstance(group: string, spec: { id: string; hostname: string; queues: readonly QueueName[] }): WorldInstance {
      advance();
      const now = clock();
      const instance: WorldInstance = {
        ...spec,
        group,
        launchedAt: now,
        readyAt: now + bootDelayMs,
        state: 'pending',
      };
      instances.set(instance.id, instance);
      stats.instancesLaunched += 1;
      return instance;
    },

    /** The VM goes away now: its running jobs are interrupted and go back to the queue. */
    terminateInstance(id: string): void {
      advance();
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
      instance.stoppedAt = clock();
      stats.instancesTerminated += 1;
      startJobs(clock());
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
