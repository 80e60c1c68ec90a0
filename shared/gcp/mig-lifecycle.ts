import type { InstanceLifecycle } from '../ports/instance-groups.ts';

/**
 * A managed instance's lifecycle from the two fields `listManagedInstances` reports: `currentAction` (what the MIG is
 * doing to the VM) decides first, `instanceStatus` (the VM's own state) when the MIG is doing nothing. Values are
 * those of @google-cloud/compute 7.8.0's `ManagedInstance` enums, plus the newer actions of the v1 REST reference.
 *
 * - `booting` holds scale-in, so everything that returns to service without our doing anything counts as booting:
 *   creation (with or without retries), recreation, verification, (re)starting, resuming and refreshing, and the VM
 *   states before RUNNING (PENDING, PROVISIONING, STAGING) or back into it (REPAIRING). The issue's rule: a
 *   CREATING or STAGING instance is Pending for the policy.
 * - `leaving` covers everything on its way out: deletion and abandonment (the MIG lets go of the VM), stopping and
 *   suspending, and the VM states on the way down.
 * - `exited`: a stopped VM doing nothing (TERMINATED is how GCE spells stopped). Executor templates set
 *   `automatic_restart = false`, so an executor that exits and powers its VM off leaves it here. A standby pool's
 *   stopped VMs look the same; executor groups have none, and removing one would interrupt nothing either.
 * - `standby`: a suspended VM, whose memory (and any job in it) survives: never removed by choice.
 */
const BY_ACTION: ReadonlyMap<string, InstanceLifecycle> = new Map([
  ['CREATING', 'booting'],
  ['CREATING_WITHOUT_RETRIES', 'booting'],
  ['RECREATING', 'booting'],
  ['VERIFYING', 'booting'],
  ['STARTING', 'booting'],
  ['RESUMING', 'booting'],
  ['RESTARTING', 'booting'],
  ['REFRESHING', 'booting'],
  ['DELETING', 'leaving'],
  ['ABANDONING', 'leaving'],
  ['STOPPING', 'leaving'],
  ['SUSPENDING', 'leaving'],
]);

const BY_STATUS: ReadonlyMap<string, InstanceLifecycle> = new Map([
  ['RUNNING', 'in-service'],
  ['PENDING', 'booting'],
  ['PROVISIONING', 'booting'],
  ['STAGING', 'booting'],
  ['REPAIRING', 'booting'],
  ['STOPPING', 'leaving'],
  ['PENDING_STOP', 'leaving'],
  ['SUSPENDING', 'leaving'],
  ['DEPROVISIONING', 'leaving'],
  ['STOPPED', 'exited'],
  ['SUSPENDED', 'standby'],
  ['TERMINATED', 'exited'],
]);

export interface ManagedInstanceState {
  readonly currentAction?: string | null;
  readonly instanceStatus?: string | null;
}

/** The lifecycle, or undefined for a combination this code does not know (the API may be newer). */
export function knownMigLifecycle(instance: ManagedInstanceState): InstanceLifecycle | undefined {
  const action = instance.currentAction ?? 'NONE';
  if (action !== 'NONE') {
    return BY_ACTION.get(action);
  }
  // NONE with no status yet: the VM is not created; MIGs report that as CREATING, so this is a brief race.
  return instance.instanceStatus ? BY_STATUS.get(instance.instanceStatus) : 'booting';
}

/**
 * Unknown combinations count as booting: that holds scale-in until they are understood, while scale-out, which is
 * always safe, still proceeds.
 */
export function migLifecycle(instance: ManagedInstanceState): InstanceLifecycle {
  return knownMigLifecycle(instance) ?? 'booting';
}

/** `CREATING/STAGING`: both fields, for logs. */
export function migState(instance: ManagedInstanceState): string {
  return `${instance.currentAction ?? 'NONE'}/${instance.instanceStatus ?? 'NO_STATUS'}`;
}

/** Every action and status this code knows, for tests and documentation. */
export const MIG_ACTIONS: readonly string[] = ['NONE', ...BY_ACTION.keys()];
export const MIG_STATUSES: readonly string[] = [...BY_STATUS.keys()];
