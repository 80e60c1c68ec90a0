import { beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/ports/clock.ts';
import { MetricsPublishError, MetricsReadError } from '../../shared/ports/errors.ts';
import type { RemovalLedger } from '../../shared/ports/removal-ledger.ts';

/** Minute-aligned, so windows mean the same to a store that sums whole minutes as to an exact one. */
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const MINUTE = 60_000;
const ENV = 'prod';

/**
 * What every removal ledger and the in-memory fake do alike. `makeSubject` receives the clock that stands for the
 * store's receive time.
 */
export function defineRemovalLedgerContract(name: string, makeSubject: (clock: Clock) => RemovalLedger): void {
  describe(`RemovalLedger contract: ${name}`, () => {
    let now: number;
    let ledger: RemovalLedger;
    const recordAt = async (time: number, fleet: string, count: number, environment = ENV) => {
      now = time;
      await ledger.record({ fleet, environment, count });
    };
    beforeEach(() => {
      now = T0;
      ledger = makeSubject(() => now);
    });

    it('sums each fleet’s removals within the window, and answers 0 for a fleet with none', async () => {
      // Prepare: two removals of codeintel in different minutes, one of batches
      await recordAt(T0 + 10_000, 'codeintel', 2);
      await recordAt(T0 + 70_000, 'codeintel', 3);
      await recordAt(T0 + 80_000, 'batches', 1);

      // Act
      const removed = await ledger.removed(['codeintel', 'batches', 'idle'], ENV, T0, T0 + 3 * MINUTE);

      // Assess
      expect(removed).toEqual(
        new Map([
          ['codeintel', 5],
          ['batches', 1],
          ['idle', 0],
        ]),
      );
    });

    it('leaves out removals from whole minutes before the window, and from other environments', async () => {
      // Prepare
      await recordAt(T0 + 10_000, 'codeintel', 4);
      await recordAt(T0 + 3 * MINUTE + 10_000, 'codeintel', 1);
      await recordAt(T0 + 3 * MINUTE + 20_000, 'codeintel', 7, 'staging');

      // Act
      const removed = await ledger.removed(['codeintel'], ENV, T0 + 2 * MINUTE, T0 + 4 * MINUTE);

      // Assess
      expect(removed.get('codeintel')).toBe(1);
    });

    it('refuses a count that is not a whole number above 0 and stores nothing', async () => {
      // Act
      const attempts = [0, -1, 1.5, Number.NaN].map((count) =>
        ledger.record({ fleet: 'codeintel', environment: ENV, count }).catch((error: unknown) => error),
      );

      // Assess
      for (const error of await Promise.all(attempts)) {
        expect(error).toBeInstanceOf(MetricsPublishError);
      }
      expect(await ledger.removed(['codeintel'], ENV, T0 - MINUTE, T0 + MINUTE)).toEqual(new Map([['codeintel', 0]]));
    });

    it('refuses an empty or inverted window', async () => {
      // Act
      const error = await ledger.removed(['codeintel'], ENV, T0, T0).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(MetricsReadError);
    });
  });
}
