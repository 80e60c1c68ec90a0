import type { QueueName } from '../../shared/domain/queues.ts';
import type { World } from '../world/world.ts';

/**
 * A managed instance group as the emulator keeps it: a target size and the VMs it manages, each backed by an
 * instance of the simulated world. Like a real MIG it converges on its own: every look at the group first drops
 * finished deletions, lets an attached autoscaler in mode ON override the size, then creates or deletes VMs until
 * the live count matches `targetSize`.
 *
 * A VM whose executor retires powers itself off and, with the instance template's `automatic_restart = false`, stays
 * TERMINATED (stopped). What the MIG does then is its `instanceLifecyclePolicy.defaultActionOnFailure`: `REPAIR` (the
 * default) recreates it under the same name (currentAction RECREATING, then a fresh VM boots, with a new id and a new
 * executor); `DO_NOTHING` leaves it TERMINATED, still a member counted in the group's size, until deleteInstances
 * removes it.
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

/** `instanceLifecyclePolicy.defaultActionOnFailure`: what the MIG does with a VM that stopped by itself. */
export type ActionOnFailure = 'REPAIR' | 'DO_NOTHING';
export const ACTIONS_ON_FAILURE: readonly ActionOnFailure[] = ['REPAIR', 'DO_NOTHING'];

export interface ManagedVm {
  readonly name: string;
  readonly zone: string;
  /** The VM's id; a recreated VM keeps its name and gets a new id. */
  id: string;
  /** Epoch ms the VM (this incarnation of it) was created: its `creationTimestamp`. */
  createdAt: number;
  /** The world instance behind the current incarnation. */
  worldId: string;
  /** Incarnations so far: 1, plus one per recreation. */
  incarnation: number;
  /** Epoch ms the MIG started deleting it (its executor is gone from then on). */
  deletingSince?: number;
  /** Epoch ms the MIG last started recreating it after it stopped (REPAIR); it reads RECREATING until the new VM runs. */
  recreatingSince?: number;
}

export type InstanceStatus = 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';
export type CurrentAction = 'NONE' | 'CREATING' | 'RECREATING' | 'DELETING';

export interface VmView {
  readonly name: string;
  readonly zone: string;
  readonly id: string;
  readonly createdAt: number;
  readonly instanceStatus: InstanceStatus;
  readonly currentAction: CurrentAction;
  /** Epoch ms the VM powered itself off, while it is TERMINATED: its `lastStopTimestamp`. */
  readonly stoppedAt?: number;
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
  readonly defaultActionOnFailure: ActionOnFailure;
  readonly vms: ManagedVm[];
  /** Resizes and deletions still to be refused as throttled (a test holding the group). */
  held: number;
}

export interface GroupEnv {
  readonly world: World;
  readonly clock: () => number;
  readonly random: () => number;
  /** Milliseconds a deleted VM stays listed as DELETING/STOPPING before it is gone. */
  readonly deleteDelayMs: number;
  /** Milliseconds a REPAIR group takes to notice a stopped VM and start its replacement (TERMINATED/RECREATING). */
  readonly repairDelayMs: number;
  readonly nextId: () => string;
}

export const locationOf = (scope: Scope): string => (scope.kind === 'zone' ? scope.zone : scope.region);
export const worldGroupKey = (group: Pick<GroupState, 'project' | 'scope' | 'name'>): string =>
  `gcp:${group.project}:${locationOf(group.scope)}:${group.name}`;
/** The world instance of a VM's incarnation: the first keeps the plain path, recreations are numbered. */
const worldIdOf = (project: string, zone: string, name: string, incarnation: number): string =>
  `${project}/${zone}/${name}${incarnation === 1 ? '' : `#${incarnation}`}`;

