import type { Fleet, GroupTarget } from '../domain/fleet.ts';
import { targetKey } from '../domain/fleet.ts';
import { toError } from '../domain/guards.ts';
import type { RollSettings } from '../domain/roll.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock, Sleep } from '../ports/clock.ts';
import type { FleetRoller, RollProgress } from '../ports/fleet-roll.ts';
import type { Logger } from '../ports/logger.ts';

/** A fleet whose group is rolled after a rotation. */
export interface RollTarget {
  readonly fleet: string;
  readonly target: GroupTarget;
  readonly settings: RollSettings;
}

export interface FleetRollDeps {
  readonly roller: FleetRoller;
  readonly fleets: readonly RollTarget[];
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly logger: Logger;
}

/** The span in which this fleet's executors ran with a token Sourcegraph no longer accepted. */
export interface RejectionWindow {
  /** Epoch ms Sourcegraph switched to the new token. */
  readonly from: number;
  /** Epoch ms it ended; absent while instances that booted with the old token remain. */
  readonly until?: number;
  /** Its length so far. */
  readonly ms: number;
  /**
   * `instances`: until the last instance present when the token became current left the group (seen at a poll).
   * `roll`: those instances were not known (the group could not be read then, or an earlier run switched), so until
   * the roll ended, an upper bound.
   */
  readonly basis: 'instances' | 'roll';
}

/**
 * What became of one fleet's roll: `started` now, `already-started` by an earlier run of this rotation, `busy` (a roll
 * someone else started was under way, so this fleet may keep instances that booted with the old token: run the
 * rotation again once it ends), or `failed` to start or to be read.
 */
export type FleetRoll =
  | {
      readonly fleet: string;
      readonly group: string;
      readonly outcome: 'started' | 'already-started' | 'busy';
      readonly roll: RollProgress;
      readonly rejectionWindow?: RejectionWindow;
    }
  | { readonly fleet: string; readonly group: string; readonly outcome: 'failed'; readonly error: string };

export interface WatchOptions extends CallOptions {
  /** Epoch ms Sourcegraph switched tokens, when this run did it: each fleet's rejection window starts there. */
  readonly switchedAt?: number;
  /** Per fleet, the instances there when the token became current (`membersNow`): they booted with the old one. */
  readonly oldMembers?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Epoch ms to stop watching by, whether or not the rolls have ended. */
  readonly until: number;
  /** Milliseconds between progress reads. */
  readonly pollMs: number;
}

/**
 * The fleets a rotation run on `cloud` rolls: those with a group there and roll settings (`roll: false` opts out).
 * Fleets on the other cloud are logged: their executors need the new token too, and only a rotation run there (or a
 * roll by hand) replaces them.
 */
export function rollTargetsOf(fleets: readonly Fleet[], cloud: GroupTarget['cloud'], logger: Logger): RollTarget[] {
  const elsewhere = fleets.filter((fleet) => fleet.roll !== undefined && fleet.target?.cloud !== cloud);
  if (elsewhere.length > 0) {
    logger.warn('fleets on another cloud are not rolled by this rotation; replace their instances there', {
      module: 'fleet-roll',
      fleets: elsewhere.map((fleet) => fleet.name),
    });
  }
  return fleets.flatMap((fleet) =>
    fleet.target?.cloud !== cloud || fleet.roll === undefined
      ? []
      : [{ fleet: fleet.name, target: fleet.target, settings: fleet.roll }],
  );
}

/**
 * Starts every fleet's roll for `rotation`, each on its own: one group that cannot be rolled does not keep the others
 * on the old token. A roll this rotation started before (a run killed after starting it) is answered, not restarted.
 */
export async function rollFleets(
  deps: FleetRollDeps,
  request: { readonly rotation: string; readonly notBefore?: number },
  options: CallOptions = {},
): Promise<FleetRoll[]> {
  const log = deps.logger.child({ module: 'fleet-roll', rotation: request.rotation });
  return Promise.all(
    deps.fleets.map(async ({ fleet, target, settings }): Promise<FleetRoll> => {
      const group = targetKey(target);
      try {
        const start = await deps.roller.start(
          target,
          {
            name: request.rotation,
            settings,
            ...(request.notBefore === undefined ? {} : { notBefore: request.notBefore }),
          },
          options,
        );
        const outcome = start.started ? 'started' : start.why;
        const line = { fleet, group, outcome, roll: start.roll.id, remaining: start.roll.remaining, settings };
        if (outcome === 'busy') {
          log.warn('fleet roll not started: another roll is under way; run the rotation again once it ends', line);
        } else {
          log.info('fleet roll', line);
        }
        return { fleet, group, outcome, roll: start.roll };
      } catch (caught) {
        const error = toError(caught).message;
        log.error('fleet roll failed to start', { fleet, group, error });
        return { fleet, group, outcome: 'failed', error };
      }
    }),
  );
}

/**
 * The instances of each fleet now, as the token becomes current: they booted with the old one. A fleet whose group
 * cannot be read is left out, and its rejection window falls back to the roll's end.
 */
export async function membersNow(
  deps: FleetRollDeps,
  options: CallOptions = {},
): Promise<ReadonlyMap<string, ReadonlySet<string>>> {
  const read = await Promise.all(
    deps.fleets.map(async ({ fleet, target }) => {
      try {
        return [[fleet, new Set(await deps.roller.members(target, options))] as const];
      } catch (caught) {
        deps.logger.warn('fleet members unknown', { module: 'fleet-roll', fleet, error: toError(caught).message });
        return [];
      }
    }),
  );
  return new Map(read.flat());
}

