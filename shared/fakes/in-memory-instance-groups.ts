import { type GroupTarget, targetKey } from '../domain/fleet.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type {
  GroupDescription,
  GroupInstance,
  GroupSnapshot,
  InstanceGroups,
  InstanceLifecycle,
  RemoveOutcome,
  ReplaceOutcome,
  ResizeOutcome,
} from '../ports/instance-groups.ts';
import { throwIfAborted } from './abort.ts';

export interface InMemoryGroupSeed {
  readonly target: GroupTarget;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances?: readonly GroupInstance[];
  readonly competingScalers?: readonly string[];
  /** Reported as the snapshot's `recreatesExited` (a MIG that repairs stopped VMs). */
  readonly recreatesExited?: boolean;
}

export interface ResizeCall {
  readonly target: GroupTarget;
  readonly size: number;
  /** Epoch milliseconds, from the injected clock. */
  readonly at: number;
  readonly outcome: 'applied' | 'deferred' | 'failed';
}

export type InstanceGroupsOperation =
  | 'describe'
  | 'setDesiredSize'
  | 'removeInstances'
  | 'replaceInstances'
  | 'protectFromScaleIn';

export interface RemoveCall {
  readonly target: GroupTarget;
  readonly instanceId: string;
  /** Epoch milliseconds, from the injected clock. */
  readonly at: number;
  readonly removed: boolean;
}

export interface InMemoryInstanceGroupsOptions {
  readonly clock?: Clock;
  /** Called after each applied resize, e.g. for a simulator to launch or stop instances. */
  readonly onResize?: (target: GroupTarget, from: number, to: number) => void;
  /** Called for each instance removed (the desired size already lowered), e.g. for a simulator to stop it. */
  readonly onRemove?: (target: GroupTarget, instanceId: string) => void;
}

export interface InMemoryInstanceGroups extends InstanceGroups {
  /** Adds or replaces a group. Throws RangeError for sizes the cloud would never hold. */
  addGroup(seed: InMemoryGroupSeed): void;
  removeGroup(target: GroupTarget): void;
  getGroup(target: GroupTarget): GroupSnapshot | undefined;
  setInstances(target: GroupTarget, instances: readonly GroupInstance[]): void;
  /** Moves one instance to a lifecycle; `state` (the cloud's own name) defaults to the lifecycle. */
  setLifecycle(target: GroupTarget, instanceId: string, lifecycle: InstanceLifecycle, state?: string): void;
  /** The next `times` resizes (of `target`, or of any group) answer "deferred", as ASG does during an activity. */
  deferResizes(times?: number, options?: { readonly target?: GroupTarget; readonly reason?: string }): void;
  /** The next `times` calls of `operation` throw `error` (default: a retryable CloudApiError). */
  failNext(operation: InstanceGroupsOperation, times?: number, error?: Error): void;
  resizeCalls(): readonly ResizeCall[];
  removeCalls(): readonly RemoveCall[];
  /** Instances protected from the cloud's own scale-in, in the order protected. */
  protectedInstances(target: GroupTarget): readonly string[];
  readonly calls: Readonly<Record<InstanceGroupsOperation, number>>;
}

interface GroupState {
  readonly target: GroupTarget;
  desired: number;
  readonly min: number;
  readonly max: number;
  instances: GroupInstance[];
  readonly competingScalers: readonly string[];
  readonly recreatesExited?: boolean;
  readonly protected: Set<string>;
}

const ANY_GROUP = '*';

/**
 * Instance groups held in memory, for tests, the simulator and the local runner. It refuses what ASG and MIG refuse
 * (a size outside [min, max], an unknown group) so code that passes here does not fail in the cloud.
 */
