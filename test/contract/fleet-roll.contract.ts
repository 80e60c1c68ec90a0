import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupTarget } from '../../shared/domain/fleet.ts';
import { CloudApiError } from '../../shared/ports/errors.ts';
import type { FleetRoller, RollProgress, RollSettings } from '../../shared/ports/fleet-roll.ts';

export interface FleetRollerSubject {
  readonly roller: FleetRoller;
  /** A group that exists with `size` in-service instances. */
  readonly target: GroupTarget;
  /** A group that does not exist. */
  readonly missing: GroupTarget;
  /** The backend's clock, epoch milliseconds. */
  now(): number;
  /** Simulated time passes; the cloud makes progress on its rolls. */
  advance(ms: number): Promise<void>;
  /** The group's members now, in any state but gone. */
  instanceIds(): Promise<readonly string[]>;
  /** A roll someone else starts: a console instance refresh, a MIG version change. */
  startForeignRoll(): Promise<void>;
  close(): Promise<void>;
}

const SIZE = 3;
const ONE_AT_A_TIME: RollSettings = { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } };
const ALL_AT_ONCE: RollSettings = { maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } };
/** Generous: the slowest backend replaces one instance a few simulated minutes at most. */
const STEP_MS = 30_000;
const MAX_STEPS = 200;

/** What every fleet roller and the in-memory fake do alike; each subject brings its own backend and clock. */
export function defineFleetRollerContract(
  name: string,
  makeSubject: (seed: { readonly size: number }) => Promise<FleetRollerSubject>,
): void {
  describe(`FleetRoller contract: ${name}`, () => {
    let subject: FleetRollerSubject;
    beforeEach(async () => {
      subject = await makeSubject({ size: SIZE });
    });
    afterEach(async () => {
      await subject.close();
    });

    /** Lets simulated time pass until the group's newest roll ends, and answers it. */
    const untilEnded = async (): Promise<RollProgress> => {
      for (let step = 0; step < MAX_STEPS; step++) {
        const roll = await subject.roller.latest(subject.target);
        if (roll !== undefined && roll.state !== 'in-progress') {
          return roll;
        }
        await subject.advance(STEP_MS);
      }
      throw new Error(`the roll did not end within ${(MAX_STEPS * STEP_MS) / 60_000} simulated minutes`);
    };

    it('answers no roll for a group that never had one', async () => {
      // Act
      const latest = await subject.roller.latest(subject.target);

      // Assess
      expect(latest).toBeUndefined();
    });

    it('replaces every instance and keeps the size, reporting progress until it succeeds', async () => {
      // Prepare
      const before = await subject.instanceIds();

      // Act
      const start = await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore: subject.now(),
        settings: ONE_AT_A_TIME,
      });
      const ended = await untilEnded();

      // Assess
      expect(start).toMatchObject({
        started: true,
        roll: { state: 'in-progress', remaining: SIZE, percentComplete: 0 },
      });
      expect(ended).toMatchObject({ id: start.roll.id, state: 'succeeded', remaining: 0, percentComplete: 100 });
      const after = await subject.instanceIds();
      expect(after).toHaveLength(SIZE);
      expect(after.filter((id) => before.includes(id))).toEqual([]);
    });

    it('starts nothing twice: the same roll again is answered, in progress and after it ended', async () => {
      // Prepare
      const notBefore = subject.now();
      const first = await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore,
        settings: ALL_AT_ONCE,
      });
      await subject.advance(1_000);

      // Act
      const again = await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore,
        settings: ALL_AT_ONCE,
      });
      const ended = await untilEnded();
      const afterEnd = await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore,
        settings: ALL_AT_ONCE,
      });

      // Assess
      expect(again).toMatchObject({ started: false, why: 'already-started', roll: { id: first.roll.id } });
      expect(ended.id).toBe(first.roll.id);
      expect(afterEnd).toMatchObject({ started: false, why: 'already-started', roll: { id: first.roll.id } });
      expect(afterEnd.roll.state).toBe('succeeded');
    });

    it('does not start while someone else’s roll is under way, and answers that roll', async () => {
      // Prepare
      await subject.startForeignRoll();
      await subject.advance(1_000);

      // Act
      const start = await subject.roller.start(subject.target, {
        name: 'rotation-2',
        notBefore: subject.now(),
        settings: ALL_AT_ONCE,
      });

      // Assess
      expect(start).toMatchObject({ started: false, why: 'busy', roll: { state: 'in-progress' } });
      expect(await subject.roller.latest(subject.target)).toMatchObject({ id: start.roll.id });
    });

    it('starts a new roll once an earlier one has ended', async () => {
      // Prepare
      await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore: subject.now(),
        settings: ALL_AT_ONCE,
      });
      const first = await untilEnded();
      await subject.advance(1_000);

      // Act
      const second = await subject.roller.start(subject.target, {
        name: 'rotation-2',
        notBefore: subject.now(),
        settings: ALL_AT_ONCE,
      });

      // Assess
      expect(second).toMatchObject({ started: true, roll: { state: 'in-progress' } });
      expect(second.roll.id).not.toBe(first.id);
    });

    it('lists the group’s members as they are now, before and after a roll', async () => {
      // Prepare
      const before = await subject.instanceIds();

      // Act
      const membersBefore = await subject.roller.members(subject.target);
      await subject.roller.start(subject.target, {
        name: 'rotation-1',
        notBefore: subject.now(),
        settings: ALL_AT_ONCE,
      });
      await untilEnded();
      const membersAfter = await subject.roller.members(subject.target);

      // Assess
      expect([...membersBefore].sort()).toEqual([...before].sort());
      expect([...membersAfter].sort()).toEqual([...(await subject.instanceIds())].sort());
      expect(membersAfter.filter((id) => before.includes(id))).toEqual([]);
    });

    it('refuses a group that does not exist, as a fault that retrying will not fix', async () => {
      // Act
      const attempt = subject.roller.start(subject.missing, {
        name: 'rotation-1',
        notBefore: subject.now(),
        settings: ALL_AT_ONCE,
      });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(CloudApiError);
      await expect(attempt).rejects.toMatchObject({ retryable: false });
      await expect(subject.roller.members(subject.missing)).rejects.toMatchObject({ retryable: false });
    });
  });
}
