import type { GroupTarget } from '../domain/fleet.ts';
import { toError } from '../domain/guards.ts';
import { chooseVictims, type ScaleInCandidate, type VictimOrder } from '../domain/scale-in.ts';
import type { BusyReading, BusySignal } from '../ports/busy-signal.ts';
import type { GroupSnapshot, InstanceGroups } from '../ports/instance-groups.ts';

export interface IdleRemovalRequest {
  /** The reading to choose from: shared by every fleet shrinking in one cycle, which read the same endpoint. */
  readonly chooseFrom: () => Promise<BusyReading>;
  readonly target: GroupTarget;
  readonly group: GroupSnapshot;
  /** Instances to remove: the desired size less the decided target. */
  readonly count: number;
  readonly order: VictimOrder;
  readonly signal: AbortSignal | undefined;
}

/** `removed`: what is gone (the desired size already lowered by as many). `held`: why nothing more was removed. */
export interface IdleRemoval {
  readonly removed: readonly string[];
  readonly held?: string;
  /** Nothing was chosen because the busy signal could not be read (the caller may fall back to attrition). */
  readonly signalUnknown?: true;
}

/**
 * Removes up to `count` idle instances and nothing else. The busy signal is read twice: once to choose (that reading
 * shared by the cycle's fleets), and again just before acting, so an instance that took a job in between is kept. A
 * signal that cannot be read removes nothing.
 */
export async function removeIdleInstances(
  busy: BusySignal,
  groups: InstanceGroups,
  request: IdleRemovalRequest,
): Promise<IdleRemoval> {
  const { chooseFrom, target, group, count, order, signal } = request;
  const candidates = candidatesOf(group);
  const first = await chooseFrom();
  if (!first.known) {
    return { removed: [], held: `busy signal unknown: ${first.reason}`, signalUnknown: true };
  }
  const chosen = chooseVictims(candidates, first.runningJobs, count, order);
  if (chosen.length === 0) {
    return { removed: [], held: 'no idle instance' };
  }
  const recheck = await busy.read({ signal });
  if (!recheck.known) {
    return { removed: [], held: `busy signal unknown on the re-check: ${recheck.reason}`, signalUnknown: true };
  }
  const stillIdle = chooseVictims(
    candidates.filter((candidate) => chosen.includes(candidate.id)),
    recheck.runningJobs,
    chosen.length,
    order,
  );
  if (stillIdle.length === 0) {
    return { removed: [], held: 'the instances chosen took jobs before they could be removed' };
  }
  return removeChosen(groups, target, stillIdle, count, signal);
}

function candidatesOf(group: GroupSnapshot): ScaleInCandidate[] {
  return group.instances.map((instance) => ({
    id: instance.id,
    inService: instance.lifecycle === 'in-service',
    ...(instance.lifecycle === 'exited' ? { exited: true } : {}),
    ...(instance.hostname === undefined ? {} : { hostname: instance.hostname }),
    ...(instance.launchedAt === undefined ? {} : { launchedAt: instance.launchedAt }),
  }));
}

/** Removes exactly `chosen`, reporting per instance what the cloud refused and how far short of `count` it fell. */
async function removeChosen(
  groups: InstanceGroups,
  target: GroupTarget,
  chosen: readonly string[],
  count: number,
  signal: AbortSignal | undefined,
): Promise<IdleRemoval> {
  try {
    const outcomes = await groups.removeInstances(target, chosen, { signal });
    const removed = chosen.filter((id) => outcomes.get(id)?.removed === true);
    const refused = chosen.flatMap((id) => {
      const outcome = outcomes.get(id);
      return outcome === undefined || outcome.removed ? [] : [`${id}: ${outcome.reason}`];
    });
    const short = removed.length < count ? `only ${removed.length} of ${count} removable` : undefined;
    const held = [short, ...refused].filter((part) => part !== undefined).join('; ');
    return held === '' ? { removed } : { removed, held };
  } catch (caught) {
    const error = toError(caught);
    return { removed: [], held: `removing failed: ${error.name}: ${error.message}` };
  }
}
