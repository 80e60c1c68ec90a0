import type { QueueName } from '../../shared/domain/queues.ts';
import type { World } from '../world/world.ts';
import {
  actionRank,
  neededAction,
  resolveQuantity,
  sameVersion,
  type UpdateAction,
  type UpdatePolicy,
  type Version,
  type VmVersion,
  versionTargets,
} from './compute-rolls.ts';

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
 *
 * Each VM also runs a version (template and version name) of the group's `versions`. Under a PROACTIVE update policy
 * the group replaces VMs on any other version, a few at a time, as `compute-rolls.ts` describes.
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
  /** The version this incarnation was created from, or relabelled to by an update that needed no new VM. */
  version: VmVersion;
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
  readonly version: VmVersion;
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
  /** What new VMs are created from and what an update brings old ones to; never empty. */
  versions: readonly Version[];
  updatePolicy: UpdatePolicy;
  /** Simulated moments an update in progress is already scheduled to move on at. */
  readonly wakes: Set<number>;
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
  const base = { name: vm.name, zone: vm.zone, id: vm.id, createdAt: vm.createdAt, version: vm.version };
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
  dropGone(group, env, now);

  const autoscaler = group.autoscaler;
  if (autoscaler?.recommendedSize !== undefined && autoscaler.mode !== 'OFF') {
    const wanted = Math.min(autoscaler.maxReplicas, Math.max(autoscaler.minReplicas, autoscaler.recommendedSize));
    group.targetSize = autoscaler.mode === 'ON' ? wanted : Math.max(group.targetSize, wanted);
  }
  converge(group, env, now);
}

/** Forgets VMs whose deletion has finished, and those that died under the MIG (the group replaces them). */
function dropGone(group: GroupState, env: GroupEnv, at: number): void {
  const gone = (vm: ManagedVm) =>
    vm.deletingSince === undefined
      ? env.world.instance(vm.worldId)?.state === 'terminated'
      : at - vm.deletingSince >= env.deleteDelayMs;
  group.vms.splice(0, group.vms.length, ...group.vms.filter((vm) => !gone(vm)));
}

const liveOf = (group: GroupState): ManagedVm[] => group.vms.filter((vm) => vm.deletingSince === undefined);

/** RUNNING and left alone: what an update's `maxUnavailable` counts as available (there is no health check). */
const isAvailable = (group: GroupState, vm: ManagedVm, env: GroupEnv): boolean => {
  const view = viewOf(group, vm, env);
  return view.instanceStatus === 'RUNNING' && view.currentAction === 'NONE';
};

interface VersionPlan {
  /** Live VMs that must move to another version: on none of the group's versions, or on one that has too many. */
  readonly outdated: readonly ManagedVm[];
  /** Live VMs on a version that wants them. */
  readonly upToDate: number;
  /** Per version, the VMs it still wants. */
  readonly deficits: readonly number[];
}

/**
 * Which live VMs are where they should be. Each version wants its share of the target size; a VM counts for the
 * first version it matches that still has room. VMs on a version with too many are outdated only as far as another
 * version lacks VMs (a canary's share moving); beyond that they are just surplus, which sizing removes.
 */
function planOf(group: GroupState): VersionPlan {
  const wanted = versionTargets(group.versions, group.targetSize);
  const have = wanted.map(() => 0);
  const stale: ManagedVm[] = [];
  const surplus: ManagedVm[] = [];
  for (const vm of liveOf(group)) {
    const index = group.versions.findIndex(
      (version, i) => sameVersion(vm.version, version) && (have[i] ?? 0) < (wanted[i] ?? 0),
    );
    if (index >= 0) {
      have[index] = (have[index] ?? 0) + 1;
    } else if (group.versions.some((version) => sameVersion(vm.version, version))) {
      surplus.push(vm);
    } else {
      stale.push(vm);
    }
  }
  const deficits = wanted.map((count, i) => count - (have[i] ?? 0));
  const movable = Math.max(0, deficits.reduce((sum, deficit) => sum + deficit, 0) - stale.length);
  return {
    outdated: [...stale, ...surplus.slice(0, movable)],
    upToDate: have.reduce((sum, count) => sum + count, 0),
    deficits,
  };
}

