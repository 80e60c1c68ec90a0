import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/ports/clock.ts';
import type { World } from '../world/world.ts';
import {
  ACTIVE_REFRESH_STATUSES,
  COUNTED,
  type GroupInstance,
  type GroupState,
  type InstanceRefresh,
  type RefreshPreferences,
  type RefreshStatus,
} from './auto-scaling-spec.ts';
import { AwsServiceError } from './errors.ts';

/**
 * Instance refresh (Strategy `Rolling`) over simulated time. A refresh replaces, batch by batch, the instances the
 * group held when it started. Each batch is as large as the healthy percentages allow: terminating keeps at least
 * `MinHealthyPercentage` of desired capacity in service (count rounded up, as AWS documents), launching keeps the
 * group within `MaxHealthyPercentage` (count rounded down). When neither allows a replacement, one instance is still
 * replaced: terminated and replaced together with `MaxHealthyPercentage` absent, launched first with it given, as the
 * API reference describes. The group itself launches the replacements (it is below desired capacity), so scaling
 * during a refresh keeps working; new instances are never in the refresh's list. The next batch starts once every
 * replacement is `InService` and its warm-up has passed. Protected and `Standby` instances are replaced, skipped or
 * waited for (one hour, then `Failed`) as the preferences say. Steps run as world events at their simulated moment.
 *
 * Simplified: checkpoints pause once a batch reaches them rather than sizing batches to stop exactly there; a failed
 * refresh is never rolled back (`AutoRollback`), and alarms are accepted but never fire.
 */

/** How long a refresh waits for protected or `Standby` instances before it fails (the documented hour). */
const WAIT_LIMIT_MS = 60 * 60_000;

export interface RefreshEnv {
  readonly world: World;
  readonly clock: Clock;
  /** Milliseconds a refresh stays `Pending` before its first batch. */
  readonly startDelayMs: number;
  lifecycleState(instance: GroupInstance): string;
  /** Launches or terminates until the group holds its desired capacity, as of `at`. */
  reconcile(group: GroupState, at: number): void;
  /** Whether the group still exists (it was not replaced or cleared since). */
  isLive(group: GroupState): boolean;
}

export interface RefreshRequest {
  readonly preferences: RefreshPreferences;
  readonly desiredConfiguration: boolean;
}

export function activeRefresh(group: GroupState): InstanceRefresh | undefined {
  return group.refreshes.find((refresh) => ACTIVE_REFRESH_STATUSES.includes(refresh.status));
}

/** Whether an active refresh still has to replace the instance: the default termination policy takes such ones first. */
export function isOutdated(group: GroupState, instanceId: string): boolean {
  return activeRefresh(group)?.outdated.has(instanceId) ?? false;
}

/** `InstancesToUpdate` and `PercentageComplete`: instances gone by other means (scale-in) count as done. */
export function progressOf(group: GroupState, refresh: InstanceRefresh) {
  const inBatch = new Set(refresh.batch?.replacing ?? []);
  const left = [...refresh.outdated].filter(
    (id) => inBatch.has(id) || group.instances.some((instance) => instance.id === id && live(instance)),
  ).length;
  const percentageComplete = refresh.total === 0 ? 100 : Math.floor((100 * (refresh.total - left)) / refresh.total);
  return { instancesToUpdate: left, percentageComplete };
}

function live(instance: GroupInstance): boolean {
  return instance.terminatingSince === undefined && instance.retiring !== true;
}