interface Watched {
  roll: FleetRoll;
  /** Instances that booted with the old token and are still there; undefined when not known. */
  readonly old?: Set<string>;
  /** When the last of them was first seen gone. */
  refusedUntil?: number;
  /** When a roll without an end time of its own was first seen ended. */
  rollEndSeen?: number;
}

/**
 * Follows the rolls until they all end or `until` comes, logging each one's progress at every read, and measures how
 * long each fleet's executors were refused: from the token switch until the last instance that booted with the old
 * token left the group (to within one poll), or, where those instances are not known, until the roll ended.
 */
export async function watchRolls(
  deps: FleetRollDeps,
  rolls: readonly FleetRoll[],
  options: WatchOptions,
): Promise<FleetRoll[]> {
  const log = deps.logger.child({ module: 'fleet-roll' });
  const targets = new Map(deps.fleets.map((fleet) => [fleet.fleet, fleet.target]));
  const watched: Watched[] = rolls.map((roll) => {
    const old = options.oldMembers?.get(roll.fleet);
    return old === undefined
      ? { roll }
      : { roll, old: new Set(old), ...(old.size === 0 ? { refusedUntil: options.switchedAt ?? deps.clock() } : {}) };
  });
  const pending = (entry: Watched) =>
    entry.roll.outcome !== 'failed' &&
    (entry.roll.roll.state === 'in-progress' || (entry.old !== undefined && entry.refusedUntil === undefined));
  while (watched.some(pending) && deps.clock() + options.pollMs <= options.until && !options.signal?.aborted) {
    await deps.sleep(options.pollMs, options.signal);
    await Promise.all(
      watched.map(async (entry) => {
        const target = targets.get(entry.roll.fleet);
        if (!pending(entry) || target === undefined) {
          return;
        }
        await follow(deps, entry, target, options, log);
      }),
    );
  }
  return watched.map((entry) => withWindow(entry, options.switchedAt, deps.clock()));
}

/** One poll of one fleet: its roll's progress, and which old instances are left. */
async function follow(
  deps: FleetRollDeps,
  entry: Watched,
  target: GroupTarget,
  options: CallOptions,
  log: Logger,
): Promise<void> {
  const { roll } = entry;
  if (roll.outcome === 'failed') {
    return;
  }
  const fleet = roll.fleet;
  try {
    if (roll.roll.state === 'in-progress') {
      const latest = await deps.roller.latest(target, options);
      const progress: RollProgress =
        latest?.id === roll.roll.id
          ? latest
          : { ...roll.roll, state: 'cancelled', reason: `superseded by ${latest?.id ?? 'nothing'}` };
      if (progress.state !== 'in-progress' && progress.endedAt === undefined) {
        entry.rollEndSeen ??= deps.clock();
      }
      entry.roll = { ...roll, roll: progress };
    }
    if (entry.old !== undefined && entry.refusedUntil === undefined) {
      const now = new Set(await deps.roller.members(target, options));
      for (const id of entry.old) {
        if (!now.has(id)) {
          entry.old.delete(id);
        }
      }
      if (entry.old.size === 0) {
        entry.refusedUntil = deps.clock();
      }
    }
  } catch (caught) {
    // A failed read says nothing about the roll, which goes on in the cloud: keep the last progress seen.
    log.warn('fleet roll progress unknown', { fleet, error: toError(caught).message });
    return;
  }
  const progress = entry.roll.outcome === 'failed' ? undefined : entry.roll.roll;
  log.info('fleet roll progress', {
    fleet,
    roll: progress?.id,
    state: progress?.state,
    remaining: progress?.remaining,
    percentComplete: progress?.percentComplete,
    ...(progress?.reason === undefined ? {} : { reason: progress.reason }),
    ...(entry.old === undefined ? {} : { refusedInstances: entry.old.size }),
  });
}

/**
 * A fleet's roll that has not ended, if any. A new token must not be switched to while one runs: the instances it
 * launches would boot with the token about to be replaced, and its end would look like this rotation's.
 */
export async function rollUnderWay(
  deps: FleetRollDeps,
  options: CallOptions = {},
): Promise<{ readonly fleet: string; readonly roll: RollProgress } | undefined> {
  const latest = await Promise.all(
    deps.fleets.map(async ({ fleet, target }) => ({ fleet, roll: await deps.roller.latest(target, options) })),
  );
  for (const { fleet, roll } of latest) {
    if (roll?.state === 'in-progress') {
      return { fleet, roll };
    }
  }
  return undefined;
}

function withWindow(entry: Watched, switchedAt: number | undefined, now: number): FleetRoll {
  const { roll } = entry;
  if (roll.outcome === 'failed' || switchedAt === undefined) {
    return roll;
  }
  const until =
    entry.old !== undefined
      ? entry.refusedUntil
      : roll.roll.state === 'in-progress'
        ? undefined
        : (roll.roll.endedAt ?? entry.rollEndSeen ?? now);
  const ms = Math.max(0, (until ?? now) - switchedAt);
  const basis = entry.old === undefined ? 'roll' : 'instances';
  return { ...roll, rejectionWindow: { from: switchedAt, ...(until === undefined ? {} : { until }), ms, basis } };
}
