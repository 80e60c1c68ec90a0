import type { LifecycleState } from '@aws-sdk/client-auto-scaling';
import type { InstanceLifecycle } from '../ports/instance-groups.ts';

/**
 * Every `LifecycleState` of @aws-sdk/client-auto-scaling 3.1164.0. Typed as a full record so that an SDK upgrade adding
 * a state fails type-checking here until someone decides what it means for scaling.
 *
 * - `booting` holds scale-in (its effect on the queue is not visible yet), so states that will return to service
 *   without our doing anything count as booting: launch (`Pending*`) and root-volume replacement during an instance
 *   refresh (`ReplacingRootVolume*`, `RootVolumeReplaced`).
 * - `leaving` covers everything on its way out of the group: termination (including `Terminating:Retained`, kept by an
 *   instance lifecycle policy) and detachment.
 * - `standby` is capacity kept out of service on purpose: standby, and warm-pool instances (DescribeAutoScalingGroups
 *   does not normally list them; they are not part of desired capacity). `Quarantined` is documented as unused.
 */
const ASG_LIFECYCLE: Readonly<Record<LifecycleState, InstanceLifecycle>> = {
  Pending: 'booting',
  'Pending:Wait': 'booting',
  'Pending:Proceed': 'booting',
  ReplacingRootVolume: 'booting',
  'ReplacingRootVolume:Wait': 'booting',
  'ReplacingRootVolume:Proceed': 'booting',
  RootVolumeReplaced: 'booting',
  InService: 'in-service',
  Terminating: 'leaving',
  'Terminating:Wait': 'leaving',
  'Terminating:Proceed': 'leaving',
  'Terminating:Retained': 'leaving',
  Terminated: 'leaving',
  Detaching: 'leaving',
  Detached: 'leaving',
  EnteringStandby: 'standby',
  Standby: 'standby',
  Quarantined: 'standby',
  'Warmed:Pending': 'standby',
  'Warmed:Pending:Wait': 'standby',
  'Warmed:Pending:Proceed': 'standby',
  'Warmed:Pending:Retained': 'standby',
  'Warmed:Running': 'standby',
  'Warmed:Stopped': 'standby',
  'Warmed:Hibernated': 'standby',
  'Warmed:Terminating': 'standby',
  'Warmed:Terminating:Wait': 'standby',
  'Warmed:Terminating:Proceed': 'standby',
  'Warmed:Terminating:Retained': 'standby',
  'Warmed:Terminated': 'standby',
};

const BY_STATE: ReadonlyMap<string, InstanceLifecycle> = new Map(Object.entries(ASG_LIFECYCLE));

/** The lifecycle for a state, or undefined for one this SDK version does not know (the service may be newer). */
export function knownAsgLifecycle(state: string | undefined): InstanceLifecycle | undefined {
  return state === undefined ? undefined : BY_STATE.get(state);
}

/**
 * Unknown states count as booting: that holds scale-in until the state is understood, while scale-out, which is
 * always safe, still proceeds.
 */
export function asgLifecycle(state: string | undefined): InstanceLifecycle {
  return knownAsgLifecycle(state) ?? 'booting';
}

/** Every state this SDK version knows, for tests and documentation. */
export const ASG_LIFECYCLE_STATES: readonly string[] = [...BY_STATE.keys()];
