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
  /** Epoch ms the roll ended (the cloud's end time, or when it was first seen ended); absent while it runs. */
  readonly until?: number;
  /** Its length so far. */
  readonly ms: number;
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
  /** Epoch ms to stop watching by, whether or not the rolls have ended. */
  readonly until: number;
  /** Milliseconds between progress reads. */
  readonly pollMs: number;
}

/** The fleets a rotation rolls: those with a group and roll settings (a fleet can opt out with `roll: false`). */
export function rollTargetsOf(fleets: readonly Fleet[]): RollTarget[] {
  return fleets.flatMap((fleet) =>
    fleet.target === undefined || fleet.roll === undefined
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
 * Follows the rolls until they all end or `until` comes, logging each one's progress at every read, and measures how
 * long each fleet's executors were refused: from the token switch until its roll ended.
 */
export async function watchRolls(
  deps: FleetRollDeps,
  rolls: readonly FleetRoll[],
  options: WatchOptions,
): Promise<FleetRoll[]> {
  const log = deps.logger.child({ module: 'fleet-roll' });
  const targets = new Map(deps.fleets.map((fleet) => [fleet.fleet, fleet.target]));
  /** When a roll without an end time of its own was first seen ended. */
  const seenEnded = new Map<string, number>();
  let current = rolls.map((roll) => withWindow(roll, options.switchedAt, deps.clock(), seenEnded));
  while (current.some(running) && deps.clock() + options.pollMs <= options.until && !options.signal?.aborted) {
    await deps.sleep(options.pollMs, options.signal);
    current = await Promise.all(
      current.map(async (roll) => {
        const target = targets.get(roll.fleet);
        if (roll.outcome === 'failed' || roll.roll.state !== 'in-progress' || target === undefined) {
          return roll;
        }
        try {
          const latest = await deps.roller.latest(target, options);
          const progress: RollProgress =
            latest?.id === roll.roll.id
              ? latest
              : { ...roll.roll, state: 'cancelled', reason: `superseded by ${latest?.id ?? 'nothing'}` };
          if (progress.state !== 'in-progress' && progress.endedAt === undefined) {
            seenEnded.set(roll.fleet, seenEnded.get(roll.fleet) ?? deps.clock());
          }
          const next = withWindow({ ...roll, roll: progress }, options.switchedAt, deps.clock(), seenEnded);
          log.info('fleet roll progress', {
            fleet: roll.fleet,
            roll: progress.id,
            state: progress.state,
            remaining: progress.remaining,
            percentComplete: progress.percentComplete,
            ...(progress.reason === undefined ? {} : { reason: progress.reason }),
            ...(next.outcome !== 'failed' && next.rejectionWindow !== undefined
              ? { rejectedMs: next.rejectionWindow.ms }
              : {}),
          });
          return next;
        } catch (caught) {
          // A failed read says nothing about the roll, which goes on in the cloud: keep the last progress seen.
          log.warn('fleet roll progress unknown', { fleet: roll.fleet, error: toError(caught).message });
          return roll;
        }
      }),
    );
  }
  return current;
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

function running(roll: FleetRoll): boolean {
  return roll.outcome !== 'failed' && roll.roll.state === 'in-progress';
}

function withWindow(
  roll: FleetRoll,
  switchedAt: number | undefined,
  now: number,
  seenEnded: ReadonlyMap<string, number>,
): FleetRoll {
  if (roll.outcome === 'failed' || switchedAt === undefined) {
    return roll;
  }
  const until = roll.roll.state === 'in-progress' ? undefined : (roll.roll.endedAt ?? seenEnded.get(roll.fleet) ?? now);
  const ms = Math.max(0, (until ?? now) - switchedAt);
  return { ...roll, rejectionWindow: { from: switchedAt, ...(until === undefined ? {} : { until }), ms } };
}
