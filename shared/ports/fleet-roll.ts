import type { GroupTarget } from '../domain/fleet.ts';
import type { RollSettings } from '../domain/roll.ts';
import type { CallOptions } from './call-options.ts';

export type { RollQuantity, RollSettings } from '../domain/roll.ts';

export type RollState = 'in-progress' | 'succeeded' | 'failed' | 'cancelled';

/** A roll as the cloud reports it. */
export interface RollProgress {
  /** The cloud's name for it: the ASG `InstanceRefreshId`, the MIG version name fleetplane gave. */
  readonly id: string;
  readonly state: RollState;
  /** Epoch milliseconds, where the cloud says (ASG `StartTime`/`EndTime`; a MIG says neither). */
  readonly startedAt?: number;
  readonly endedAt?: number;
  /** Instances not yet replaced (ASG `InstancesToUpdate`; MIG members not yet on the roll's version). */
  readonly remaining: number;
  /** 0–100. */
  readonly percentComplete: number;
  /** The cloud's words on a roll that is stuck, failed or cancelled. */
  readonly reason?: string;
}

export interface RollRequest {
  /** Names the roll where the cloud keeps a name (the MIG version name): the rotation id. */
  readonly name: string;
  /**
   * Epoch milliseconds before which no roll can be this one, where the cloud keeps no name (an ASG instance refresh):
   * a refresh that started at or after it is taken as already started. Absent: only a named roll counts.
   */
  readonly notBefore?: number;
  readonly settings: RollSettings;
}

export type RollStart =
  | { readonly started: true; readonly roll: RollProgress }
  /** `already-started`: this roll began before (a run killed after starting it); `busy`: another roll is under way. */
  | { readonly started: false; readonly why: 'already-started' | 'busy'; readonly roll: RollProgress };

/**
 * Replaces every instance of a group so each boots afresh (and reads the executor token at boot), a few at a time:
 * ASG instance refresh (protected instances included), MIG proactive rolling replace. Throws `CloudApiError` when
 * the cloud cannot be read or refuses; a group that does not exist is a non-retryable `CloudApiError`.
 */
export interface FleetRoller {
  /** Starts the roll, unless this one started before or another is under way; either way answers that roll. */
  start(target: GroupTarget, request: RollRequest, options?: CallOptions): Promise<RollStart>;
  /** The group's newest roll (finished or not); undefined when it never had one the cloud still reports. */
  latest(target: GroupTarget, options?: CallOptions): Promise<RollProgress | undefined>;
  /**
   * The ids of the group's instances now, in any state until they are gone (terminating ones included): which
   * instances that booted with the old token are still there.
   */
  members(target: GroupTarget, options?: CallOptions): Promise<readonly string[]>;
}
