import {
  type AutoScalingClient,
  type AutoScalingGroup,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { chunk } from '../domain/chunk.ts';
import { mapLimit } from '../domain/map-limit.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { ChangeOptions, RemoveOutcome } from '../ports/instance-groups.ts';
import { deferralOf, isRetryableAsgError } from './asg-faults.ts';
import { asgLifecycle } from './asg-lifecycle.ts';
import { describeAwsError } from './aws-errors.ts';

/** TerminateInstanceInAutoScalingGroup takes at most 100 ids in its batch form (`InstanceIds`). */
export const MAX_IDS_PER_TERMINATE = 100;
/** SetInstanceProtection takes at most 50 instance ids per request. */
export const MAX_IDS_PER_PROTECTION = 50;
/** Single-instance terminations in flight at once, when a batch has to be retried one by one. */
const SINGLE_TERMINATIONS_IN_FLIGHT = 4;

/** The reason given for an instance the group does not list. */
export const NOT_IN_GROUP = 'not in the group';
/** Holds an instance's place in the answer (asked order) until its batch settles; every batch answers for each id. */
const UNSETTLED: RemoveOutcome = { removed: false, reason: 'not attempted', retryable: true };

/** Each instance id the group lists, with its lifecycle state: what decides which ids may be changed at all. */
export function membersOf(group: AutoScalingGroup): ReadonlyMap<string, string | undefined> {
  return new Map(
    (group.Instances ?? []).flatMap((instance) =>
      instance.InstanceId === undefined ? [] : [[instance.InstanceId, instance.LifecycleState] as const],
    ),
  );
}

/**
 * Why `id` may not be changed at all, decided before any call, or undefined when it may: another group's instance
 * (never touch one: the single-instance forms of the API take no group name), one already on its way out, or, when
 * only exited instances may be touched, any other. An Auto Scaling group never lists an exited instance (EC2 terminates
 * a VM that powers itself off), so there `onlyExited` refuses every member.
 */
export function refusalOf(
  members: ReadonlyMap<string, string | undefined>,
  id: string,
  options: Pick<ChangeOptions, 'onlyExited'> = {},
): string | undefined {
  if (!members.has(id)) {
    return NOT_IN_GROUP;
  }
  const state = members.get(id);
  const lifecycle = asgLifecycle(state);
  if (lifecycle === 'leaving') {
    return `already leaving the group (${state})`;
  }
  if (options.onlyExited === true && lifecycle !== 'exited') {
    return `not exited but ${lifecycle} (${state}), and only exited instances were to be touched`;
  }
  return undefined;
}

/**
 * Removes `instanceIds` from `group` (as just described), lowering its desired capacity by as many. Decided here,
 * before any call: what `refusalOf` refuses, and instances beyond what the minimum size allows, in the order asked.
 * The rest go out in batches of 100; a batch AWS refuses as a whole is retried one instance at a time, so one refusal
 * does not hold back the others.
 */
export async function terminateInGroup(
  client: AutoScalingClient,
  group: AutoScalingGroup & { readonly AutoScalingGroupName: string },
  instanceIds: readonly string[],
  options: ChangeOptions = {},
): Promise<ReadonlyMap<string, RemoveOutcome>> {
  const { signal } = options;
  const outcomes = new Map<string, RemoveOutcome>();
  const members = membersOf(group);
  let headroom = (group.DesiredCapacity ?? 0) - (group.MinSize ?? 0);
  const chosen: string[] = [];
  for (const id of new Set(instanceIds)) {
    const refusal = refusalOf(members, id, options);
    if (refusal !== undefined) {
      outcomes.set(id, { removed: false, reason: refusal, retryable: false });
    } else if (headroom <= 0) {
      outcomes.set(id, { removed: false, reason: atMinimum(group), retryable: false });
    } else {
      headroom -= 1;
      chosen.push(id);
      outcomes.set(id, UNSETTLED);
    }
  }
  for (const batch of chunk(chosen, MAX_IDS_PER_TERMINATE)) {
    for (const [id, outcome] of await terminateBatch(client, group.AutoScalingGroupName, batch, signal)) {
      outcomes.set(id, outcome);
    }
  }
  return outcomes;
}

async function terminateBatch(
  client: AutoScalingClient,
  groupName: string,
  batch: readonly string[],
  signal?: AbortSignal,
): Promise<ReadonlyMap<string, RemoveOutcome>> {
  try {
    signal?.throwIfAborted();
    // ShouldDecrementDesiredCapacity: without it the group launches a replacement for each instance.
    await client.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        InstanceIds: [...batch],
        ShouldDecrementDesiredCapacity: true,
      }),
      { abortSignal: signal },
    );
    return new Map(batch.map((id) => [id, { removed: true }]));
  } catch (error) {
    // How AWS treats a batch one of whose instances it refuses is undocumented: ask again one at a time, where each
    // answer is about one instance. A "not now" answer is about the group, so it stands for the whole batch.
    if (batch.length === 1 || isRetryableAsgError(error) || signal?.aborted === true) {
      const outcome = removalOutcomeOf(error, signal);
      return new Map(batch.map((id) => [id, outcome]));
    }
    const singles = await mapLimit(batch, SINGLE_TERMINATIONS_IN_FLIGHT, async (id) => {
      try {
        signal?.throwIfAborted();
        await client.send(
          new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true }),
          { abortSignal: signal },
        );
        return [id, { removed: true }] as const;
      } catch (single) {
        return [id, removalOutcomeOf(single, signal)] as const;
      }
    });
    return new Map(singles);
  }
}

/** What a refused or failed termination means for the instance it named. */
export function removalOutcomeOf(error: unknown, signal?: AbortSignal): RemoveOutcome {
  return { removed: false, ...failureOf(error, signal) };
}

/** What a refused or failed call about one instance (termination, health change) means for that instance. */
export function failureOf(
  error: unknown,
  signal?: AbortSignal,
): { readonly reason: string; readonly retryable: boolean } {
  if (signal?.aborted === true) {
    // The request may have reached AWS before the abort: the next describe tells.
    return { reason: `aborted; it may still have been applied (${describeAwsError(error)})`, retryable: true };
  }
  const deferred = deferralOf(error);
  if (deferred !== undefined) {
    return { reason: deferred, retryable: true };
  }
  if (isRetryableAsgError(error)) {
    return { reason: describeAwsError(error), retryable: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  // ValidationError is how AWS answers all of these; only the message tells them apart.
  if (/min size|minSize/.test(message)) {
    return { reason: `the group is at its minimum size (${describeAwsError(error)})`, retryable: false };
  }
  if (/No managed instance found|not found|not part of/i.test(message)) {
    return { reason: `${NOT_IN_GROUP} (${describeAwsError(error)})`, retryable: false };
  }
  return { reason: describeAwsError(error), retryable: false };
}

function atMinimum(group: AutoScalingGroup): string {
  return `removing it would take the desired capacity below the minimum size ${group.MinSize ?? 0}`;
}

/** Turns on scale-in protection for `instanceIds`, 50 per request, one request after another. */
export async function protectInGroup(
  client: AutoScalingClient,
  groupName: string,
  instanceIds: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  for (const batch of chunk([...new Set(instanceIds)], MAX_IDS_PER_PROTECTION)) {
    try {
      signal?.throwIfAborted();
      await client.send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: groupName,
          InstanceIds: [...batch],
          ProtectedFromScaleIn: true,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new CloudApiError('SetInstanceProtection', `${groupName}: ${describeAwsError(error)}`, {
        cause: error,
        retryable: isRetryableAsgError(error),
      });
    }
  }
}
