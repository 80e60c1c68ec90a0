import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { chunk } from '../domain/chunk.ts';
import { type AwsGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
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
import { deferralOf, isRetryableAsgError } from './asg-faults.ts';
import { asgLifecycle, knownAsgLifecycle } from './asg-lifecycle.ts';
import { createPolicyLookup } from './asg-policies.ts';
import { replaceInGroup } from './asg-replace.ts';
import { protectInGroup, terminateInGroup } from './asg-scale-in.ts';
import { describeAwsError, isTransientAwsError } from './aws-errors.ts';
import { describeInstanceDetails, type InstanceDetails } from './ec2-instance-details.ts';

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

/** Each factory must return a client built once per region (the composition root caches them). */
export interface AsgClients {
  readonly autoScalingFor: (region: string) => AutoScalingClient;
  /**
   * EC2 tells what Auto Scaling does not: each instance's host name and launch time. Absent: not read (only
   * busy-aware scale-in needs them, and the read costs a round trip after the group's).
   */
  readonly ec2For?: (region: string) => EC2Client;
}

const NO_DETAILS: ReadonlyMap<string, InstanceDetails> = new Map();

export function createAsgInstanceGroups(clients: AsgClients, options: AsgInstanceGroupsOptions = {}) {
  const { autoScalingFor: clientFor, ec2For } = clients;
  const logger = options.logger ?? silentLogger;
  const scalersIn = createPolicyLookup({
    clientFor,
    ttlMs: options.policyCacheMs ?? DEFAULT_POLICY_CACHE_MS,
    clock: options.clock ?? systemClock,
    logger,
  });

  /**
   * One DescribeInstances for every instance of every group of the region. Host names and launch times only order and
   * guard scale-in, so their failure leaves them out (such instances count as busy) instead of failing the describe.
   */
  async function detailsIn(region: string, groups: ReadonlyMap<string, AutoScalingGroup>, signal?: AbortSignal) {
    const ids = [...groups.values()].flatMap((group) =>
      (group.Instances ?? []).flatMap((instance) => (instance.InstanceId === undefined ? [] : [instance.InstanceId])),
    );
    if (ids.length === 0 || ec2For === undefined) {
      return NO_DETAILS;
    }
    try {
      return await describeInstanceDetails(ec2For(region), ids, signal);
    } catch (error) {
      signal?.throwIfAborted();
      logger.warn('instance details unavailable; host names and launch times not reported', {
        region,
        instances: ids.length,
        reason: error instanceof Error ? error.message : String(error),
      });
      return NO_DETAILS;
    }
  }

  async function describeRegion(region: string, targets: ReadonlyMap<string, AwsGroupTarget>, signal?: AbortSignal) {
    const [[groups, details], scalers] = await Promise.all([
      fetchGroups(clientFor(region), [...targets.keys()], signal).then(
        async (groups) => [groups, await detailsIn(region, groups, signal)] as const,
      ),
      scalersIn(region),
    ]);
    return [...targets].map(([name, target]): [string, GroupDescription] => {
      const group = groups.get(name);
      if (group === undefined) {
        return [targetKey(target), { found: false, reason: `no Auto Scaling group named ${name} in ${region}` }];
      }
      return [targetKey(target), toDescription(group, scalers.get(name) ?? [], details, logger)];
    });
  }

  /**
   * The group as just described, for changes to named instances: its membership decides which ids may be changed at
   * all. A group that does not exist throws, as does one that could not be read.
   */
  async function describedForChange(target: AwsGroupTarget, operation: string, signal?: AbortSignal) {
    const client = clientFor(target.region);
    const group = (await fetchGroups(client, [target.autoScalingGroup], signal)).get(target.autoScalingGroup);
    if (group === undefined) {
      throw new CloudApiError(operation, `${targetKey(target)}: no such Auto Scaling group`);
    }
    return { client, group: { ...group, AutoScalingGroupName: target.autoScalingGroup } };
  }

  function logRefused(
    message: string,
    target: GroupTarget,
    outcomes: ReadonlyMap<string, RemoveOutcome | ReplaceOutcome>,
  ) {
    const refused = [...outcomes].filter(([, outcome]) => 'reason' in outcome);
    if (refused.length > 0) {
      logger.info(message, { group: targetKey(target), refused: Object.fromEntries(refused) });
    }
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
        // ValidationError (a size outside [MinSize, MaxSize]) will fail again unchanged.
        throw new CloudApiError('SetDesiredCapacity', `${key}: ${describeAwsError(error)}`, {
          cause: error,
          retryable: isRetryableAsgError(error),
        });
      }
    },

    async removeInstances(
      target: GroupTarget,
      instanceIds: readonly string[],
      options: ChangeOptions = {},
    ): Promise<ReadonlyMap<string, RemoveOutcome>> {
      if (target.cloud !== 'aws') {
        throw new CloudApiError(
          'TerminateInstanceInAutoScalingGroup',
          `${targetKey(target)} is not an EC2 Auto Scaling group`,
        );
      }
      if (instanceIds.length === 0) {
        return new Map();
      }
      const { client, group } = await describedForChange(target, 'TerminateInstanceInAutoScalingGroup', options.signal);
      const outcomes = await terminateInGroup(client, group, instanceIds, options);
      logRefused('instances not removed', target, outcomes);
      return outcomes;
    },

    async replaceInstances(
      target: GroupTarget,
      instanceIds: readonly string[],
      options: ChangeOptions = {},
    ): Promise<ReadonlyMap<string, ReplaceOutcome>> {
      if (target.cloud !== 'aws') {
        throw new CloudApiError('SetInstanceHealth', `${targetKey(target)} is not an EC2 Auto Scaling group`);
      }
      if (instanceIds.length === 0) {
        return new Map();
      }
      const { client, group } = await describedForChange(target, 'SetInstanceHealth', options.signal);
      const outcomes = await replaceInGroup(client, group, instanceIds, options);
      logRefused('instances not replaced', target, outcomes);
      return outcomes;
    },

    async protectFromScaleIn(target: GroupTarget, instanceIds: readonly string[], options: CallOptions = {}) {
      if (target.cloud !== 'aws') {
        throw new CloudApiError('SetInstanceProtection', `${targetKey(target)} is not an EC2 Auto Scaling group`);
      }
      await protectInGroup(clientFor(target.region), target.autoScalingGroup, instanceIds, options.signal);
    },
  } satisfies InstanceGroups;
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

