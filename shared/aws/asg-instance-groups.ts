import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { chunk } from '../domain/chunk.ts';
import { type AwsGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
import { silentLogger } from '../observability/logger.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { GroupDescription, InstanceGroups, ResizeOutcome } from '../ports/instance-groups.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { asgLifecycle, knownAsgLifecycle } from './asg-lifecycle.ts';
import { createPolicyLookup } from './asg-policies.ts';
import { awsErrorName, describeAwsError, isServerFault, isThrottlingError, isTransientAwsError } from './aws-errors.ts';

/** DescribeAutoScalingGroups accepts at most 100 names per request and returns at most 100 records per page. */
const MAX_NAMES_PER_DESCRIBE = 100;
/** Milliseconds: scaling policies change rarely and only feed a warning. */
export const DEFAULT_POLICY_CACHE_MS = 5 * 60_000;
/** Upper bound on NextToken pages, so a misbehaving endpoint cannot keep a cycle looping. */
const MAX_PAGES = 100;

export interface AsgInstanceGroupsOptions {
  readonly logger?: NarrowLogger;
  /** Milliseconds a region's scaling policies are reused (default 5 minutes). */
  readonly policyCacheMs?: number;
  readonly clock?: Clock;
}

/** Faults after which the same resize is expected to succeed on a later cycle: not errors, just "not now". */
const DEFERRALS: Readonly<Record<string, string>> = {
  ScalingActivityInProgress: 'a scaling activity is in progress',
  ScalingActivityInProgressFault: 'a scaling activity is in progress',
  ResourceContention: 'resource contention',
  ResourceContentionFault: 'resource contention',
};

/** `clientFor` must return a client built once per region (the composition root caches them). */
export function createAsgInstanceGroups(
  clientFor: (region: string) => AutoScalingClient,
  options: AsgInstanceGroupsOptions = {},
) {
  const logger = options.logger ?? silentLogger;
  const scalersIn = createPolicyLookup({
    clientFor,
    ttlMs: options.policyCacheMs ?? DEFAULT_POLICY_CACHE_MS,
    clock: options.clock ?? systemClock,
    logger,
  });

  async function describeRegion(region: string, targets: ReadonlyMap<string, AwsGroupTarget>, signal?: AbortSignal) {
    const [groups, scalers] = await Promise.all([
      fetchGroups(clientFor(region), [...targets.keys()], signal),
      scalersIn(region),
    ]);
    return [...targets].map(([name, target]): [string, GroupDescription] => {
      const group = groups.get(name);
      if (group === undefined) {
        return [targetKey(target), { found: false, reason: `no Auto Scaling group named ${name} in ${region}` }];
      }
      return [targetKey(target), toDescription(group, scalers.get(name) ?? [], logger)];
    });
  }

  return {
    async describe(
      targets: readonly GroupTarget[],
      options: CallOptions = {},
    ): Promise<ReadonlyMap<string, GroupDescription>> {
      const byRegion = new Map<string, Map<string, AwsGroupTarget>>();
      const foreign: [string, GroupDescription][] = [];
      for (const target of targets) {
        if (target.cloud !== 'aws') {
          foreign.push([targetKey(target), { found: false, reason: 'not an EC2 Auto Scaling group' }]);
          continue;
        }
        const names = byRegion.get(target.region) ?? new Map<string, AwsGroupTarget>();
        names.set(target.autoScalingGroup, target);
        byRegion.set(target.region, names);
      }
      const answers = await Promise.all(
        [...byRegion].map(async ([region, names]) => {
          try {
            return await describeRegion(region, names, options.signal);
          } catch (error) {
            // One region's outage or throttling fails only the fleets in that region.
            const reason = error instanceof Error ? error.message : String(error);
            logger.warn('describing groups failed', { region, reason });
            return [...names.values()].map((target): [string, GroupDescription] => [
              targetKey(target),
              { found: false, reason: `could not describe groups in ${region}: ${reason}` },
            ]);
          }
        }),
      );
      return new Map([...answers.flat(), ...foreign]);
    },

    async setDesiredSize(target: GroupTarget, size: number, options: CallOptions = {}): Promise<ResizeOutcome> {
      const key = targetKey(target);
      if (target.cloud !== 'aws') {
        throw new CloudApiError('SetDesiredCapacity', `${key} is not an EC2 Auto Scaling group`);
      }
      if (!Number.isInteger(size) || size < 0) {
        throw new CloudApiError('SetDesiredCapacity', `${key}: ${size} is not a valid capacity`);
      }
      try {
        options.signal?.throwIfAborted();
        // HonorCooldown false: the policy already decided, and a cooldown set for other scalers must not delay it.
        await clientFor(target.region).send(
          new SetDesiredCapacityCommand({
            AutoScalingGroupName: target.autoScalingGroup,
            DesiredCapacity: size,
            HonorCooldown: false,
          }),
          { abortSignal: options.signal },
        );
        return { applied: true };
      } catch (error) {
        const deferred = deferralOf(error);
        if (deferred !== undefined) {
          return { applied: false, deferred };
        }
        // LimitExceeded is listed by AWS as "retry later"; server faults clear on their own. Anything else (notably
        // ValidationError for a size outside [MinSize, MaxSize]) will fail again unchanged.
        const name = awsErrorName(error);
        const retryable = isServerFault(error) || name === 'LimitExceeded' || name === 'LimitExceededFault';
        throw new CloudApiError('SetDesiredCapacity', `${key}: ${describeAwsError(error)}`, {
          cause: error,
          retryable,
        });
      }
    },
  } satisfies InstanceGroups;
}

function deferralOf(error: unknown): string | undefined {
  const name = awsErrorName(error) ?? '';
  const reason = DEFERRALS[name] ?? (isThrottlingError(error) ? 'throttled' : undefined);
  return reason === undefined ? undefined : `${reason} (${describeAwsError(error)})`;
}

/** All requested names, 100 per request, following NextToken: a page may hold fewer records than asked for. */
async function fetchGroups(client: AutoScalingClient, names: readonly string[], signal?: AbortSignal) {
  const found = new Map<string, AutoScalingGroup>();
  for (const batch of chunk(names, MAX_NAMES_PER_DESCRIBE)) {
    let token: string | undefined;
    for (let page = 0; page === 0 || token !== undefined; page++) {
      if (page >= MAX_PAGES) {
        throw new CloudApiError('DescribeAutoScalingGroups', `still paging after ${MAX_PAGES} pages`, {
          retryable: true,
        });
      }
      const input = { AutoScalingGroupNames: batch, MaxRecords: MAX_NAMES_PER_DESCRIBE, NextToken: token };
      try {
        // Checked here too: the SDK looks at the signal only inside its HTTP handler.
        signal?.throwIfAborted();
        const output = await client.send(new DescribeAutoScalingGroupsCommand(input), { abortSignal: signal });
        for (const group of output.AutoScalingGroups ?? []) {
          if (group.AutoScalingGroupName !== undefined) {
            found.set(group.AutoScalingGroupName, group);
          }
        }
        token = output.NextToken === '' ? undefined : output.NextToken;
      } catch (error) {
        throw new CloudApiError('DescribeAutoScalingGroups', describeAwsError(error), {
          cause: error,
          retryable: isTransientAwsError(error),
        });
      }
    }
  }
  return found;
}

function toDescription(group: AutoScalingGroup, scalers: readonly string[], logger: NarrowLogger): GroupDescription {
  const name = group.AutoScalingGroupName;
  // `Status` is only set while DeleteAutoScalingGroup runs: resizing such a group fails, so it is not usable.
  if (group.Status !== undefined && group.Status !== '') {
    return { found: false, reason: `Auto Scaling group ${name} is being deleted (${group.Status})` };
  }
  const { DesiredCapacity: desired, MinSize: min, MaxSize: max } = group;
  if (desired === undefined || min === undefined || max === undefined) {
    return { found: false, reason: `Auto Scaling group ${name} was described without its sizes` };
  }
  const instances = (group.Instances ?? []).map((instance) => {
    const state = instance.LifecycleState ?? 'unknown';
    if (knownAsgLifecycle(state) === undefined) {
      logger.warn('unknown instance lifecycle state counted as booting', { group: name, state });
    }
    return { id: instance.InstanceId ?? 'unknown', lifecycle: asgLifecycle(state), state };
  });
  return { found: true, snapshot: { desired, min, max, instances, competingScalers: scalers } };
}
