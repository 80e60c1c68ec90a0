import type { QueueName } from '../shared/domain/queues.ts';

/**
 * The simulator's shared vocabulary: a trace of jobs, the scenario it is replayed in, the world a policy sees and
 * acts on, and what one policy's run produced. Times inside a run are milliseconds from the trace's start.
 */

/** One job of a trace: when it arrives, which queue it joins, how long it runs once an executor takes it. */
export interface TraceJob {
  /** Seconds from the trace's start. */
  readonly arrivalS: number;
  readonly queue: QueueName;
  /** Seconds of work, once started. */
  readonly durationS: number;
}

/** A trace, its jobs sorted by arrival. */
export interface Trace {
  /** `file:<path>` or `<generator>:seed=<n>`. */
  readonly name: string;
  readonly jobs: readonly TraceJob[];
  /** Seconds the trace covers (a day for the synthetic ones); at least the last arrival. */
  readonly durationS: number;
}

/** The world every policy is replayed in: the same for all of them, so their results compare. */
export interface Scenario {
  /** Seconds from launch until an instance's executor takes jobs. */
  readonly bootSeconds: number;
  /** Jobs one executor runs at once (the executor's `EXECUTOR_MAXIMUM_NUM_JOBS`). */
  readonly maxJobsPerInstance: number;
  /** The scaling ratio every policy sizes by (fleetplane's `jobsPerInstance`, Terraform's `jobs_per_instance_scaling`). */
  readonly jobsPerInstance: number;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Seconds the run continues after the trace ends, so late jobs finish and scale-in shows. */
  readonly tailSeconds: number;
  /** Seconds between timeline samples (the charts' resolution). */
  readonly sampleSeconds: number;
  /** Seeds the cloud's choice of which instances a lower desired size removes. */
  readonly seed: number;
  /**
   * The executor exits after this many jobs (`EXECUTOR_NUM_TOTAL_JOBS`) or this many seconds in service
   * (`EXECUTOR_MAX_ACTIVE_TIME`), finishing what it runs, and its VM powers off; the cloud replaces it only while the
   * group holds fewer instances than its desired size. Absent or 0: never.
   */
  readonly retireAfterJobs?: number;
  readonly retireAfterSeconds?: number;
}

export type SimInstanceState = 'booting' | 'running';

/** What a policy may read about one instance. */
export interface SimInstance {
  readonly id: string;
  /** Milliseconds from the trace's start. */
  readonly launchedAt: number;
  /** When the executor takes jobs (launch + boot time). */
  readonly readyAt: number;
  readonly state: SimInstanceState;
  /** Jobs the executor runs now. */
  readonly runningJobs: number;
  /** Protected from the cloud's own scale-in: a lower desired size never picks it. */
  readonly protected: boolean;
}

/**
 * The simulated cloud group and queue, as a policy sees them. Everything a real scaler reads, nothing more: a model
 * must not peek at future arrivals or job durations.
 */
export interface SimWorld {
  /** Milliseconds from the trace's start. */
  now(): number;
  /** Jobs Sourcegraph counts (queued plus processing), in one queue or in all of them. */
  queueDepth(queue?: QueueName): number;
  /** Jobs waiting for a free executor slot. */
  queuedJobs(): number;
  /** The group's desired size. */
  desired(): number;
  /** Instances that exist now (booting or running). */
  instances(): readonly SimInstance[];
  /**
   * Sets the group's desired size, clamped by nothing: a size outside [min, max] throws, as the cloud API refuses it.
   * Above the current count it launches instances; below, the cloud removes instances of its own choosing (at random:
   * neither cloud looks at running jobs), interrupting whatever they run. One scale action when the size changes.
   */
  setDesired(size: number): void;
  /**
   * Removes exactly these instances and lowers the desired size by as many (ASG `TerminateInstanceInAutoScalingGroup`
   * with `ShouldDecrementDesiredCapacity`, MIG `deleteInstances`). Throws, changing nothing, for an unknown id or when
   * the desired size would fall below the minimum, as the cloud refuses both. One scale action.
   */
  terminate(ids: readonly string[]): void;
  /** Protects these instances from the cloud's own scale-in (ASG instance protection). */
  protect(ids: readonly string[]): void;
  /** Runs `action` at `at` (milliseconds from the trace's start), after the world's own events at that moment. */
  at(at: number, action: () => void | Promise<void>): void;
}

/** A scaling policy under test: `start` arms its own timers on the world and returns. */
export interface PolicyModel {
  /** `fleetplane`, `tf-aws`, `gce`, `buildkite`. */
  readonly name: string;
  /** One line: what the model is and the defaults it runs with. */
  readonly description: string;
  start(world: SimWorld, scenario: Scenario): void | Promise<void>;
}

/** One point of a run's timeline. */
export interface TimelinePoint {
  /** Seconds from the trace's start. */
  readonly t: number;
  /** Queued plus processing jobs. */
  readonly depth: number;
  readonly queued: number;
  readonly desired: number;
  /** Booting plus running instances. */
  readonly instances: number;
}

export interface WaitStats {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/** A burst found in the trace: many arrivals in a short time. */
export interface BurstOutcome {
  /** Seconds from the trace's start. */
  readonly startS: number;
  readonly jobs: number;
  /**
   * Seconds from the burst's first arrival until, its last job having arrived, the desired size covered demand
   * (`ceil(depth / jobsPerInstance)`, at most the maximum). Absent if it never did.
   */
  readonly coveredAfterS?: number;
  /**
   * The longest stretch, from the burst's start until it was covered, in which the desired size was below what the
   * queue needed: how late a scaler was asking for capacity, however spread out the burst's arrivals.
   */
  readonly longestShortfallS?: number;
}

/** What one policy's run produced. Wait is seconds from arrival until the start of the run that completed the job. */
export interface PolicyResult {
  readonly policy: string;
  readonly description: string;
  readonly jobs: number;
  readonly completed: number;
  /** Jobs not finished when the run ended; their wait counts up to the end. */
  readonly unfinished: number;
  /** Seconds. */
  readonly wait: WaitStats;
  readonly instanceMinutes: number;
  /** Changes of the desired size. */
  readonly scaleActions: number;
  /** Job runs cut short because their instance was removed (each goes back to the queue). */
  readonly interruptedJobs: number;
  readonly peakInstances: number;
  readonly bursts: readonly BurstOutcome[];
  readonly timeline: readonly TimelinePoint[];
}

export interface SimulationReport {
  readonly trace: { readonly name: string; readonly jobs: number; readonly durationS: number };
  readonly scenario: Scenario;
  readonly results: readonly PolicyResult[];
}
