import type { QueueName } from '../../shared/domain/queues.ts';

/** What a test or the local stack says a group is, and the state the Auto Scaling emulator keeps for it. */

export type PolicyType = 'SimpleScaling' | 'StepScaling' | 'TargetTrackingScaling' | 'PredictiveScaling';

export interface ScalingPolicySpec {
  readonly name: string;
  readonly type?: PolicyType;
  /** Disabled policies are listed but do not act. Default true. */
  readonly enabled?: boolean;
}

/** An instance with a lifecycle state of its own, outside the world: for describing states the world never reaches. */
export interface SeededInstance {
  readonly id: string;
  /** An Auto Scaling `LifecycleState`, e.g. `Pending:Wait`, `Standby`. */
  readonly state: string;
  readonly protectedFromScaleIn?: boolean;
}

export interface GroupSpec {
  readonly name: string;
  /** Default: the emulator's region. */
  readonly region?: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  /** The queues the executors on this group's instances take jobs from. */
  readonly queues: readonly QueueName[];
  readonly policies?: readonly ScalingPolicySpec[];
  /** When given, the group holds exactly these and launches nothing until its desired capacity next changes. */
  readonly instances?: readonly SeededInstance[];
  /** Instances the group launches start protected from scale-in. Default false. */
  readonly newInstancesProtectedFromScaleIn?: boolean;
  /**
   * Seconds after launch during which SetInstanceHealth, unless told not to respect it, refuses to mark an instance
   * Unhealthy. Default 300, the console's default (the API's is 0).
   */
  readonly healthCheckGracePeriod?: number;
}

/** The health statuses SetInstanceHealth accepts and DescribeAutoScalingGroups reports. */
export type HealthStatus = 'Healthy' | 'Unhealthy';
export const HEALTH_STATUSES: readonly HealthStatus[] = ['Healthy', 'Unhealthy'];
export const DEFAULT_HEALTH_CHECK_GRACE_PERIOD = 300;

export interface GroupInstance {
  readonly id: string;
  readonly availabilityZone: string;
  readonly launchedAt: number;
  readonly seededState?: string;
  protectedFromScaleIn: boolean;
  /** As last set by SetInstanceHealth; absent: `Healthy`, as every instance starts. */
  health?: HealthStatus;
  /** Epoch ms when scale-in picked it; it is listed as `Terminating` for a while, then leaves the group. */
  terminatingSince?: number;
  /**
   * Replaced by an instance refresh that launched its replacement first: still in service, no longer counted toward
   * desired capacity, and terminated once the replacement is warm.
   */
  retiring?: boolean;
}

export interface GroupState {
  readonly name: string;
  readonly region: string;
  readonly min: number;
  readonly max: number;
  desired: number;
  readonly queues: readonly QueueName[];
  readonly policies: readonly ScalingPolicySpec[];
  readonly createdAt: number;
  readonly newInstancesProtectedFromScaleIn: boolean;
  /** Seconds; see `GroupSpec.healthCheckGracePeriod`. */
  readonly healthCheckGracePeriod: number;
  instances: GroupInstance[];
  /** Resizes and terminations still to be refused with this code (`ScalingActivityInProgress`, …). */
  held: { code: HoldCode; remaining: number } | undefined;
  /** Instance refreshes, oldest first; at most one is active. */
  refreshes: InstanceRefresh[];
}

/** An instance refresh's `Status`, as DescribeInstanceRefreshes reports it. */
export type RefreshStatus =
  | 'Pending'
  | 'InProgress'
  | 'Successful'
  | 'Failed'
  | 'Cancelling'
  | 'Cancelled'
  | 'RollbackInProgress'
  | 'RollbackFailed'
  | 'RollbackSuccessful'
  | 'Baking';

/** While a refresh is in one of these, StartInstanceRefresh answers `InstanceRefreshInProgress`. */
export const ACTIVE_REFRESH_STATUSES: readonly RefreshStatus[] = [
  'Pending',
  'InProgress',
  'Cancelling',
  'RollbackInProgress',
  'Baking',
];

/** What a refresh does with instances protected from scale-in, and with `Standby` ones (both default `Wait`). */
export const SCALE_IN_PROTECTED_POLICIES = ['Ignore', 'Wait', 'Refresh'] as const;
export type ScaleInProtectedPolicy = (typeof SCALE_IN_PROTECTED_POLICIES)[number];
export const STANDBY_POLICIES = ['Terminate', 'Ignore', 'Wait'] as const;
export type StandbyPolicy = (typeof STANDBY_POLICIES)[number];

/** StartInstanceRefresh's `Preferences`, defaults filled in as the service reports them back. */
export interface RefreshPreferences {
  /** Percent of desired capacity kept in service; the count is rounded up. */
  readonly minHealthyPercentage: number;
  /** Percent of desired capacity the group may hold while replacing; absent: terminate and launch together. */
  readonly maxHealthyPercentage?: number;
  /** Seconds after a replacement is `InService` before the next batch; absent: the group's grace period. */
  readonly instanceWarmup?: number;
  readonly checkpointPercentages?: readonly number[];
  /** Seconds to pause at each checkpoint. */
  readonly checkpointDelay?: number;
  readonly skipMatching: boolean;
  readonly autoRollback: boolean;
  readonly scaleInProtectedInstances: ScaleInProtectedPolicy;
  readonly standbyInstances: StandbyPolicy;
  readonly alarms?: readonly string[];
  /** Seconds `Baking` after the last replacement before the refresh is `Successful`. */
  readonly bakeTime?: number;
}

export interface InstanceRefresh {
  readonly id: string;
  readonly preferences: RefreshPreferences;
  /** Whether the request named a desired configuration (echoed; every launch uses the group's one template). */
  readonly desiredConfiguration: boolean;
  readonly startTime: number;
  status: RefreshStatus;
  statusReason?: string;
  endTime?: number;
  /** Ids of the instances still to be replaced, including those of the batch under way. */
  readonly outdated: Set<string>;
  /** `InstancesToUpdate` at the start: what `PercentageComplete` is a share of. */
  readonly total: number;
  /** The batch under way: the instances it replaces and the replacements it launched. */
  batch?: { readonly replacing: readonly string[]; readonly launched: readonly string[] };
  /** Epoch ms until which it pauses (a checkpoint, or baking). */
  holdUntil?: number;
  checkpointsPassed: number;
  /** Epoch ms since which only instances it waits for (protected, standby) are left. */
  waitingSince?: number;
  /** Epoch ms of its next scheduled step in the world. */
  wakeAt?: number;
}

export type HoldCode = 'ScalingActivityInProgress' | 'ResourceContention';

export const HOLD_MESSAGES: Readonly<Record<HoldCode, string>> = {
  ScalingActivityInProgress: 'Scaling activity is in progress and blocks this action.',
  ResourceContention:
    'You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).',
};

/** States that count toward desired capacity: on their way in or serving. Everything else is leaving or set aside. */
export const COUNTED = /^(Pending|InService|ReplacingRootVolume|RootVolumeReplaced)/;

/** The zones a group spans; instances are spread over them. */
export function zonesOf(region: string): readonly string[] {
  return ['a', 'b', 'c'].map((letter) => `${region}${letter}`);
}
