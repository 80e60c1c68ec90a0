import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueName } from '../../shared/domain/queues.ts';
import type { BusyReading, BusySignal } from '../../shared/ports/busy-signal.ts';
import type { Clock } from '../../shared/ports/clock.ts';

/** One executor as its source reports it: running jobs per queue it listens to. */
export interface ReportedExecutor {
  readonly name: string;
  readonly running: Readonly<Partial<Record<QueueName, number>>>;
}

export interface BusySignalSubject {
  readonly signal: BusySignal;
  /** From the next read on, the source reports exactly these executors. */
  report(executors: readonly ReportedExecutor[]): void;
  /** The source fails (down, erroring) until the next `report`. */
  fail(): void;
  close?(): Promise<void>;
}

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const A = 'ip-10-0-0-1-6f1c2d7e-3b7a-4c1e-9a51-0d2f4b8e9c10';
const B = 'ip-10-0-0-2-0a9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c';

const known = (reading: BusyReading) => {
  if (!reading.known) {
    throw new Error(`expected a known reading, got unknown: ${reading.reason}`);
  }
  return reading;
};

/**
 * What every busy signal and the in-memory fake must do alike (style.md #12): running jobs per executor summed over
 * its queues, a fresh answer per read, and unknown (never a throw) whenever the source cannot be read.
 */
export function defineBusySignalContract(
  name: string,
  makeSubject: (clock: Clock) => BusySignalSubject | Promise<BusySignalSubject>,
): void {
  describe(`BusySignal contract: ${name}`, () => {
    let now: number;
    let subject: BusySignalSubject;
    beforeEach(async () => {
      now = T0;
      subject = await makeSubject(() => now);
    });
    afterEach(async () => {
      await subject.close?.();
    });

    it('reads the running jobs of every executor, summed over its queues, stamped with the clock', async () => {
      // Prepare
      subject.report([
        { name: A, running: { codeintel: 2, batches: 1 } },
        { name: B, running: { codeintel: 0 } },
      ]);
      now = T0 + 5_000;

      // Act
      const reading = known(await subject.signal.read());

      // Assess: an idle executor is in the map with 0, which is what lets scale-in vouch for its instance
      expect(reading.runningJobs).toEqual(
        new Map([
          [A, 3],
          [B, 0],
        ]),
      );
      expect(reading.observedAt).toBe(T0 + 5_000);
    });

    it('answers each read afresh, and drops an executor that stopped reporting', async () => {
      // Prepare
      subject.report([
        { name: A, running: { codeintel: 1 } },
        { name: B, running: { codeintel: 4 } },
      ]);
      const before = known(await subject.signal.read());

      // Act
      subject.report([{ name: A, running: { codeintel: 0 } }]);
      const after = known(await subject.signal.read());

      // Assess: the earlier reading is a snapshot, not a view
      expect(before.runningJobs).toEqual(
        new Map([
          [A, 1],
          [B, 4],
        ]),
      );
      expect(after.runningJobs).toEqual(new Map([[A, 0]]));
    });

    it('keeps executor names exactly as reported', async () => {
      // Prepare
      const odd = 'host "with" \\ odd\ncharacters-1';
      subject.report([{ name: odd, running: { batches: 2 } }]);

      // Act
      const reading = known(await subject.signal.read());

      // Assess
      expect([...reading.runningJobs]).toEqual([[odd, 2]]);
    });

    it('answers unknown, without throwing, while the source fails, and known again once it recovers', async () => {
      // Prepare
      subject.report([{ name: A, running: { codeintel: 1 } }]);
      subject.fail();

      // Act
      const failed = await subject.signal.read();
      subject.report([{ name: A, running: { codeintel: 1 } }]);
      const recovered = await subject.signal.read();

      // Assess
      expect(failed).toEqual({ known: false, reason: expect.stringMatching(/\S/) });
      expect(recovered).toEqual({ known: true, observedAt: T0, runningJobs: new Map([[A, 1]]) });
    });

    it('answers unknown when no executor reports at all, rather than a guessed idle fleet', async () => {
      // Prepare
      subject.report([]);

      // Act
      const reading = await subject.signal.read();

      // Assess
      expect(reading.known).toBe(false);
    });

    it('answers unknown, without throwing, when the deadline has already passed', async () => {
      // Prepare
      subject.report([{ name: A, running: { codeintel: 1 } }]);
      const signal = AbortSignal.abort(new Error('cycle budget spent'));

      // Act
      const reading = await subject.signal.read({ signal });

      // Assess
      expect(reading).toEqual({ known: false, reason: expect.stringMatching(/time budget/) });
    });
  });
}
