import { randomUUID } from 'node:crypto';
import { type GcpGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
import { mapLimit } from '../domain/map-limit.ts';
import { silentLogger } from '../observability/logger.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { GroupDescription, InstanceGroups, ResizeOutcome } from '../ports/instance-groups.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { describeGoogleError, isNotFound, isTransientGoogleError } from './google-errors.ts';
import { competingAutoscalers } from './mig-autoscalers.ts';
import { getGroup, listInstances, locationOf, type MigClients, startResize } from './mig-calls.ts';
import { knownMigLifecycle, migLifecycle, migState } from './mig-lifecycle.ts';
import { awaitResize, deferralOf } from './mig-resize.ts';

export type { MigClients } from './mig-calls.ts';

/**
 * A MIG has no minimum or maximum of its own (only an attached autoscaler has), so by default the bounds are those
 * Compute Engine documents for any MIG: 0 to 1,000 VMs in a zonal group, 2,000 in a regional one. The fleet's own
 * `minInstances`/`maxInstances` still bound the policy; `bounds` lets the composition root report them here too.
 */
export const ZONAL_MAX_SIZE = 1_000;
export const REGIONAL_MAX_SIZE = 2_000;
/** Groups described at once: each costs two or three reads, and Compute meters reads per minute per project. */
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
}

export function createMigInstanceGroups(clients: MigClients, options: MigInstanceGroupsOptions = {}) {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const boundsOf = (target: GcpGroupTarget): GroupBounds =>
    options.bounds?.(target) ?? { min: 0, max: target.zone === undefined ? REGIONAL_MAX_SIZE : ZONAL_MAX_SIZE };

  async function describeOne(target: GcpGroupTarget, signal?: AbortSignal): Promise<GroupDescription> {
    const where = `${locationOf(target)} of project ${target.project}`;
    try {
      const [group, instances] = await Promise.all([
        getGroup(clients, target, signal),
        listInstances(clients, target, signal),
      ]);
      // Compute declares target_size with presence and always sends it; a group without one is not usable.
      const desired = group.targetSize;
      if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0) {
        return { found: false, reason: `managed instance group ${target.instanceGroupManager} has no target size` };
      }
      const competingScalers = await competingAutoscalers(clients, target, group, { logger, signal });
      const reported = instances.map((instance) => {
        if (knownMigLifecycle(instance) === undefined) {
          logger.warn('unknown managed instance state counted as booting', {
            group: targetKey(target),
            state: migState(instance),
          });
        }
        const id = instance.name ?? instance.instance?.split('/').at(-1) ?? String(instance.id ?? 'unknown');
        return { id, lifecycle: migLifecycle(instance), state: migState(instance) };
      });
      const { min, max } = boundsOf(target);
      return { found: true, snapshot: { desired, min, max, instances: reported, competingScalers } };
    } catch (error) {
      if (isNotFound(error)) {
        return { found: false, reason: `no managed instance group named ${target.instanceGroupManager} in ${where}` };
      }
      // One group's failure (throttling, permissions, an outage in its location) fails only the fleets on it.
      const reason = describeGoogleError(error);
      logger.warn('describing group failed', { group: targetKey(target), reason });
      return { found: false, reason: `could not describe ${target.instanceGroupManager} in ${where}: ${reason}` };
    }
  }

  return {
    async describe(
      targets: readonly GroupTarget[],
      callOptions: CallOptions = {},
    ): Promise<ReadonlyMap<string, GroupDescription>> {
      const unique = new Map(targets.map((target) => [targetKey(target), target]));
      const answers = await mapLimit(
        [...unique],
        DESCRIBE_CONCURRENCY,
        async ([key, target]): Promise<[string, GroupDescription]> => {
          const description: GroupDescription =
            target.cloud === 'gcp'
              ? await describeOne(target, callOptions.signal)
              : { found: false, reason: 'not a GCE managed instance group' };
          return [key, description];
        },
      );
      return new Map(answers);
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
  } satisfies InstanceGroups;
}
