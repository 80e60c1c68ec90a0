import { randomUUID } from 'node:crypto';
import { type GcpGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
import { mapLimit } from '../domain/map-limit.ts';
import { silentLogger } from '../observability/logger.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type {
  ChangeOptions,
  GroupDescription,
  GroupInstance,
  InstanceGroups,
  RemoveOutcome,
  ReplaceOutcome,
  ResizeOutcome,
} from '../ports/instance-groups.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { describeGoogleError, isNotFound, isTransientGoogleError } from './google-errors.ts';
import { competingAutoscalers } from './mig-autoscalers.ts';
import {
  getGroup,
  listInstances,
  locationOf,
  type MigClients,
  managedInstanceName,
  managedInstanceZone,
  startResize,
} from './mig-calls.ts';
import { creationTimes, type InstanceRef, instanceKey } from './mig-launch-times.ts';
import { knownMigLifecycle, migLifecycle, migState } from './mig-lifecycle.ts';
import { recreateManagedInstances, removeManagedInstances } from './mig-removal.ts';
import { awaitResize, deferralOf } from './mig-resize.ts';

export type { MigClients } from './mig-calls.ts';

/**
 * A MIG has no minimum or maximum of its own (only an attached autoscaler has), so by default the bounds are those
 * Compute Engine documents for any MIG: 0 to 1,000 VMs in a zonal group, 2,000 in a regional one. The fleet's own
 * `minInstances`/`maxInstances` still bound the policy; `bounds` lets the composition root report them here too.
 */
export const ZONAL_MAX_SIZE = 1_000;
export const REGIONAL_MAX_SIZE = 2_000;
/**
 * Groups described at once: each costs two or three reads (plus one `instances.list` per zone for all groups
 * together), and Compute meters reads per minute per project.
 */
const DESCRIBE_CONCURRENCY = 8;

export interface GroupBounds {
  readonly min: number;
  readonly max: number;
}

export interface MigInstanceGroupsOptions {
  readonly logger?: NarrowLogger;
  readonly clock?: Clock;
  /** Bounds to report and enforce for a group in place of the MIG defaults (e.g. the fleet's configured ones). */
  readonly bounds?: (target: GcpGroupTarget) => GroupBounds | undefined;
  /**
   * Read each instance's creation time (one `instances.list` per zone, after the group reads): only busy-aware
   * scale-in needs it, to order its victims. Default true.
   */
  readonly launchTimes?: boolean;
}