export function createRefreshes(env: RefreshEnv) {
  const { world } = env;
  const stateOf = (instance: GroupInstance) => env.lifecycleState(instance);

  /** Runs `step` at `at` in the world's replay; a step already due earlier makes this one redundant. */
  function wake(group: GroupState, refresh: InstanceRefresh, at: number): void {
    if (refresh.wakeAt !== undefined && refresh.wakeAt <= at) {
      return;
    }
    refresh.wakeAt = at;
    world.schedule(at, () => {
      if (refresh.wakeAt === at) {
        refresh.wakeAt = undefined;
        step(group, refresh, at);
      }
    });
  }

  /** A wake asked for by a request: not before the world's own now, which the emulator's clock may trail. */
  const wakeFromRequest = (group: GroupState, refresh: InstanceRefresh, at: number) =>
    wake(group, refresh, Math.max(at, world.clock()));

  function end(refresh: InstanceRefresh, status: RefreshStatus, at: number, reason?: string): void {
    refresh.status = status;
    refresh.endTime = at;
    refresh.holdUntil = undefined;
    if (reason === undefined) {
      delete refresh.statusReason;
    } else {
      refresh.statusReason = reason;
    }
  }

  /** When the batch's replacements are all in service and warm: undefined once they are (or have gone). */
  function batchWarmAt(group: GroupState, refresh: InstanceRefresh, at: number): number | undefined {
    const warmupMs = (refresh.preferences.instanceWarmup ?? group.healthCheckGracePeriod) * 1000;
    let until: number | undefined;
    for (const id of refresh.batch?.launched ?? []) {
      const vm = world.instance(id);
      const member = group.instances.find((instance) => instance.id === id);
      if (
        vm === undefined ||
        member === undefined ||
        !live(member) ||
        (vm.state !== 'pending' && vm.state !== 'running')
      ) {
        continue;
      }
      const warmAt = vm.readyAt + warmupMs;
      if (warmAt > at) {
        until = Math.max(until ?? warmAt, warmAt);
      }
    }
    return until;
  }

  /** The batch is done: instances kept in service until now (launched first) go, and all it replaced are updated. */
  function finishBatch(group: GroupState, refresh: InstanceRefresh, at: number): void {
    for (const id of refresh.batch?.replacing ?? []) {
      refresh.outdated.delete(id);
      const instance = group.instances.find((candidate) => candidate.id === id);
      if (instance !== undefined && instance.terminatingSince === undefined) {
        instance.terminatingSince = at;
        world.terminateInstance(id);
      }
    }
    refresh.batch = undefined;
  }

  /** Sorts the instances left to replace: replaceable now, waited for, or (gone, ignored) dropped from the list. */
  function candidates(group: GroupState, refresh: InstanceRefresh, at: number) {
    const { scaleInProtectedInstances: protectedPolicy, standbyInstances: standbyPolicy } = refresh.preferences;
    const eligible: GroupInstance[] = [];
    const waiting: GroupInstance[] = [];
    for (const id of refresh.outdated) {
      const instance = group.instances.find((candidate) => candidate.id === id && live(candidate));
      const state = instance === undefined ? undefined : stateOf(instance);
      const policy = state?.startsWith('Standby')
        ? standbyPolicy
        : instance?.protectedFromScaleIn === true && protectedPolicy !== 'Refresh'
          ? protectedPolicy
          : 'Replace';
      if (instance === undefined || state === undefined || policy === 'Ignore') {
        refresh.outdated.delete(id);
      } else if (policy === 'Wait') {
        waiting.push(instance);
      } else if (policy === 'Terminate') {
        // Standby instances do not count toward desired capacity: they go, and nothing replaces them.
        instance.terminatingSince = at;
        world.terminateInstance(id);
        refresh.outdated.delete(id);
      } else if (COUNTED.test(state)) {
        eligible.push(instance);
      } else {
        refresh.outdated.delete(id);
      }
    }
    return { eligible, waiting };
  }

  function startBatch(group: GroupState, refresh: InstanceRefresh, eligible: readonly GroupInstance[], at: number) {
    const { minHealthyPercentage, maxHealthyPercentage } = refresh.preferences;
    const desired = group.desired;
    const minCount = Math.ceil((desired * minHealthyPercentage) / 100);
    const maxCount = maxHealthyPercentage === undefined ? desired : Math.floor((desired * maxHealthyPercentage) / 100);
    const healthy = group.instances.filter(
      (instance) => live(instance) && stateOf(instance) === 'InService' && (instance.health ?? 'Healthy') === 'Healthy',
    ).length;
    const terminable = Math.max(0, healthy - minCount);
    let size = Math.min(eligible.length, terminable + Math.max(0, maxCount - desired));
    let terminateFirst = Math.min(size, terminable);
    if (size === 0) {
      size = 1;
      terminateFirst = maxHealthyPercentage === undefined ? 1 : 0;
    }
    const chosen = eligible.slice(0, size);
    for (const [index, instance] of chosen.entries()) {
      if (index < terminateFirst) {
        instance.terminatingSince = at;
        world.terminateInstance(instance.id);
      } else {
        instance.retiring = true;
      }
    }
    const before = new Set(group.instances.map((instance) => instance.id));
    env.reconcile(group, at);
    refresh.batch = {
      replacing: chosen.map((instance) => instance.id),
      launched: group.instances.filter((instance) => !before.has(instance.id)).map((instance) => instance.id),
    };
  }

  /** Where the refresh goes from here, at `at`: called only as a world event, so the world is exactly at `at`. */
  function step(group: GroupState, refresh: InstanceRefresh, at: number): void {
    if (!env.isLive(group) || !ACTIVE_REFRESH_STATUSES.includes(refresh.status)) {
      return;
    }
    if (refresh.batch !== undefined) {
      const warmAt = batchWarmAt(group, refresh, at);
      if (warmAt !== undefined) {
        wake(group, refresh, warmAt);
        return;
      }
      finishBatch(group, refresh, at);
    }
    if (refresh.status === 'Cancelling') {
      end(refresh, 'Cancelled', at);
      return;
    }
    if (refresh.holdUntil !== undefined && refresh.holdUntil > at) {
      wake(group, refresh, refresh.holdUntil);
      return;
    }
    refresh.holdUntil = undefined;
    if (refresh.status === 'Baking') {
      end(refresh, 'Successful', at);
      return;
    }
    refresh.status = 'InProgress';
    if (pausesAtCheckpoint(group, refresh, at)) {
      wake(group, refresh, refresh.holdUntil ?? at);
      return;
    }
    const { eligible, waiting } = candidates(group, refresh, at);
    if (eligible.length > 0) {
      refresh.waitingSince = undefined;
      delete refresh.statusReason;
      startBatch(group, refresh, eligible, at);
      step(group, refresh, at);
    } else if (waiting.length > 0) {
      waitFor(group, refresh, waiting, at);
    } else if ((refresh.preferences.bakeTime ?? 0) > 0) {
      refresh.status = 'Baking';
      refresh.holdUntil = at + (refresh.preferences.bakeTime ?? 0) * 1000;
      wake(group, refresh, refresh.holdUntil);
    } else {
      end(refresh, 'Successful', at);
    }
  }

  function pausesAtCheckpoint(group: GroupState, refresh: InstanceRefresh, at: number): boolean {
    const checkpoint = refresh.preferences.checkpointPercentages?.[refresh.checkpointsPassed];
    if (checkpoint === undefined || checkpoint >= 100 || progressOf(group, refresh).percentageComplete < checkpoint) {
      return false;
    }
    refresh.checkpointsPassed += 1;
    refresh.holdUntil = at + (refresh.preferences.checkpointDelay ?? 3600) * 1000;
    refresh.statusReason = `Waiting at checkpoint ${checkpoint}% for ${refresh.preferences.checkpointDelay ?? 3600} seconds.`;
    return true;
  }

  function waitFor(group: GroupState, refresh: InstanceRefresh, waiting: readonly GroupInstance[], at: number) {
    const since = refresh.waitingSince ?? at;
    refresh.waitingSince = since;
    const ids = waiting.map((instance) => instance.id).join(', ');
    if (at - since >= WAIT_LIMIT_MS) {
      end(refresh, 'Failed', at, `Instances ${ids} stayed protected from scale in or in Standby for an hour.`);
      return;
    }
    refresh.statusReason = `Waiting for instances ${ids} to be unprotected from scale in or to leave Standby.`;
    wake(group, refresh, since + WAIT_LIMIT_MS);
  }

  return {
    /** StartInstanceRefresh on an existing group, its parameters already checked. */
    start(group: GroupState, request: RefreshRequest): InstanceRefresh {
      if (activeRefresh(group) !== undefined) {
        throw new AwsServiceError(
          'InstanceRefreshInProgress',
          'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
        );
      }
      const { preferences } = request;
      // Skip matching without a desired configuration compares against the group's own template: everything matches.
      const replaceAll = !(preferences.skipMatching && !request.desiredConfiguration);
      const inScope = (instance: GroupInstance) => {
        const state = stateOf(instance);
        if (state.startsWith('Standby')) {
          return preferences.standbyInstances !== 'Ignore';
        }
        const ignored = instance.protectedFromScaleIn && preferences.scaleInProtectedInstances === 'Ignore';
        return COUNTED.test(state) && !ignored;
      };
      const outdated = replaceAll ? group.instances.filter((i) => live(i) && inScope(i)).map((i) => i.id) : [];
      const refresh: InstanceRefresh = {
        id: randomUUID(),
        preferences,
        desiredConfiguration: request.desiredConfiguration,
        startTime: env.clock(),
        status: 'Pending',
        outdated: new Set(outdated),
        total: outdated.length,
        checkpointsPassed: 0,
      };
      group.refreshes.push(refresh);
      wakeFromRequest(group, refresh, refresh.startTime + env.startDelayMs);
      return refresh;
    },

    /** CancelInstanceRefresh: replacements under way finish (`Cancelling`), none start; nothing is rolled back. */
    cancel(group: GroupState): InstanceRefresh {
      const refresh = activeRefresh(group);
      if (refresh === undefined || refresh.status === 'Cancelling' || refresh.status === 'RollbackInProgress') {
        throw new AwsServiceError(
          'ActiveInstanceRefreshNotFound',
          `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`,
        );
      }
      refresh.status = 'Cancelling';
      delete refresh.statusReason;
      wakeFromRequest(group, refresh, env.clock());
      return refresh;
    },

    /** Something a refresh may wait for changed (scale-in protection lifted): it looks again now. */
    poke(group: GroupState): void {
      const refresh = activeRefresh(group);
      if (refresh !== undefined) {
        wakeFromRequest(group, refresh, env.clock());
      }
    },
  };
}

export type Refreshes = ReturnType<typeof createRefreshes>;
