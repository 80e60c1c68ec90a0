import type { GroupTarget } from '../domain/fleet.ts';
import type { CallOptions } from './call-options.ts';

/**
 * `booting`: launched, not yet taking jobs. `in-service`: running. `leaving`: being stopped or terminated.
 * `standby`: kept out of service on purpose (standby, warm pool, detached). `exited`: the VM powered itself off (its
 * executor exited, as it does after `EXECUTOR_MAX_ACTIVE_TIME` or `EXECUTOR_NUM_TOTAL_JOBS`) and is still a member:
 * nothing runs on it, so removing it interrupts nothing (a stopped GCE VM; an EC2 one terminates instead).
 */
export type InstanceLifecycle = 'booting' | 'in-service' | 'leaving' | 'standby' | 'exited';

export interface GroupInstance {
  readonly id: string;
  readonly lifecycle: InstanceLifecycle;
  /** The cloud's own state name, for logs. */
  readonly state: string;
  /**
   * The VM's host name, which its executor's name starts with (`<hostname>-<uuid>`): EC2 `ip-10-0-1-2` (the private
   * DNS name's first label), the GCE instance name. Absent when the cloud did not say: such an instance counts as busy.
   */
  readonly hostname?: string;
  /** Epoch milliseconds the instance was launched, when the cloud says; orders scale-in victims. */
  readonly launchedAt?: number;
  /** Whether the cloud's own scale-in may pick it; absent where the cloud has no such setting (MIG). */
  readonly protectedFromScaleIn?: boolean;
}

export interface GroupSnapshot {
  /** The size the group is converging to. */
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances: readonly GroupInstance[];
  /** Other controllers that resize this group (scaling policies, an attached autoscaler): two controllers fight. */
  readonly competingScalers: readonly string[];
  /**
   * The group brings back a VM whose executor exited (a MIG repairing stopped VMs, its default), so attrition can
   * remove it only while it is still stopped. Absent where exited VMs are never kept (an ASG terminates them).
   */
  readonly recreatesExited?: boolean;
}

export type GroupDescription =
  | { readonly found: true; readonly snapshot: GroupSnapshot }
  | { readonly found: false; readonly reason: string };

/** Resizes that the cloud asked to retry later (a scaling activity in progress, contention, throttling). */
export type ResizeOutcome = { readonly applied: true } | { readonly applied: false; readonly deferred: string };

/**
 * The cloud instance groups a function manages. `describe` answers for many groups with as few API calls as the cloud
 * allows, keyed by `targetKey`. A group that does not exist, or whose region could not be read, is `found: false`
 * with the reason, so one region's outage does not hide the others; it throws `CloudApiError` only when nothing at
 * all could be read.
 */
export interface InstanceGroups {
  describe(targets: readonly GroupTarget[], options?: CallOptions): Promise<ReadonlyMap<string, GroupDescription>>;
  /** Sets the group's desired size at once (cooldowns are not honoured: the policy already decided). */
  setDesiredSize(target: GroupTarget, size: number, options?: CallOptions): Promise<ResizeOutcome>;
  /**
   * Removes exactly these instances and lowers the desired size by as many, so nothing replaces them (ASG
   * `TerminateInstanceInAutoScalingGroup` with `ShouldDecrementDesiredCapacity`; MIG `deleteInstances`). Answers per
   * instance: one refused instance does not stop the others.
   */
  removeInstances(
    target: GroupTarget,
    instanceIds: readonly string[],
    options?: ChangeOptions,
  ): Promise<ReadonlyMap<string, RemoveOutcome>>;
  /**
   * Replaces these instances with fresh ones, the desired size unchanged (MIG `recreateInstances`, under the same
   * name; ASG `SetInstanceHealth` Unhealthy, which the group terminates and replaces). Answers per instance.
   */
  replaceInstances(
    target: GroupTarget,
    instanceIds: readonly string[],
    options?: ChangeOptions,
  ): Promise<ReadonlyMap<string, ReplaceOutcome>>;
  /**
   * Keeps the cloud from choosing these instances itself when the desired size drops (ASG instance scale-in
   * protection; a MIG never picks victims unless resized down, which fleetplane does not do, so there it does nothing).
   */
  protectFromScaleIn(target: GroupTarget, instanceIds: readonly string[], options?: CallOptions): Promise<void>;
}

export interface ChangeOptions extends CallOptions {
  /**
   * Only instances still `exited` when the cloud is asked; the others are refused. What a cycle decided from its
   * snapshot must not touch a VM that was restarted since and may run a job now.
   */
  readonly onlyExited?: boolean;
}

/** What became of one instance fleetplane asked to replace. */
export type ReplaceOutcome =
  | { readonly replaced: true }
  | { readonly replaced: false; readonly reason: string; readonly retryable: boolean };

/** What became of one instance fleetplane asked to remove. */
export type RemoveOutcome =
  | { readonly removed: true }
  | { readonly removed: false; readonly reason: string; readonly retryable: boolean };