/** The version the next VM is created from or moved to: the one lacking the most VMs (the first, when none lacks). */
function nextVersion(group: GroupState): VmVersion {
  const { deficits } = planOf(group);
  let best = 0;
  deficits.forEach((deficit, index) => {
    if (deficit > (deficits[best] ?? 0)) {
      best = index;
    }
  });
  const version = group.versions[best] ?? group.versions[0];
  if (version === undefined) {
    throw new Error(`group ${group.name} has no version`);
  }
  return { instanceTemplate: version.instanceTemplate, ...(version.name === undefined ? {} : { name: version.name }) };
}

/** The version a VM should run: its own when that is where it belongs, else the one lacking VMs. */
export function targetVersionOf(group: GroupState, vm: ManagedVm): VmVersion {
  return planOf(group).outdated.includes(vm) ? nextVersion(group) : vm.version;
}

/**
 * `status.versionTarget.isReached`: every VM runs the version meant for it, and none of an older one is still being
 * deleted. VMs being created count as reached: they are created from their target version.
 */
export function versionTargetReached(group: GroupState): boolean {
  return (
    planOf(group).outdated.length === 0 &&
    group.vms.every(
      (vm) => vm.deletingSince === undefined || group.versions.some((version) => sameVersion(vm.version, version)),
    )
  );
}

/**
 * Brings the group toward its target size and, under a PROACTIVE update policy, every VM onto its version. An
 * outdated VM whose update needs no new VM (only the version name changed) and a minimal action below REPLACE is
 * relabelled in place (RESTART too: the emulator does not reboot it). One that needs, or is asked for, REPLACE is
 * replaced within the policy's limits: at most `maxUnavailable` VMs out of service at once (a replacement counts
 * until it runs), at most `maxSurge` VMs above the target size. SUBSTITUTE deletes the old VM and creates one under
 * a new name (surge VMs first, when allowed); RECREATE recreates it under its name. An action beyond
 * `mostDisruptiveAllowedAction` is not taken: the VM stays outdated.
 *
 * Runs at `at`: at every look (the clock's now) and, while an update is under way, at each simulated moment it can
 * move on (a VM finishing its boot, a deletion finishing), so an update progresses the same however rarely the group
 * is looked at.
 */
export function converge(group: GroupState, env: GroupEnv, at: number): void {
  dropGone(group, env, at);
  const policy = group.updatePolicy;
  const target = group.targetSize;
  const replaceable: ManagedVm[] = [];
  if (policy.type === 'PROACTIVE') {
    for (const vm of planOf(group).outdated) {
      const to = nextVersion(group);
      const action = maxAction(policy.minimalAction, neededAction(vm.version, to));
      if (actionRank(action) > actionRank(policy.mostDisruptiveAllowedAction)) {
        continue;
      }
      if (action === 'REPLACE') {
        replaceable.push(vm);
      } else {
        vm.version = to;
      }
    }
  }
  const rolling = replaceable.length > 0;
  const recreating = policy.replacementMethod === 'RECREATE';
  const surge = rolling && !recreating ? resolveQuantity(policy.maxSurge, target) : 0;
  const unavailable = rolling ? resolveQuantity(policy.maxUnavailable, target) : 0;

  const live = liveOf(group);
  if (live.length > target + surge) {
    // A MIG picks victims by status: VMs still booting go before ones serving, newest first within each. Outdated
    // VMs go before all of them: removing one is progress for an update too.
    const outdated = new Set(planOf(group).outdated);
    const victims = live
      .map((vm, order) => ({ vm, order, stale: outdated.has(vm), serving: isAvailable(group, vm, env) }))
      .sort((a, b) => Number(b.stale) - Number(a.stale) || Number(a.serving) - Number(b.serving) || b.order - a.order)
      .slice(0, live.length - target - surge);
    for (const { vm } of victims) {
      startDeleting(group, vm, env, at);
    }
  }

  if (rolling) {
    let available = liveOf(group).filter((vm) => isAvailable(group, vm, env)).length;
    // VMs already out of service first: replacing them costs no availability.
    const candidates = replaceable
      .filter((vm) => vm.deletingSince === undefined)
      .map((vm) => ({ vm, cost: isAvailable(group, vm, env) ? 1 : 0 }))
      .sort((a, b) => a.cost - b.cost);
    for (const { vm, cost } of candidates) {
      if (cost > 0 && available - cost < target - unavailable) {
        break;
      }
      if (recreating) {
        recreate(group, vm, env, at, nextVersion(group));
      } else {
        startDeleting(group, vm, env, at);
      }
      available -= cost;
    }
  }

  let count = liveOf(group).length;
  let upToDate = planOf(group).upToDate;
  for (; count < target + surge && (count < target || upToDate < target); count += 1, upToDate += 1) {
    launch(group, env, at, nextVersion(group));
  }

  if (policy.type === 'PROACTIVE' && !versionTargetReached(group)) {
    scheduleNextStep(group, env, at);
  }
}