export function viewOf(_group: GroupState, vm: ManagedVm, env: GroupEnv): VmView {
  env.world.advance();
  const base = { name: vm.name, zone: vm.zone, id: vm.id, createdAt: vm.createdAt };
  const instance = env.world.instance(vm.worldId);
  const stopped = instance?.poweredOffAt === undefined ? {} : { stoppedAt: instance.poweredOffAt };
  if (vm.deletingSince !== undefined) {
    // A VM that had already stopped has nothing left to stop: it stays TERMINATED while it is deleted.
    return instance?.poweredOffAt === undefined
      ? { ...base, instanceStatus: 'STOPPING', currentAction: 'DELETING' }
      : { ...base, ...stopped, instanceStatus: 'TERMINATED', currentAction: 'DELETING' };
  }
  // Recreating only for the incarnation (or the stop) the recreation began with: a VM recreated once that later
  // stops under DO_NOTHING is plainly stopped.
  const since = vm.recreatingSince;
  const created = since !== undefined && since >= (instance?.launchedAt ?? vm.createdAt) ? 'RECREATING' : 'CREATING';
  if (instance?.state === 'stopped') {
    const action =
      since !== undefined && since >= (instance.poweredOffAt ?? Number.POSITIVE_INFINITY) ? 'RECREATING' : 'NONE';
    return { ...base, ...stopped, instanceStatus: 'TERMINATED', currentAction: action };
  }
  if (instance === undefined || instance.state === 'pending') {
    // The first third of the boot is spent provisioning the VM, the rest staging it (GCE's order of states).
    const launchedAt = instance?.launchedAt ?? env.clock();
    const provisioning = env.clock() - launchedAt < ((instance?.readyAt ?? launchedAt) - launchedAt) / 3;
    return { ...base, instanceStatus: provisioning ? 'PROVISIONING' : 'STAGING', currentAction: created };
  }
  return { ...base, instanceStatus: 'RUNNING', currentAction: 'NONE' };
}

export function reconcile(group: GroupState, env: GroupEnv): void {
  // Replayed first: a recreation due by now swaps a VM's world instance, which the checks below must see.
  env.world.advance();
  const now = env.clock();
  const gone = (vm: ManagedVm) =>
    vm.deletingSince === undefined
      ? env.world.instance(vm.worldId)?.state === 'terminated' // died under the MIG: it gets replaced
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

export function startDeleting(_group: GroupState, vm: ManagedVm, env: GroupEnv): void {
  vm.deletingSince = env.clock();
  env.world.terminateInstance(vm.worldId);
}

/**
 * A VM of `group` powered itself off at `at` (the world already shows it stopped). With REPAIR the MIG notices after
 * `repairDelayMs` and recreates it: the stopped VM is deleted and a new one, same name and zone, new id, boots in its
 * place; with DO_NOTHING it stays as it is. Called while the world replays that moment, so everything happens at `at`
 * or later, however rarely the group is looked at.
 */
export function onVmPoweredOff(group: GroupState, vm: ManagedVm, env: GroupEnv, at: number): void {
  if (group.defaultActionOnFailure !== 'REPAIR' || vm.deletingSince !== undefined) {
    return;
  }
  vm.recreatingSince = at;
  const stopped = vm.worldId;
  const recreateAt = at + env.repairDelayMs;
  env.world.schedule(recreateAt, () => {
    // Deleted meanwhile (deleteInstances takes a VM in any state), or already recreated: nothing left to do.
    if (!group.vms.includes(vm) || vm.deletingSince !== undefined || vm.worldId !== stopped) {
      return;
    }
    recreate(group, vm, env, recreateAt);
  });
}

/**
 * The VM is deleted (whatever runs on it is lost) and a new one, same name and zone, new id, boots in its place; it
 * reads RECREATING until it runs. What `recreateInstances` does at once and a repair after its delay.
 */
export function recreate(group: GroupState, vm: ManagedVm, env: GroupEnv, at: number): void {
  env.world.terminateInstance(vm.worldId);
  vm.recreatingSince = at;
  vm.incarnation += 1;
  vm.id = env.nextId();
  vm.createdAt = at;
  vm.worldId = worldIdOf(group.project, vm.zone, vm.name, vm.incarnation);
  env.world.launchInstance(worldGroupKey(group), { id: vm.worldId, hostname: vm.name, queues: group.queues });
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
  place(group, env, seed.name, zone, seed.createdAt ?? env.clock());
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
  place(group, env, name, zone, env.clock());
}

function place(group: GroupState, env: GroupEnv, name: string, zone: string, createdAt: number): void {
  const vm: ManagedVm = {
    name,
    zone,
    id: env.nextId(),
    createdAt,
    worldId: worldIdOf(group.project, zone, name, 1),
    incarnation: 1,
  };
  group.vms.push(vm);
  // Shutdown behaviour stop: GCE has no other, and `automatic_restart = false` keeps the VM down.
  env.world.launchInstance(worldGroupKey(group), { id: vm.worldId, hostname: name, queues: group.queues });
}

/** Four lowercase letters or digits, as a MIG suffixes its base instance name. */
function suffix(random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 4 }, () => alphabet[Math.floor(random() * alphabet.length)] ?? 'a').join('');
}
