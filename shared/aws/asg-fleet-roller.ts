import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  type RefreshPreferences,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { type AwsGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { CloudApiError } from '../ports/errors.ts';
import type {
  FleetRoller,
  RollProgress,
  RollQuantity,
  RollRequest,
  RollSettings,
  RollStart,
  RollState,
} from '../ports/fleet-roll.ts';
import { isRetryableAsgError } from './asg-faults.ts';
import { awsErrorName, describeAwsError } from './aws-errors.ts';

/**
 * Refreshes read per look. The service lists them newest first and at most one is under way, so the first page
 * answers both questions `start` asks: did this roll start already, and is another one running.
 */
const REFRESHES_READ = 10;

/** How the Auto Scaling statuses read as a roll's state; any other status (Pending, Baking, …) is still under way. */
const STATES: Readonly<Record<string, RollState>> = {
  Successful: 'succeeded',
  Failed: 'failed',
  RollbackSuccessful: 'failed',
  RollbackFailed: 'failed',
  Cancelled: 'cancelled',
};

/** `InstanceRefreshInProgress` as the SDK names it; the bare code too, should a client surface it so. */
const IN_PROGRESS = new Set(['InstanceRefreshInProgressFault', 'InstanceRefreshInProgress']);

export interface AsgFleetRollerClients {
  /** Must return a client built once per region (the composition root caches them). */
  readonly autoScalingFor: (region: string) => AutoScalingClient;
}

/**
 * Rolls an EC2 Auto Scaling group with an instance refresh (`Rolling`): every instance is replaced, including those
 * protected from scale-in (fleetplane protects every instance of a busy-aware fleet), none is skipped for matching the
 * launch template (the point is a fresh boot, not a new template). An instance refresh has no name of its own, so a
 * refresh that started at or after the request's `notBefore` is taken as this roll.
 */
export function createAsgFleetRoller(clients: AsgFleetRollerClients) {
  const { autoScalingFor } = clients;

  async function refreshesOf(target: AwsGroupTarget, signal?: AbortSignal, ids?: readonly string[]) {
    try {
      // Checked here too: the SDK looks at the signal only inside its HTTP handler.
      signal?.throwIfAborted();
      const output = await autoScalingFor(target.region).send(
        new DescribeInstanceRefreshesCommand({
          AutoScalingGroupName: target.autoScalingGroup,
          MaxRecords: REFRESHES_READ,
          ...(ids === undefined ? {} : { InstanceRefreshIds: [...ids] }),
        }),
        { abortSignal: signal },
      );
      return output.InstanceRefreshes ?? [];
    } catch (error) {
      // A group that does not exist is a ValidationError, which no retry fixes.
      throw cloudError('DescribeInstanceRefreshes', target, error, signal);
    }
  }

  async function groupOf(target: AwsGroupTarget, signal?: AbortSignal) {
    let group: AutoScalingGroup | undefined;
    try {
      signal?.throwIfAborted();
      const output = await autoScalingFor(target.region).send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [target.autoScalingGroup] }),
        { abortSignal: signal },
      );
      group = output.AutoScalingGroups?.find((candidate) => candidate.AutoScalingGroupName === target.autoScalingGroup);
    } catch (error) {
      throw cloudError('DescribeAutoScalingGroups', target, error, signal);
    }
    if (group === undefined) {
      throw new CloudApiError('DescribeAutoScalingGroups', `${targetKey(target)}: no such Auto Scaling group`);
    }
    return group;
  }

  /** This roll if it started already, or another one under way; undefined when a new one may start. */
  function priorRoll(refreshes: readonly InstanceRefresh[], notBefore: number | undefined): RollStart | undefined {
    const [newest] = refreshes;
    if (newest === undefined) {
      return undefined;
    }
    const roll = progressOf(newest);
    // StartTime may come in whole seconds: a refresh started within notBefore's second counts as started after it.
    if (
      notBefore !== undefined &&
      roll.startedAt !== undefined &&
      roll.startedAt >= Math.floor(notBefore / 1000) * 1000
    ) {
      return { started: false, why: 'already-started', roll };
    }
    const underWay = refreshes.map(progressOf).find((candidate) => candidate.state === 'in-progress');
    return underWay === undefined ? undefined : { started: false, why: 'busy', roll: underWay };
  }

  return {
    async start(target: GroupTarget, request: RollRequest, options: CallOptions = {}): Promise<RollStart> {
      const group = awsGroup(target, 'StartInstanceRefresh');
      const { signal } = options;
      const prior = priorRoll(await refreshesOf(group, signal), request.notBefore);
      if (prior !== undefined) {
        return prior;
      }
      const needsSize = [request.settings.maxUnavailable, request.settings.maxSurge].some(
        (quantity) => 'fixed' in quantity && quantity.fixed > 0,
      );
      const desired = needsSize ? ((await groupOf(group, signal)).DesiredCapacity ?? 0) : 0;
      let id: string | undefined;
      try {
        signal?.throwIfAborted();
        const output = await autoScalingFor(group.region).send(
          new StartInstanceRefreshCommand({
            AutoScalingGroupName: group.autoScalingGroup,
            Strategy: 'Rolling',
            Preferences: refreshPreferencesFor(request.settings, desired),
          }),
          { abortSignal: signal },
        );
        id = output.InstanceRefreshId;
      } catch (error) {
        if (IN_PROGRESS.has(awsErrorName(error) ?? '')) {
          // Someone started one between our look and our start (or a retry of ours landed): answer that one.
          const raced = priorRoll(await refreshesOf(group, signal), request.notBefore);
          if (raced !== undefined) {
            return raced;
          }
        }
        throw cloudError('StartInstanceRefresh', group, error, signal, IN_PROGRESS.has(awsErrorName(error) ?? ''));
      }
      if (id === undefined) {
        throw new CloudApiError(
          'StartInstanceRefresh',
          `${targetKey(group)}: the answer carried no InstanceRefreshId`,
          {
            retryable: true,
          },
        );
      }
      const [started] = await refreshesOf(group, signal, [id]);
      // Not listed yet (should the read lag the start): it has replaced nothing so far.
      const roll =
        started === undefined
          ? { id, state: 'in-progress' as const, remaining: 0, percentComplete: 0 }
          : progressOf(started);
      return { started: true, roll };
    },

    async latest(target: GroupTarget, options: CallOptions = {}): Promise<RollProgress | undefined> {
      const group = awsGroup(target, 'DescribeInstanceRefreshes');
      const [newest] = await refreshesOf(group, options.signal);
      return newest === undefined ? undefined : progressOf(newest);
    },

    async members(target: GroupTarget, options: CallOptions = {}): Promise<readonly string[]> {
      const group = await groupOf(awsGroup(target, 'DescribeAutoScalingGroups'), options.signal);
      return (group.Instances ?? []).flatMap((instance) =>
        instance.InstanceId === undefined ? [] : [instance.InstanceId],
      );
    },
  } satisfies FleetRoller;
}

