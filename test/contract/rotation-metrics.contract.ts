import { beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/ports/clock.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import type { RotationMetrics, RotationOutcome } from '../../shared/ports/rotation-metrics.ts';

/** One value as the store holds it, in the same terms for every store. */
export interface StoredRotationValue {
  readonly metric: 'succeeded' | 'failed' | 'duration-ms';
  readonly environment: string;
  readonly value: number;
  /** Epoch ms the store holds the value at. */
  readonly at: number;
}

export interface RotationMetricsSubject {
  readonly metrics: RotationMetrics;
  /** Everything the store holds, in any order, read back through the store's own view. */
  stored(): readonly StoredRotationValue[];
  /** The store fails every later call of this subject with a throttle or server fault; absent where none can. */
  readonly failStore?: () => void;
}

export interface RotationMetricsContractOptions {
  /**
   * `false` for a store whose failures the adapter never sees: EMF lines go to stdout, and Node's console drops
   * errors writing to its stream. Such a subject has no `failStore`.
   */
  readonly storeCanFail: boolean;
}

const MINUTE = 60_000;
/**
 * A whole minute, an hour ago: whole seconds, so a store that keeps whole seconds holds exactly these times, and
 * recent, since CloudWatch drops EMF timestamps more than 14 days old (Powertools warns about them).
 */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;
const ENV = 'prod';

const outcome = (overrides: Partial<RotationOutcome> = {}): RotationOutcome => ({
  environment: ENV,
  at: T0,
  succeeded: true,
  durationMs: 1_234.5,
  ...overrides,
});

const keyOf = (value: StoredRotationValue) => `${value.environment}/${value.metric}`;
const byKey = (a: StoredRotationValue, b: StoredRotationValue) => keyOf(a).localeCompare(keyOf(b));

/** Each series' values, oldest first. */
function seriesOf(values: readonly StoredRotationValue[]): Map<string, number[]> {
  const series = new Map<string, number[]>();
  for (const value of [...values].sort((a, b) => a.at - b.at)) {
    series.set(keyOf(value), [...(series.get(keyOf(value)) ?? []), value.value]);
  }
  return series;
}

/**
 * What every rotation-metrics store and the in-memory fake do alike (style.md #12). `makeSubject` receives the clock
 * that stands for the store's "now": each publish happens at the rotation's own end.
 */
export function defineRotationMetricsContract(
  name: string,
  makeSubject: (clock: Clock) => RotationMetricsSubject,
  options: RotationMetricsContractOptions = { storeCanFail: true },
): void {
  describe(`RotationMetrics contract: ${name}`, () => {
    let now: number;
    let subject: RotationMetricsSubject;
    const publish = async (published: RotationOutcome, callOptions?: { signal?: AbortSignal }) => {
      now = published.at;
      await subject.metrics.publish(published, callOptions);
    };
    beforeEach(() => {
      now = T0;
      subject = makeSubject(() => now);
    });

    it('publishes a rotation that succeeded as succeeded 1, failed 0 and its duration, at its end', async () => {
      // Act
      await publish(outcome());

      // Assess
      const expected: StoredRotationValue[] = [
        { metric: 'succeeded', environment: ENV, value: 1, at: T0 },
        { metric: 'failed', environment: ENV, value: 0, at: T0 },
        { metric: 'duration-ms', environment: ENV, value: 1_234.5, at: T0 },
      ];
      expect([...subject.stored()].sort(byKey)).toEqual(expected.sort(byKey));
    });

    it('publishes a rotation that failed as failed 1 and succeeded 0, so a sum over any window sees it', async () => {
      // Act: failed before it took any time
      await publish(outcome({ succeeded: false, durationMs: 0 }));

      // Assess
      const expected: StoredRotationValue[] = [
        { metric: 'succeeded', environment: ENV, value: 0, at: T0 },
        { metric: 'failed', environment: ENV, value: 1, at: T0 },
        { metric: 'duration-ms', environment: ENV, value: 0, at: T0 },
      ];
      expect([...subject.stored()].sort(byKey)).toEqual(expected.sort(byKey));
    });

    it('adds each rotation to the same series, oldest first', async () => {
      // Prepare
      await publish(outcome({ durationMs: 900 }));

      // Act
      await publish(outcome({ at: T0 + MINUTE, succeeded: false, durationMs: 30_000 }));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get(`${ENV}/succeeded`)).toEqual([1, 0]);
      expect(series.get(`${ENV}/failed`)).toEqual([0, 1]);
      expect(series.get(`${ENV}/duration-ms`)).toEqual([900, 30_000]);
      expect(series.size).toBe(3);
    });

    it('keeps environments apart, even at one instant', async () => {
      // Act
      await publish(outcome({ environment: 'prod' }));
      await publish(outcome({ environment: 'staging', succeeded: false, durationMs: 50 }));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get('prod/succeeded')).toEqual([1]);
      expect(series.get('prod/failed')).toEqual([0]);
      expect(series.get('prod/duration-ms')).toEqual([1_234.5]);
      expect(series.get('staging/succeeded')).toEqual([0]);
      expect(series.get('staging/failed')).toEqual([1]);
      expect(series.get('staging/duration-ms')).toEqual([50]);
    });

    it.each<[string, RotationOutcome]>([
      ['an empty environment', outcome({ environment: '' })],
      ['a blank environment', outcome({ environment: ' \t' })],
      ['an invalid time', outcome({ at: Number.NaN })],
      ['a time before 1970', outcome({ at: -1 })],
      ['an infinite time', outcome({ at: Number.POSITIVE_INFINITY })],
      ['a negative duration', outcome({ durationMs: -1 })],
      ['a NaN duration', outcome({ durationMs: Number.NaN })],
      ['an infinite duration', outcome({ durationMs: Number.POSITIVE_INFINITY })],
    ])('refuses %s before anything is sent', async (_, refused) => {
      // Act
      const attempt = subject.metrics.publish(refused).catch((error: unknown) => error);

      // Assess
      expect(await attempt).toBeInstanceOf(MetricsPublishError);
      expect(subject.stored()).toEqual([]);
    });

    if (options.storeCanFail) {
      it('reports a store that fails as a retryable MetricsPublishError', async () => {
        // Prepare
        if (subject.failStore === undefined) {
          throw new Error(`${name}: a store that can fail needs failStore`);
        }
        subject.failStore();

        // Act
        const attempt = publish(outcome()).catch((error: unknown) => error);

        // Assess
        expect(await attempt).toMatchObject({ name: 'MetricsPublishError', retryable: true });
        expect(await attempt).toBeInstanceOf(MetricsPublishError);
        expect(subject.stored()).toEqual([]);
      });
    }

    it('refuses a call whose deadline has already passed', async () => {
      // Prepare
      const signal = AbortSignal.abort(new Error('rotation budget spent'));

      // Act
      const attempt = publish(outcome(), { signal });

      // Assess
      await expect(attempt).rejects.toThrow();
      expect(subject.stored()).toEqual([]);
    });
  });
}
