import type { QueueName } from '../../shared/domain/queues.ts';
import type { World } from '../world/world.ts';

/**
 * A managed instance group as the emulator keeps it: a target size and the VMs it manages, each backed by an
 * instance of the simulated world. Like a real MIG it converges on its own: every look at the group first drops
 * finished deletions, lets an attached autoscaler in mode ON override the size, then creates or deletes VMs until
 * the live count matches `targetSize`.
 */

export type Scope =
  | { readonly kind: 'zone'; readonly zone: string }
  | { readonly kind: 'region'; readonly region: string; readonly zones: readonly string[] };

export type AutoscalerMode = 'ON' | 'OFF' | 'ONLY_SCALE_OUT';

export interface AutoscalerSpec {
  readonly name?: string;
  readonly mode: AutoscalerMode;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** What the autoscaler wants; in mode ON it then owns `targetSize` (two controllers fight). */
  readonly recommendedSize?: number;
}

export interface ManagedVm {
  readonly name: string;
  readonly zone: string;
  readonly id: string;
  /** Epoch ms the VM was created: its `creationTimestamp`. */
  readonly createdAt: number;
  /** Epoch ms the MIG started deleting it (its executor is gone from then on). */
  deletingSince?: number;
}

export type InstanceStatus = 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING';
export type CurrentAction = 'NONE' | 'CREATING' | 'DELETING';

export interface VmView {
  readonly name: string;
  readonly zone: string;
  readonly id: string;
  readonly createdAt: number;
  readonly instanceStatus: InstanceStatus;
  readonly currentAction: CurrentAction;
}

export interface GroupState {
  readonly project: string;
  readonly scope: Scope;
  readonly name: string;
  readonly id: string;
  readonly createdAt: number;
  readonly queues: readonly QueueName[];
  /** `PAGELESS` (the API's default) ignores `maxResults` in `listManagedInstances`. */
  readonly paginated: boolean;
  targetSize: number;
  autoscaler: AutoscalerSpec | undefined;
  readonly vms: ManagedVm[];
}

export interface GroupEnv {
  readonly world: World;
  readonly clock: () => number;
  readonly random: () => number;
  /** Milliseconds a deleted VM stays listed as DELETING/STOPPING before it is gone. */
  readonly deleteDelayMs: number;
  readonly nextId: () => string;
}

export const locationOf = (scope: Scope): string => (scope.kind === 'zone' ? scope.zone : scope.region);
export const worldGroupKey = (group: Pick<GroupState, 'project' | 'scope' | 'name'>): string =>
  `gcp:${group.project}:${locationOf(group.scope)}:${group.name}`;
const worldId = (group: GroupState, vm: ManagedVm): string => `${group.project}/${vm.zone}/${vm.name}`;

export function viewOf(group: GroupState, vm: ManagedVm, env: GroupEnv): VmView {
  const base = { name: vm.name, zone: vm.zone, id: vm.id, createdAt: vm.createdAt };
  if (vm.deletingSince !== undefined) {
    return { ...base, instanceStatus: 'STOPPING', currentAction: 'DELETING' };
  }
  const instance = env.world.instance(worldId(group, vm));
  if (instance === undefined || instance.state === 'pending') {
    // The first third of the boot is spent provisioning the VM, the rest staging it (GCE's order of states).
    const launchedAt = instance?.launchedAt ?? env.clock();
    const provisioning = env.clock() - launchedAt < ((instance?.readyAt ?? launchedAt) - launchedAt) / 3;
    return { ...base, instanceStatus: provisioning ? 'PROVISIONING' : 'STAGING', currentAction: 'CREATING' };
  }
  return { ...base, instanceStatus: 'RUNNING', currentAction: 'NONE' };
}