export function createInMemoryInstanceGroups(
  initial: readonly InMemoryGroupSeed[] = [],
  options: InMemoryInstanceGroupsOptions = {},
): InMemoryInstanceGroups {
  const clock = options.clock ?? systemClock;
  const groups = new Map<string, GroupState>();
  const deferrals = new Map<string, { remaining: number; reason: string }>();
  const failures = new Map<InstanceGroupsOperation, { remaining: number; error: Error | undefined }>();
  const resizes: ResizeCall[] = [];
  const removals: RemoveCall[] = [];
  const calls: Record<InstanceGroupsOperation, number> = {
    describe: 0,
    setDesiredSize: 0,
    removeInstances: 0,
    replaceInstances: 0,
    protectFromScaleIn: 0,
  };

  const injectedFailure = (operation: InstanceGroupsOperation): Error | undefined => {
    calls[operation] += 1;
    const failure = failures.get(operation);
    if (failure === undefined || failure.remaining <= 0) {
      return undefined;
    }
    failure.remaining -= 1;
    return failure.error ?? new CloudApiError(operation, 'injected failure', { retryable: true });
  };
  const takeDeferral = (key: string): string | undefined => {
    for (const slot of [key, ANY_GROUP]) {
      const deferral = deferrals.get(slot);
      if (deferral !== undefined && deferral.remaining > 0) {
        deferral.remaining -= 1;
        return deferral.reason;
      }
    }
    return undefined;
  };
  const existing = (target: GroupTarget): GroupState => {
    const group = groups.get(targetKey(target));
    if (group === undefined) {
      throw new RangeError(`no group ${targetKey(target)}`);
    }
    return group;
  };
  const snapshot = (group: GroupState): GroupSnapshot => ({
    desired: group.desired,
    min: group.min,
    max: group.max,
    // Like ASG, every instance says whether it is protected from the group's own scale-in.
    instances: group.instances.map((instance) => ({
      ...instance,
      protectedFromScaleIn: group.protected.has(instance.id),
    })),
    competingScalers: [...group.competingScalers],
    ...(group.recreatesExited === undefined ? {} : { recreatesExited: group.recreatesExited }),
  });

  const fake: InMemoryInstanceGroups = {
    calls,
    async describe(targets, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'describe');
      const failure = injectedFailure('describe');
      if (failure !== undefined) {
        throw failure;
      }
      const result = new Map<string, GroupDescription>();
      for (const target of targets) {
        const group = groups.get(targetKey(target));
        result.set(
          targetKey(target),
          group === undefined
            ? { found: false, reason: `no group ${targetKey(target)}` }
            : { found: true, snapshot: snapshot(group) },
        );
      }
      return result;
    },
    async setDesiredSize(target, size, callOptions = {}): Promise<ResizeOutcome> {
      throwIfAborted(callOptions.signal, 'setDesiredSize');
      const key = targetKey(target);
      const record = (outcome: ResizeCall['outcome']) => resizes.push({ target, size, at: clock(), outcome });
      const failure = injectedFailure('setDesiredSize') ?? refusal(groups.get(key), key, size);
      if (failure !== undefined) {
        record('failed');
        throw failure;
      }
      const deferred = takeDeferral(key);
      if (deferred !== undefined) {
        record('deferred');
        return { applied: false, deferred };
      }
      const group = existing(target);
      const from = group.desired;
      group.desired = size;
      record('applied');
      options.onResize?.(target, from, size);
      return { applied: true };
    },
    async removeInstances(target, instanceIds, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'removeInstances');
      const failure = injectedFailure('removeInstances');
      if (failure !== undefined) {
        throw failure;
      }
      const group = groups.get(targetKey(target));
      if (group === undefined) {
        throw new CloudApiError('removeInstances', `${targetKey(target)}: no such group`);
      }
      const outcomes = new Map<string, RemoveOutcome>();
      for (const instanceId of instanceIds) {
        const outcome = notExited(group, instanceId, callOptions.onlyExited) ?? removal(group, instanceId);
        outcomes.set(instanceId, outcome);
        removals.push({ target, instanceId, at: clock(), removed: outcome.removed });
        if (outcome.removed) {
          options.onRemove?.(target, instanceId);
        }
      }
      return outcomes;
    },
    async replaceInstances(target, instanceIds, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'replaceInstances');
      const failure = injectedFailure('replaceInstances');
      if (failure !== undefined) {
        throw failure;
      }
      const group = groups.get(targetKey(target));
      if (group === undefined) {
        throw new CloudApiError('replaceInstances', `${targetKey(target)}: no such group`);
      }
      const outcomes = new Map<string, ReplaceOutcome>();
      for (const instanceId of new Set(instanceIds)) {
        const refused = notExited(group, instanceId, callOptions.onlyExited);
        if (refused !== undefined) {
          outcomes.set(instanceId, { replaced: false, reason: refused.reason, retryable: refused.retryable });
          continue;
        }
        // A fresh VM under the same name (as a MIG recreates it), booting; the size stays.
        group.instances = group.instances.map((instance) =>
          instance.id === instanceId ? { ...instance, lifecycle: 'booting', state: 'booting' } : instance,
        );
        outcomes.set(instanceId, { replaced: true });
      }
      return outcomes;
    },
    async protectFromScaleIn(target, instanceIds, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'protectFromScaleIn');
      const failure = injectedFailure('protectFromScaleIn');
      if (failure !== undefined) {
        throw failure;
      }
      const group = existing(target);
      for (const instanceId of instanceIds) {
        if (!group.instances.some((instance) => instance.id === instanceId)) {
          throw new CloudApiError('protectFromScaleIn', `${instanceId} is not in ${targetKey(target)}`);
        }
        group.protected.add(instanceId);
      }
    },
    addGroup(seed) {
      const { desired, min, max } = seed;
      if (![desired, min, max].every((n) => Number.isInteger(n) && n >= 0) || min > desired || desired > max) {
        throw new RangeError(`group ${targetKey(seed.target)} needs whole sizes with min <= desired <= max`);
      }
      groups.set(targetKey(seed.target), {
        target: seed.target,
        desired,
        min,
        max,
        instances: [...(seed.instances ?? [])],
        competingScalers: [...(seed.competingScalers ?? [])],
        ...(seed.recreatesExited === undefined ? {} : { recreatesExited: seed.recreatesExited }),
        protected: new Set(),
      });
    },
    removeGroup: (target) => void groups.delete(targetKey(target)),
    getGroup: (target) => {
      const group = groups.get(targetKey(target));
      return group === undefined ? undefined : snapshot(group);
    },
    setInstances(target, instances) {
      existing(target).instances = [...instances];
    },
    setLifecycle(target, instanceId, lifecycle, state = lifecycle) {
      const group = existing(target);
      const known = group.instances.some((instance) => instance.id === instanceId);
      // Only the lifecycle moves: host name and launch time stay, as the cloud's would.
      group.instances = known
        ? group.instances.map((instance) => (instance.id === instanceId ? { ...instance, lifecycle, state } : instance))
        : [...group.instances, { id: instanceId, lifecycle, state }];
    },
    deferResizes(times = 1, deferral = {}) {
      const slot = deferral.target === undefined ? ANY_GROUP : targetKey(deferral.target);
      deferrals.set(slot, { remaining: times, reason: deferral.reason ?? 'a scaling activity is in progress' });
    },
    failNext(operation, times = 1, error) {
      failures.set(operation, { remaining: times, error });
    },
    resizeCalls: () => [...resizes],
    removeCalls: () => [...removals],
    protectedInstances: (target) => [...existing(target).protected],
  };
  for (const seed of initial) {
    fake.addGroup(seed);
  }
  return fake;
}