/**
 * The refresh preferences for a roll of a group of `desired` instances. Auto Scaling takes percentages of desired
 * capacity: it keeps at least MinHealthyPercentage in service (its instance count rounded up, as documented) and holds
 * at most MaxHealthyPercentage (how that count is rounded is not documented). A fixed count becomes a percentage that
 * never lets more than that many instances be out (the smallest MinHealthyPercentage whose rounded-up count keeps
 * `desired − n` in service) or be extra (MaxHealthyPercentage rounded down, so the limit holds however AWS rounds). Both
 * are always sent: with MaxHealthyPercentage given, a group whose limits allow no replacement at all still gets one
 * instance replaced at a time, launched before the old one goes, so a roll always makes progress. AWS refuses a range
 * wider than 100 points, so surge gives way: that much unavailability already lets the whole group be replaced at once.
 */
export function refreshPreferencesFor(settings: RollSettings, desired: number): RefreshPreferences {
  const min = minHealthyPercentage(settings.maxUnavailable, desired);
  const max = Math.min(maxHealthyPercentage(settings.maxSurge, desired), min + 100);
  return {
    MinHealthyPercentage: min,
    MaxHealthyPercentage: max,
    SkipMatching: false,
    ScaleInProtectedInstances: 'Refresh',
    // fleetplane never puts an instance in Standby: one there is an operator's, left alone rather than waited for
    // (an hour, then the refresh fails) or terminated.
    StandbyInstances: 'Ignore',
    AutoRollback: false,
  };
}

function minHealthyPercentage(maxUnavailable: RollQuantity, desired: number): number {
  if ('percent' in maxUnavailable) {
    return 100 - clamp(maxUnavailable.percent, 0, 100);
  }
  const kept = desired - maxUnavailable.fixed;
  if (maxUnavailable.fixed <= 0) {
    return 100;
  }
  return kept <= 0 ? 0 : Math.floor((100 * (kept - 1)) / desired) + 1;
}

function maxHealthyPercentage(maxSurge: RollQuantity, desired: number): number {
  if ('percent' in maxSurge) {
    return 100 + clamp(maxSurge.percent, 0, 100);
  }
  return desired === 0 ? 100 : 100 + clamp(Math.floor((100 * maxSurge.fixed) / desired), 0, 100);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function progressOf(refresh: InstanceRefresh): RollProgress {
  const { StartTime: startedAt, EndTime: endedAt, StatusReason: reason } = refresh;
  return {
    id: refresh.InstanceRefreshId ?? 'unknown',
    state: STATES[refresh.Status ?? ''] ?? 'in-progress',
    ...(startedAt === undefined ? {} : { startedAt: startedAt.getTime() }),
    ...(endedAt === undefined ? {} : { endedAt: endedAt.getTime() }),
    remaining: refresh.InstancesToUpdate ?? 0,
    percentComplete: refresh.PercentageComplete ?? 0,
    ...(reason === undefined || reason === '' ? {} : { reason }),
  };
}

function awsGroup(target: GroupTarget, operation: string): AwsGroupTarget {
  if (target.cloud !== 'aws') {
    throw new CloudApiError(operation, `${targetKey(target)} is not an EC2 Auto Scaling group`);
  }
  return target;
}

function cloudError(
  operation: string,
  target: AwsGroupTarget,
  error: unknown,
  signal?: AbortSignal,
  retryable = false,
): CloudApiError {
  // An aborted call may still have reached AWS; the next look tells what it did.
  return new CloudApiError(operation, `${targetKey(target)}: ${describeAwsError(error)}`, {
    cause: error,
    retryable: retryable || signal?.aborted === true || isRetryableAsgError(error),
  });
}
