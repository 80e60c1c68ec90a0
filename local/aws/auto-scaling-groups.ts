import { randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/ports/clock.ts';
import type { World, WorldInstance } from '../world/world.ts';
import { createRefreshes, isOutdated, type RefreshRequest } from './auto-scaling-refresh.ts';
import {
  COUNTED,
  DEFAULT_HEALTH_CHECK_GRACE_PERIOD,
  type GroupInstance,
  type GroupSpec,
  type GroupState,
  type HealthStatus,
  HOLD_MESSAGES,
  type HoldCode,
  zonesOf,
} from './auto-scaling-spec.ts';
import { AwsServiceError } from './errors.ts';

/**
 * Auto Scaling groups as state, apart from the wire: sizes, instances and their lifecycle. Instances launched here
 * live in the simulated world, which decides when they boot; the group only reports them (`Pending` until the world
 * says running, then `InService`). They launch with shutdown behaviour `terminate`, as Sourcegraph's launch template
 * sets it, so an executor that retires and powers its VM off ends the instance; the group then replaces it only if it
 * holds fewer instances than its desired capacity, as AWS does. An instance marked `Unhealthy` (SetInstanceHealth) is
 * terminated and replaced at once, as AWS's health checks replace one within moments. Instance refreshes replace
 * instances through the same launches and terminations (auto-scaling-refresh.ts).
 */

export interface GroupStoreOptions {
  readonly world: World;
  readonly clock: Clock;
  readonly defaultRegion: string;
  /** Milliseconds a scaled-in instance stays listed as `Terminating`. */
  readonly terminatingMs: number;
  /** Milliseconds an instance refresh stays `Pending` before its first replacements. */
  readonly refreshStartMs: number;
  /** Uniform in [0, 1), for instance ids; default: crypto random bytes. */
  readonly random?: () => number;
}

export function createGroupStore(options: GroupStoreOptions) {
  const { world, clock, defaultRegion, terminatingMs } = options;
  const groups = new Map<string, GroupState>();
  let addresses = 0;
  const keyOf = (region: string, name: string) => `${region}/${name}`;
  /** The world's name for the group, shared with the other emulators' naming (`aws:us-east-1:executors`). */
  const worldGroup = (group: GroupState) => `aws:${group.region}:${group.name}`;

  const { random } = options;
  /** 16 hex digits, as EC2 instance ids carry after `i-0`. */
  const hexId = () =>
    random === undefined
      ? randomBytes(8).toString('hex')
      : Array.from({ length: 16 }, () => Math.floor(random() * 16).toString(16)).join('');

  /** Launches one instance at `at`: now, or the moment a VM powered off when the group replaces it. */
  function launch(group: GroupState, at: number): void {
    const id = `i-0${hexId()}`;
    addresses += 1;
    // Private-DNS style host names, as EC2 gives executors their hostname (and Sourcegraph their executor name).
    const hostname = `ip-10-0-${Math.floor(addresses / 250) % 250}-${(addresses % 250) + 4}`;
    world.launchInstance(worldGroup(group), { id, hostname, queues: group.queues, shutdownBehavior: 'terminate' });
    group.instances.push({
      id,
      availabilityZone: leastUsedZone(group),
      launchedAt: at,
      protectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
    });
  }

  /** AWS spreads a group over its zones; the emulator gives each launch the zone with the fewest instances. */
  function leastUsedZone(group: GroupState): string {
    const zones = zonesOf(group.region);
    const used = (zone: string) => group.instances.filter((instance) => instance.availabilityZone === zone).length;
    return zones.reduce((best, zone) => (used(zone) < used(best) ? zone : best), zones[0] ?? `${group.region}a`);
  }

  /**
   * Launches or terminates until the counted instances match desired. Scale-in victims are the newest unprotected
   * instances first (so `Pending` ones go before serving ones), except that instances an instance refresh has yet to
   * replace go before all others, as AWS's default policy takes the oldest launch template first. That is simpler than
   * the full policy (balance zones, then oldest launch template, then closest to the next billing hour), which with
   * zones kept balanced mostly picks by zone alone.
   */
  function reconcile(group: GroupState, at = clock()): void {
    const counted = group.instances.filter((instance) => counts(instance));
    for (let missing = group.desired - counted.length; missing > 0; missing--) {
      launch(group, at);
    }
    const outdated = (instance: GroupInstance) => Number(isOutdated(group, instance.id));
    const victims = counted
      .filter((instance) => !instance.protectedFromScaleIn)
      .sort((a, b) => outdated(b) - outdated(a) || b.launchedAt - a.launchedAt)
      .slice(0, Math.max(0, counted.length - group.desired));
    for (const victim of victims) {
      victim.terminatingSince = at;
      // The VM goes away now: the world puts its running jobs back in the queue.
      world.terminateInstance(victim.id);
    }
  }

  function counts(instance: GroupInstance): boolean {
    return (
      instance.terminatingSince === undefined && instance.retiring !== true && COUNTED.test(lifecycleState(instance))
    );
  }

  function lifecycleState(instance: GroupInstance): string {
    if (instance.terminatingSince !== undefined) {
      return 'Terminating';
    }
    if (instance.seededState !== undefined) {
      return instance.seededState;
    }
    const state = world.instance(instance.id)?.state;
    return state === 'pending' ? 'Pending' : state === 'running' ? 'InService' : 'Terminating';
  }

  /**
   * A VM of one of these groups powered itself off (its executor retired) and its shutdown behaviour terminated it:
   * it leaves the group, listed as `Terminating` for a while. The group launches a replacement at that moment only if
   * it now holds fewer instances than desired; protected instances kept above a lowered desired capacity are not
   * replaced, which is how attrition shrinks a group. AWS learns of the termination from its EC2 health check, within
   * a minute or so; the emulator replaces at once, which only makes replacements come earlier.
   */
  function onPowerOff(vm: WorldInstance, at: number): void {
    for (const group of groups.values()) {
      const instance = group.instances.find((candidate) => candidate.id === vm.id);
      if (worldGroup(group) !== vm.group || instance === undefined || instance.terminatingSince !== undefined) {
        continue;
      }
      instance.terminatingSince = at;
      reconcile(group, at);
    }
  }
  const detach = world.onPowerOff(onPowerOff);

  const refreshes = createRefreshes({
    world,
    clock,
    startDelayMs: options.refreshStartMs,
    lifecycleState,
    reconcile,
    isLive: (group) => groups.get(keyOf(group.region, group.name)) === group,
  });

  /** Drops instances whose termination has run its course, as they drop out of DescribeAutoScalingGroups. */
  function prune(group: GroupState): void {
    const now = clock();
    // Replays power-offs up to now first, so their replacements are launched before the instances are looked at.
    world.advance();
    for (const instance of group.instances) {
      // A VM the world terminated by other means (a test) leaves the same way. It is not replaced: the emulator models
      // no health checks for that, so desired capacity is only restored by the next SetDesiredCapacity.
      const stoppedAt = instance.seededState === undefined ? world.instance(instance.id)?.stoppedAt : undefined;
      if (instance.terminatingSince === undefined && stoppedAt !== undefined) {
        instance.terminatingSince = stoppedAt;
      }
    }
    group.instances = group.instances.filter(
      (instance) => instance.terminatingSince === undefined || now - instance.terminatingSince < terminatingMs,
    );
  }

  function find(region: string, name: string): GroupState | undefined {
    const group = groups.get(keyOf(region, name));
    if (group !== undefined) {
      prune(group);
    }
    return group;
  }

  function existing(region: string, name: string): GroupState {
    const group = find(region, name);
    if (group === undefined) {
      throw new AwsServiceError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`,
      );
    }
    return group;
  }

  /** An instance of the group that is not already on its way out: what AWS would still terminate or protect. */
  function managed(group: GroupState, id: string): GroupInstance | undefined {
    prune(group);
    return group.instances.find((instance) => instance.id === id && instance.terminatingSince === undefined);
  }

  /** The group in `region` that holds `id` and is not already terminating it, with the instance. */
  function holding(region: string, id: string): { group: GroupState; instance: GroupInstance } | undefined {
    for (const group of groups.values()) {
      const instance = group.region === region ? managed(group, id) : undefined;
      if (instance !== undefined) {
        return { group, instance };
      }
    }
    return undefined;
  }

  /** A group held by a test answers its next scaling calls with the held code, after the validation checks. */
  function refuseIfHeld(group: GroupState): void {
    if (group.held !== undefined && group.held.remaining > 0) {
      const { code } = group.held;
      group.held.remaining -= 1;
      throw new AwsServiceError(code, HOLD_MESSAGES[code]);
    }
  }

  return {
    worldGroup,
    lifecycleState,

    add(spec: GroupSpec): GroupState {
      const region = spec.region ?? defaultRegion;
      const grace = spec.healthCheckGracePeriod;
      if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0)) {
        throw new RangeError(`group ${spec.name}: health check grace period ${grace} is not whole seconds`);
      }
      if (!(spec.min >= 0 && spec.min <= spec.desired && spec.desired <= spec.max)) {
        throw new RangeError(
          `group ${spec.name}: need 0 <= min <= desired <= max, got ${spec.min}/${spec.desired}/${spec.max}`,
        );
      }
      // Replacing a group takes its world instances down with it, so no executor outlives its group.
      for (const instance of groups.get(keyOf(region, spec.name))?.instances ?? []) {
        world.terminateInstance(instance.id);
      }
      const group: GroupState = {
        name: spec.name,
        region,
        min: spec.min,
        max: spec.max,
        desired: spec.desired,
        queues: spec.queues,
        policies: spec.policies ?? [],
        createdAt: clock(),
        newInstancesProtectedFromScaleIn: spec.newInstancesProtectedFromScaleIn ?? false,
        healthCheckGracePeriod: spec.healthCheckGracePeriod ?? DEFAULT_HEALTH_CHECK_GRACE_PERIOD,
        instances: (spec.instances ?? []).map((seed) => ({
          id: seed.id,
          availabilityZone: `${region}a`,
          launchedAt: clock(),
          seededState: seed.state,
          protectedFromScaleIn: seed.protectedFromScaleIn ?? false,
        })),
        held: undefined,
        refreshes: [],
      };
      groups.set(keyOf(region, spec.name), group);
      if (spec.instances === undefined) {
        reconcile(group);
      }
      return group;
    },

    find,

    inRegion(region: string): readonly GroupState[] {
      return [...groups.values()]
        .filter((group) => group.region === region)
        .map((group) => find(region, group.name) ?? group);
    },

    /** SetDesiredCapacity: the checks AWS makes, in its order, then the launches or terminations. */
    setDesired(region: string, name: string, size: number): void {
      const group = existing(region, name);
      if (size > group.max) {
        throw new AwsServiceError(
          'ValidationError',
          `New SetDesiredCapacity value ${size} is above max value ${group.max} for the AutoScalingGroup.`,
        );
      }
      if (size < group.min) {
        throw new AwsServiceError(
          'ValidationError',
          `New SetDesiredCapacity value ${size} is below min value ${group.min} for the AutoScalingGroup.`,
        );
      }
      refuseIfHeld(group);
      group.desired = size;
      reconcile(group);
    },

    /**
     * TerminateInstanceInAutoScalingGroup, in its batch form (`name` given) or for one instance of whichever group
     * holds it. The request is refused as a whole, as AWS refuses a single instance; how AWS answers a batch it would
     * only partly accept is not documented. The VMs go away now, their running jobs back in the queue.
     */
    terminate(region: string, request: TerminateRequest): readonly TerminatedInstance[] {
      const [first = ''] = request.instanceIds;
      const group =
        request.name === undefined
          ? [...groups.values()].find(
              (candidate) => candidate.region === region && managed(candidate, first) !== undefined,
            )
          : existing(region, request.name);
      const victims = request.instanceIds.map((id) => {
        const instance = group === undefined ? undefined : managed(group, id);
        if (instance === undefined) {
          throw notManaged(id);
        }
        return instance;
      });
      // Only an empty request gets here without a group: the parameters were checked before.
      if (group === undefined || victims.length === 0) {
        return [];
      }
      if (request.decrement && group.desired - victims.length < group.min) {
        throw new AwsServiceError(
          'ValidationError',
          `Currently, desiredSize equals minSize (${group.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
        );
      }
      refuseIfHeld(group);
      const from = group.desired;
      for (const victim of victims) {
        victim.terminatingSince = clock();
        world.terminateInstance(victim.id);
      }
      if (request.decrement) {
        group.desired -= victims.length;
      }
      // After a decrement this only matters for an instance a refresh had already replaced (not counted any more).
      reconcile(group);
      return victims.map((victim) => ({ group, instanceId: victim.id, from, to: group.desired }));
    },

    /**
     * SetInstanceHealth, for the instance of whichever group in `region` holds it. Respecting the grace period (AWS's
     * default), an instance younger than it cannot be marked Unhealthy. An Unhealthy instance still counted toward
     * desired capacity is terminated now, its running jobs back in the queue, and replaced, scale-in protection or not:
     * the group is below its desired capacity. Standby instances are not health-checked, so one only records it.
     */
    setHealth(region: string, instanceId: string, health: HealthStatus, respectGracePeriod: boolean): GroupState {
      const found = holding(region, instanceId);
      if (found === undefined) {
        throw notManaged(instanceId);
      }
      const { group, instance } = found;
      const age = Math.floor((clock() - instance.launchedAt) / 1000);
      if (health === 'Unhealthy' && respectGracePeriod && age < group.healthCheckGracePeriod) {
        throw new AwsServiceError(
          'ValidationError',
          `The age of the instance (${age} seconds) is less than the configured grace period of ${group.healthCheckGracePeriod} seconds`,
        );
      }
      instance.health = health;
      if (health === 'Unhealthy' && counts(instance)) {
        instance.terminatingSince = clock();
        world.terminateInstance(instance.id);
        reconcile(group);
      }
      return group;
    },

    /** SetInstanceProtection: every instance must be in the group, or nothing changes. */
    protect(region: string, name: string, instanceIds: readonly string[], protect: boolean): void {
      const group = existing(region, name);
      const instances = instanceIds.map((id) => {
        const instance = managed(group, id);
        if (instance === undefined) {
          throw new AwsServiceError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${name}.`);
        }
        return instance;
      });
      for (const instance of instances) {
        instance.protectedFromScaleIn = protect;
      }
      // A refresh waiting for protection to be lifted carries on now.
      refreshes.poke(group);
    },

    /** StartInstanceRefresh, its parameters checked: the group must exist and have no refresh under way. */
    startRefresh(region: string, name: string, request: RefreshRequest) {
      return refreshes.start(existing(region, name), request);
    },

    /** CancelInstanceRefresh: the group's active refresh, or `ActiveInstanceRefreshNotFound`. */
    cancelRefresh(region: string, name: string) {
      return refreshes.cancel(existing(region, name));
    },

    /** The group (which must exist) for DescribeInstanceRefreshes; its refreshes are on it, oldest first. */
    existing,

    hold(region: string, name: string, times: number, code: HoldCode): void {
      const group = find(region, name);
      if (group === undefined) {
        throw new RangeError(`no group ${name} in ${region}`);
      }
      group.held = { code, remaining: times };
    },

    /** Stops listening to the world's power-offs (the emulator is closing). */
    detach,

    clear(): void {
      for (const group of groups.values()) {
        for (const instance of group.instances) {
          world.terminateInstance(instance.id);
        }
      }
      groups.clear();
    },
  };
}

export type GroupStore = ReturnType<typeof createGroupStore>;

/** How Auto Scaling refuses an instance id that no group manages (or one already terminating), in its words. */
function notManaged(id: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationError',
    `Instance Id not found - No managed instance found for instance ID: ${id}`,
  );
}

export interface TerminateRequest {
  /** The batch form names the group; the single-instance form finds it from the instance. */
  readonly name?: string;
  readonly instanceIds: readonly string[];
  /** `ShouldDecrementDesiredCapacity`: without it the group launches a replacement for each instance. */
  readonly decrement: boolean;
}

export interface TerminatedInstance {
  readonly group: GroupState;
  readonly instanceId: string;
  /** Desired capacity before and after the request. */
  readonly from: number;
  readonly to: number;
}