export function createMigInstanceGroups(clients: MigClients, options: MigInstanceGroupsOptions = {}) {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const boundsOf = (target: GcpGroupTarget): GroupBounds =>
    options.bounds?.(target) ?? { min: 0, max: target.zone === undefined ? REGIONAL_MAX_SIZE : ZONAL_MAX_SIZE };

  /** The group's description, and where each of its instances lives (aligned with the snapshot's instances). */
  async function describeOne(
    target: GcpGroupTarget,
    signal?: AbortSignal,
  ): Promise<{ description: GroupDescription; refs: readonly (InstanceRef | undefined)[] }> {
    const where = `${locationOf(target)} of project ${target.project}`;
    try {
      const [group, instances] = await Promise.all([
        getGroup(clients, target, signal),
        listInstances(clients, target, signal),
      ]);
      // Compute declares target_size with presence and always sends it; a group without one is not usable.
      const desired = group.targetSize;
      if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0) {
        const reason = `managed instance group ${target.instanceGroupManager} has no target size`;
        return { description: { found: false, reason }, refs: [] };
      }
      const competingScalers = await competingAutoscalers(clients, target, group, { logger, signal });
      const refs: (InstanceRef | undefined)[] = [];
      const reported = instances.map((instance): GroupInstance => {
        if (knownMigLifecycle(instance) === undefined) {
          logger.warn('unknown managed instance state counted as booting', {
            group: targetKey(target),
            state: migState(instance),
          });
        }
        // A MIG's instance templates cannot set a custom host name, so the VM's host name is its instance name.
        const hostname = managedInstanceName(instance);
        const zone = managedInstanceZone(instance) ?? target.zone;
        refs.push(
          hostname === undefined || zone === undefined ? undefined : { project: target.project, zone, name: hostname },
        );
        const id = hostname ?? String(instance.id ?? 'unknown');
        return {
          id,
          lifecycle: migLifecycle(instance),
          state: migState(instance),
          ...(hostname === undefined ? {} : { hostname }),
        };
      });
      const { min, max } = boundsOf(target);
      return {
        description: {
          found: true,
          snapshot: {
            desired,
            min,
            max,
            instances: reported,
            competingScalers,
            // REPAIR is the default: a stopped VM is recreated unless the group says DO_NOTHING.
            recreatesExited: group.instanceLifecyclePolicy?.defaultActionOnFailure !== 'DO_NOTHING',
          },
        },
        refs,
      };
    } catch (error) {
      if (isNotFound(error)) {
        const reason = `no managed instance group named ${target.instanceGroupManager} in ${where}`;
        return { description: { found: false, reason }, refs: [] };
      }
      // One group's failure (throttling, permissions, an outage in its location) fails only the fleets on it.
      const reason = describeGoogleError(error);
      logger.warn('describing group failed', { group: targetKey(target), reason });
      const description: GroupDescription = {
        found: false,
        reason: `could not describe ${target.instanceGroupManager} in ${where}: ${reason}`,
      };
      return { description, refs: [] };
    }
  }

  /** Deletes or recreates exactly these VMs, logging what became of them. */
  async function change(
    operation: 'removeInstances' | 'replaceInstances',
    target: GroupTarget,
    instanceIds: readonly string[],
    callOptions: ChangeOptions,
    apply: typeof removeManagedInstances,
  ): Promise<ReadonlyMap<string, RemoveOutcome>> {
    const key = targetKey(target);
    if (target.cloud !== 'gcp') {
      throw new CloudApiError(operation, `${key} is not a GCE managed instance group`);
    }
    if (instanceIds.length === 0) {
      return new Map();
    }
    const startedAt = clock();
    const { min } = boundsOf(target);
    const { onlyExited, signal } = callOptions;
    const report = await apply(clients, { target, instanceIds, min, onlyExited, signal });
    const outcomes = [...report.outcomes.values()];
    logger.info(operation === 'removeInstances' ? 'instance removal finished' : 'instance recreation finished', {
      group: key,
      asked: report.outcomes.size,
      changed: outcomes.filter((outcome) => outcome.removed).length,
      operation: report.operation,
      durationMs: clock() - startedAt,
    });
    return report.outcomes;
  }

  return {
    async describe(
      targets: readonly GroupTarget[],
      callOptions: CallOptions = {},
    ): Promise<ReadonlyMap<string, GroupDescription>> {
      const { signal } = callOptions;
      const unique = new Map(targets.map((target) => [targetKey(target), target]));
      const answers = await mapLimit([...unique], DESCRIBE_CONCURRENCY, async ([key, target]) => {
        const described =
          target.cloud === 'gcp'
            ? await describeOne(target, signal)
            : { description: { found: false, reason: 'not a GCE managed instance group' } as const, refs: [] };
        return { key, ...described };
      });
      const located = answers.flatMap(({ refs }) => refs.filter((ref) => ref !== undefined));
      const times =
        located.length === 0 || options.launchTimes === false
          ? new Map<string, number>()
          : await creationTimes(clients, located, { logger, signal });
      return new Map(
        answers.map(({ key, description, refs }): [string, GroupDescription] => {
          if (!description.found) {
            return [key, description];
          }
          const instances = description.snapshot.instances.map((instance, index) => {
            const ref = refs[index];
            const launchedAt = ref === undefined ? undefined : times.get(instanceKey(ref));
            return launchedAt === undefined ? instance : { ...instance, launchedAt };
          });
          return [key, { found: true, snapshot: { ...description.snapshot, instances } }];
        }),
      );
    },

    async setDesiredSize(target: GroupTarget, size: number, callOptions: CallOptions = {}): Promise<ResizeOutcome> {
      const key = targetKey(target);
      if (target.cloud !== 'gcp') {
        throw new CloudApiError('resize', `${key} is not a GCE managed instance group`);
      }
      const { min, max } = boundsOf(target);
      if (!Number.isInteger(size) || size < min || size > max) {
        // Refused here: Compute would accept any size up to its limit, so nothing else stops a runaway resize.
        throw new CloudApiError('resize', `${key}: ${size} is not a whole size within [${min}, ${max}]`);
      }
      const { signal } = callOptions;
      const startedAt = clock();
      let operation: string;
      try {
        operation = await startResize(clients, target, size, randomUUID(), signal);
      } catch (error) {
        const deferred = deferralOf(error);
        if (deferred !== undefined) {
          return { applied: false, deferred };
        }
        throw new CloudApiError('resize', `${key}: ${describeGoogleError(error)}`, {
          cause: error,
          retryable: isTransientGoogleError(error, signal),
        });
      }
      const outcome = await awaitResize(clients, target, operation, signal);
      logger.info('resize operation finished', { group: key, size, operation, durationMs: clock() - startedAt });
      return outcome;
    },

    async removeInstances(
      target: GroupTarget,
      instanceIds: readonly string[],
      callOptions: ChangeOptions = {},
    ): Promise<ReadonlyMap<string, RemoveOutcome>> {
      return change('removeInstances', target, instanceIds, callOptions, removeManagedInstances);
    },

    async replaceInstances(
      target: GroupTarget,
      instanceIds: readonly string[],
      callOptions: ChangeOptions = {},
    ): Promise<ReadonlyMap<string, ReplaceOutcome>> {
      const outcomes = await change('replaceInstances', target, instanceIds, callOptions, recreateManagedInstances);
      return new Map(
        [...outcomes].map(([id, outcome]): [string, ReplaceOutcome] => [
          id,
          outcome.removed
            ? { replaced: true }
            : { replaced: false, reason: outcome.reason, retryable: outcome.retryable },
        ]),
      );
    },

    async protectFromScaleIn(
      target: GroupTarget,
      _instanceIds: readonly string[],
      _callOptions: CallOptions = {},
    ): Promise<void> {
      if (target.cloud !== 'gcp') {
        throw new CloudApiError('protectFromScaleIn', `${targetKey(target)} is not a GCE managed instance group`);
      }
      // Nothing to call, and nothing to set: Compute has no per-instance protection. A MIG picks its own victims only
      // when resized down, and busy-aware scale-in never does that: it deletes the idle instances it chose
      // (removeInstances), which nothing else in the group can be taken in place of.
    },
  } satisfies InstanceGroups;
}
