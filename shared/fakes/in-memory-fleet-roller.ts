import { type GroupTarget, targetKey } from '../domain/fleet.ts';
import { instancesOf } from '../domain/roll.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { FleetRoller, RollProgress, RollRequest, RollSettings } from '../ports/fleet-roll.ts';
import { throwIfAborted } from './abort.ts';

export interface InMemoryFleetRollerOptions {
  readonly clock?: Clock;
  /** Milliseconds one batch of replacements takes (launch, boot, warm-up). Default one minute. */
  readonly batchMs?: number;
}

export interface InMemoryFleetRoller extends FleetRoller {
  addGroup(target: GroupTarget, instanceIds: readonly string[]): void;
  /** The group's members now: originals not yet replaced, then their replacements. */
  instanceIds(target: GroupTarget): readonly string[];
  /** A roll someone else started (a console refresh): no name fleetplane would give. */
  startForeignRoll(target: GroupTarget): void;
  /** Every roll `start` began, in order, with the settings it was asked for. */
  started(): readonly { readonly target: GroupTarget; readonly name: string; readonly settings: RollSettings }[];
  /** The next `times` calls of `operation` throw `error` (default: a retryable CloudApiError). */
  failNext(operation: 'start' | 'latest' | 'members', times?: number, error?: Error): void;
}

interface Roll {
  readonly id: string;
  readonly name: string | undefined;
  readonly startedAt: number;
  /** Instances replaced per batch. */
  readonly batch: number;
  /** The members when it started, replaced in this order. */
  readonly originals: readonly string[];
  replaced: number;
  endedAt?: number;
  cancelled?: boolean;
}

interface Group {
  readonly target: GroupTarget;
  members: string[];
  readonly rolls: Roll[];
}

/**
 * A cloud that rolls groups in batches over the injected clock: each batch takes `batchMs` and replaces as many
 * instances as the settings let be down or extra at once (at least one). A roll started while another is under way
 * ends the earlier one as cancelled, as a newer MIG version supersedes an older one.
 */
export function createInMemoryFleetRoller(options: InMemoryFleetRollerOptions = {}): InMemoryFleetRoller {
  const clock = options.clock ?? systemClock;
  const batchMs = options.batchMs ?? 60_000;
  const groups = new Map<string, Group>();
  const startedRolls: { target: GroupTarget; name: string; settings: RollSettings }[] = [];
  const failures: { operation: 'start' | 'latest' | 'members'; error: Error }[] = [];
  let nextRoll = 1;

  const groupOf = (target: GroupTarget, operation: string): Group => {
    const group = groups.get(targetKey(target));
    if (group === undefined) {
      throw new CloudApiError(operation, `group ${targetKey(target)} not found`);
    }
    return group;
  };

  const failIfAsked = (operation: 'start' | 'latest' | 'members') => {
    const index = failures.findIndex((failure) => failure.operation === operation);
    if (index >= 0) {
      const [failure] = failures.splice(index, 1);
      throw failure?.error;
    }
  };

  /** Replays each roll's batches up to now, so state is the same however often it is looked at. */
  const settle = (group: Group) => {
    const now = clock();
    for (const roll of group.rolls) {
      if (roll.endedAt !== undefined) {
        continue;
      }
      const due = Math.min(roll.originals.length, Math.floor((now - roll.startedAt) / batchMs) * roll.batch);
      for (const original of roll.originals.slice(roll.replaced, due)) {
        const at = group.members.indexOf(original);
        if (at >= 0) {
          group.members.splice(at, 1);
          group.members.push(`${original.split('~')[0]}~${roll.id}`);
        }
      }
      roll.replaced = Math.max(roll.replaced, due);
      if (roll.replaced === roll.originals.length) {
        roll.endedAt = roll.startedAt + Math.ceil(roll.originals.length / roll.batch) * batchMs;
      }
    }
  };

  const begin = (group: Group, name: string | undefined, settings: RollSettings): Roll => {
    for (const earlier of group.rolls) {
      if (earlier.endedAt === undefined) {
        earlier.endedAt = clock();
        earlier.cancelled = true;
      }
    }
    const size = group.members.length;
    const roll: Roll = {
      id: `roll-${nextRoll++}`,
      name,
      startedAt: clock(),
      batch: Math.max(1, instancesOf(settings.maxUnavailable, size) + instancesOf(settings.maxSurge, size)),
      originals: [...group.members],
      replaced: 0,
    };
    group.rolls.push(roll);
    return roll;
  };

  return {
    async start(target, request: RollRequest, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'start');
      failIfAsked('start');
      const group = groupOf(target, 'StartRoll');
      settle(group);
      const mine = group.rolls.findLast((roll) => roll.name === request.name);
      if (mine !== undefined) {
        return { started: false, why: 'already-started', roll: progressOf(mine) };
      }
      const underWay = group.rolls.find((roll) => roll.endedAt === undefined);
      if (underWay !== undefined) {
        return { started: false, why: 'busy', roll: progressOf(underWay) };
      }
      const roll = begin(group, request.name, request.settings);
      startedRolls.push({ target, name: request.name, settings: request.settings });
      return { started: true, roll: progressOf(roll) };
    },

    async latest(target, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'latest');
      failIfAsked('latest');
      const group = groupOf(target, 'DescribeRolls');
      settle(group);
      const newest = group.rolls.at(-1);
      return newest === undefined ? undefined : progressOf(newest);
    },

    async members(target, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'members');
      failIfAsked('members');
      const group = groupOf(target, 'DescribeGroup');
      settle(group);
      return [...group.members];
    },

    addGroup(target, instanceIds) {
      groups.set(targetKey(target), { target, members: [...instanceIds], rolls: [] });
    },

    instanceIds(target) {
      const group = groupOf(target, 'instanceIds');
      settle(group);
      return [...group.members];
    },

    startForeignRoll(target) {
      const group = groupOf(target, 'startForeignRoll');
      settle(group);
      begin(group, undefined, { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } });
    },

    started: () => startedRolls.map((entry) => ({ ...entry })),

    failNext(operation, times = 1, error = new CloudApiError(operation, 'injected fault', { retryable: true })) {
      for (let i = 0; i < times; i++) {
        failures.push({ operation, error });
      }
    },
  };
}

function progressOf(roll: Roll): RollProgress {
  const total = roll.originals.length;
  const remaining = total - roll.replaced;
  return {
    id: roll.id,
    state: roll.endedAt === undefined ? 'in-progress' : roll.cancelled === true ? 'cancelled' : 'succeeded',
    startedAt: roll.startedAt,
    ...(roll.endedAt === undefined ? {} : { endedAt: roll.endedAt }),
    remaining,
    percentComplete: total === 0 ? 100 : Math.floor((roll.replaced * 100) / total),
  };
}