export function reconcile(group: GroupState, env: GroupEnv): void {
  const now = env.clock();
  const gone = (vm: ManagedVm) =>
    vm.deletingSince === undefined
      ? env.world.instance(worldId(group, vm))?.state === 'terminated' // died under the MIG: it gets replaced
      : now - vm.deletingSince >= env.deleteDelayMs;
  group.vms.splice(0, group.vms.length, ...group.vms.filter((vm) => !gone(vm)));

  const autoscaler = group.autoscaler;
  if (autoscaler?.recommendedSize !== undefined && autoscaler.mode !== 'OFF') {
    const wanted = Math.min(autoscaler.maxReplicas, Math.max(autoscaler.minReplicas, autoscaler.recommendedSize));
    group.targetSize = autoscaler.mode === 'ON' ? wanted : Math.max(group.targetSize, wanted);
  }

  const live = group.vms.filter((vm) => vm.deletingSince === undefined);
  for (let count = live.length; count < group.targetSize; count += 1) {
    launch(group, env);
  }
  if (live.length > group.targetSize) {
    // A MIG picks victims by status first: VMs still booting go before ones serving, newest first within each.
    const victims = live
      .map((vm, order) => ({ vm, order, serving: viewOf(group, vm, env).instanceStatus === 'RUNNING' }))
      .sort((a, b) => Number(a.serving) - Number(b.serving) || b.order - a.order)
      .slice(0, live.length - group.targetSize);
    for (const { vm } of victims) {
      startDeleting(group, vm, env);
    }
  }
}

export function startDeleting(group: GroupState, vm: ManagedVm, env: GroupEnv): void {
  vm.deletingSince = env.clock();
  env.world.terminateInstance(worldId(group, vm));
}

/** A VM the group holds from the start, e.g. to reproduce a group seen in production. */
export interface InstanceSeed {
  /** The instance name, which is also its host name. */
  readonly name: string;
  /** Default: the group's zone, or for a regional group the zone with the fewest VMs. */
  readonly zone?: string;
  /** Epoch ms; default now. Only `creationTimestamp` reports it: the world boots the VM from now. */
  readonly createdAt?: number;
}

/** Adds a VM named by the caller, booting in the world like any other. Throws on a name taken or a zone not the group's. */
export function adopt(group: GroupState, env: GroupEnv, seed: InstanceSeed): void {
  const zones = zonesOf(group.scope);
  const zone = seed.zone ?? leastLoaded(group, zones);
  if (!zones.includes(zone)) {
    throw new Error(`instance ${seed.name}: zone ${zone} is not one of the group's (${zones.join(', ')})`);
  }
  if (group.vms.some((vm) => vm.name === seed.name)) {
    throw new Error(`instance ${seed.name} is already in group ${group.name}`);
  }
  place(group, env, { name: seed.name, zone, id: env.nextId(), createdAt: seed.createdAt ?? env.clock() });
}

const zonesOf = (scope: Scope): readonly string[] => (scope.kind === 'zone' ? [scope.zone] : scope.zones);

/** Regional groups spread evenly: the next VM goes to the zone holding the fewest live ones. */
function leastLoaded(group: GroupState, zones: readonly string[]): string {
  const load = (zone: string) => group.vms.filter((vm) => vm.zone === zone && vm.deletingSince === undefined).length;
  return zones.reduce((best, candidate) => (load(candidate) < load(best) ? candidate : best));
}

function launch(group: GroupState, env: GroupEnv): void {
  const zone = leastLoaded(group, zonesOf(group.scope));
  const taken = new Set(group.vms.map((vm) => vm.name));
  let name = '';
  do {
    name = `${group.name}-${suffix(env.random)}`;
  } while (taken.has(name));
  place(group, env, { name, zone, id: env.nextId(), createdAt: env.clock() });
}

function place(group: GroupState, env: GroupEnv, vm: ManagedVm): void {
  group.vms.push(vm);
  env.world.launchInstance(worldGroupKey(group), { id: worldId(group, vm), hostname: vm.name, queues: group.queues });
}

/** Four lowercase letters or digits, as a MIG suffixes its base instance name. */
function suffix(random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 4 }, () => alphabet[Math.floor(random() * alphabet.length)] ?? 'a').join('');
}
