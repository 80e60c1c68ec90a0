import { type AutoScalingClient, type AutoScalingGroup, SetInstanceHealthCommand } from '@aws-sdk/client-auto-scaling';
import { mapLimit } from '../domain/map-limit.ts';
import type { ChangeOptions, ReplaceOutcome } from '../ports/instance-groups.ts';
import { asgLifecycle } from './asg-lifecycle.ts';
import { failureOf, membersOf, refusalOf } from './asg-scale-in.ts';

/** SetInstanceHealth names one instance per request: this many in flight at once, to stay clear of throttling. */
export const HEALTH_CHANGES_IN_FLIGHT = 4;

/** Holds an instance's place in the answer (asked order) until its request settles. */
const UNSETTLED: ReplaceOutcome = { replaced: false, reason: 'not attempted', retryable: true };

/**
 * Replaces `instanceIds` of `group` (as just described) with fresh instances, its desired capacity unchanged: each is
 * marked `Unhealthy` (SetInstanceHealth, one instance per request), which the group answers by terminating it and
 * launching a replacement, scale-in protection or not. The grace period is not respected: the instance is known to
 * be done with, however young. Refused before any call: what `refusalOf` refuses, and standby instances, which Auto
 * Scaling does not health-check and so would not replace.
 */
export async function replaceInGroup(
  client: AutoScalingClient,
  group: AutoScalingGroup,
  instanceIds: readonly string[],
  options: ChangeOptions = {},
): Promise<ReadonlyMap<string, ReplaceOutcome>> {
  const outcomes = new Map<string, ReplaceOutcome>();
  const members = membersOf(group);
  const chosen: string[] = [];
  for (const id of new Set(instanceIds)) {
    const state = members.get(id);
    const refusal =
      refusalOf(members, id, options) ??
      (asgLifecycle(state) === 'standby'
        ? `kept out of service (${state}): Auto Scaling would not replace it`
        : undefined);
    if (refusal === undefined) {
      chosen.push(id);
      outcomes.set(id, UNSETTLED);
    } else {
      outcomes.set(id, { replaced: false, reason: refusal, retryable: false });
    }
  }
  const settled = await mapLimit(chosen, HEALTH_CHANGES_IN_FLIGHT, async (id) => {
    return [id, await markUnhealthy(client, id, options.signal)] as const;
  });
  for (const [id, outcome] of settled) {
    outcomes.set(id, outcome);
  }
  return outcomes;
}

async function markUnhealthy(
  client: AutoScalingClient,
  instanceId: string,
  signal?: AbortSignal,
): Promise<ReplaceOutcome> {
  try {
    // Checked here too: the SDK looks at the signal only inside its HTTP handler.
    signal?.throwIfAborted();
    await client.send(
      new SetInstanceHealthCommand({
        InstanceId: instanceId,
        HealthStatus: 'Unhealthy',
        // Respected, the grace period refuses (ValidationError) any instance younger than it.
        ShouldRespectGracePeriod: false,
      }),
      { abortSignal: signal },
    );
    return { replaced: true };
  } catch (error) {
    return { replaced: false, ...failureOf(error, signal) };
  }
}