/** One instance out, the desired size down by one, unless ASG would refuse it (unknown, or below the minimum). */
/** The refusal of an instance that is not in the group, or (when only exited ones may go) not exited. */
function notExited(
  group: GroupState,
  instanceId: string,
  onlyExited: boolean | undefined,
): Extract<RemoveOutcome, { removed: false }> | undefined {
  const instance = group.instances.find((candidate) => candidate.id === instanceId);
  if (instance === undefined) {
    return { removed: false, reason: `${instanceId} is not in the group`, retryable: false };
  }
  if (onlyExited === true && instance.lifecycle !== 'exited') {
    return { removed: false, reason: `${instanceId} is ${instance.lifecycle}, no longer exited`, retryable: false };
  }
  return undefined;
}

function removal(group: GroupState, instanceId: string): RemoveOutcome {
  if (!group.instances.some((instance) => instance.id === instanceId)) {
    return { removed: false, reason: `${instanceId} is not in the group`, retryable: false };
  }
  if (group.desired - 1 < group.min) {
    return {
      removed: false,
      reason: `the desired size ${group.desired} is at the minimum ${group.min}`,
      retryable: false,
    };
  }
  group.instances = group.instances.filter((instance) => instance.id !== instanceId);
  group.protected.delete(instanceId);
  group.desired -= 1;
  return { removed: true };
}

/** What the cloud would answer with a validation error, checked before any "in progress" deferral as ASG does. */
function refusal(group: GroupState | undefined, key: string, size: number): CloudApiError | undefined {
  if (group === undefined) {
    return new CloudApiError('setDesiredSize', `${key}: no such group`);
  }
  if (!Number.isInteger(size) || size < group.min || size > group.max) {
    return new CloudApiError('setDesiredSize', `${key}: ${size} is outside [${group.min}, ${group.max}]`);
  }
  return undefined;
}