const maxAction = (a: UpdateAction, b: UpdateAction): UpdateAction => (actionRank(a) >= actionRank(b) ? a : b);

/** The next simulated moment the update can move on: a VM finishing its boot or a deletion finishing. */
function scheduleNextStep(group: GroupState, env: GroupEnv, at: number): void {
  const moments = group.vms.flatMap((vm) => {
    if (vm.deletingSince !== undefined) {
      return [vm.deletingSince + env.deleteDelayMs];
    }
    const instance = env.world.instance(vm.worldId);
    return instance?.state === 'pending' ? [instance.readyAt] : [];
  });
  const next = Math.min(...moments.filter((moment) => moment > at));
  if (!Number.isFinite(next) || group.wakes.has(next)) {
    return;
  }
  group.wakes.add(next);
  env.world.schedule(next, () => {
    group.wakes.delete(next);
    converge(group, env, next);
  });
}

export function startDeleting(_group: GroupState, vm: ManagedVm, env: GroupEnv, at = env.clock()): void {
  vm.deletingSince = at;
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
 * reads RECREATING until it runs. What `recreateInstances` does at once (with the version meant for it), a repair
 * after its delay (keeping its version: `forceUpdateOnRepair` is NO) and an update that recreates.
 */
export function recreate(group: GroupState, vm: ManagedVm, env: GroupEnv, at: number, version = vm.version): void {
  env.world.terminateInstance(vm.worldId);
  vm.version = version;
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
  place(group, env, seed.name, zone, seed.createdAt ?? env.clock(), nextVersion(group));
}

export const zonesOf = (scope: Scope): readonly string[] => (scope.kind === 'zone' ? [scope.zone] : scope.zones);

/** Regional groups spread evenly: the next VM goes to the zone holding the fewest live ones. */
function leastLoaded(group: GroupState, zones: readonly string[]): string {
  const load = (zone: string) => group.vms.filter((vm) => vm.zone === zone && vm.deletingSince === undefined).length;
  return zones.reduce((best, candidate) => (load(candidate) < load(best) ? candidate : best));
}

function launch(group: GroupState, env: GroupEnv, at: number, version: VmVersion): void {
  const zone = leastLoaded(group, zonesOf(group.scope));
  const taken = new Set(group.vms.map((vm) => vm.name));
  let name = '';
  do {
    name = `${group.name}-${suffix(env.random)}`;
  } while (taken.has(name));
  place(group, env, name, zone, at, version);
}

function place(
  group: GroupState,
  env: GroupEnv,
  name: string,
  zone: string,
  createdAt: number,
  version: VmVersion,
): void {
  const vm: ManagedVm = {
    name,
    zone,
    id: env.nextId(),
    createdAt,
    worldId: worldIdOf(group.project, zone, name, 1),
    incarnation: 1,
    version,
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