function toDescription(
  group: AutoScalingGroup,
  scalers: readonly string[],
  details: ReadonlyMap<string, InstanceDetails>,
  logger: NarrowLogger,
): GroupDescription {
  const name = group.AutoScalingGroupName;
  // `Status` is only set while DeleteAutoScalingGroup runs: resizing such a group fails, so it is not usable.
  if (group.Status !== undefined && group.Status !== '') {
    return { found: false, reason: `Auto Scaling group ${name} is being deleted (${group.Status})` };
  }
  const { DesiredCapacity: desired, MinSize: min, MaxSize: max } = group;
  if (desired === undefined || min === undefined || max === undefined) {
    return { found: false, reason: `Auto Scaling group ${name} was described without its sizes` };
  }
  const instances = (group.Instances ?? []).map((instance): GroupInstance => {
    const state = instance.LifecycleState ?? 'unknown';
    if (knownAsgLifecycle(state) === undefined) {
      logger.warn('unknown instance lifecycle state counted as booting', { group: name, state });
    }
    const id = instance.InstanceId ?? 'unknown';
    const guarded =
      instance.ProtectedFromScaleIn === undefined ? {} : { protectedFromScaleIn: instance.ProtectedFromScaleIn };
    return { id, lifecycle: asgLifecycle(state), state, ...guarded, ...details.get(id) };
  });
  return { found: true, snapshot: { desired, min, max, instances, competingScalers: scalers } };
}
