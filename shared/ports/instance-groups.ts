import type { GroupTarget } from '../domain/fleet.ts';
import type { CallOptions } from './call-options.ts';

/**
 * `booting`: launched, not yet taking jobs. `in-service`: running. `leaving`: being stopped or terminated.
 * `standby`: kept out of service on purpose (standby, warm pool, detached).
 */
export type InstanceLifecycle = 'booting' | 'in-service' | 'leaving' | 'standby';

export interface GroupInstance {
  readonly id: string;
  readonly lifecycle: InstanceLifecycle;
  /** The cloud's own state name, for logs. */
  readonly state: string;
}

export interface GroupSnapshot {
  /** The size the group is converging to. */
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances: readonly GroupInstance[];
  /** Other controllers that resize this group (scaling policies, an attached autoscaler): two controllers fight. */
  readonly competingScalers: readonly string[];
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
}
