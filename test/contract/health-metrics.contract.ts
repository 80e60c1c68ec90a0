import { beforeEach, describe, expect, it } from 'vitest';
import { HEALTH_CLASSES, type HealthClass } from '../../shared/domain/health.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import type { HealthCounts, HealthMetrics } from '../../shared/ports/health-metrics.ts';

/** One value as the store holds it, in the same terms for every store. */
export type StoredHealthValue =
  | {
      readonly metric: 'fleet-instances';
      readonly environment: string;
      readonly fleet: string;
      readonly health: HealthClass;
      readonly value: number;
      /** Epoch ms the store holds the value at. */
      readonly at: number;
    }
  | {
      readonly metric: 'unexplained-executors';
      readonly environment: string;
      readonly value: number;
      readonly at: number;
    };

export interface HealthMetricsSubject {
  readonly metrics: HealthMetrics;
  /** Everything the store holds, in any order, read back through the store's own view. */
  stored(): readonly StoredHealthValue[];
  /** The store fails every later call of this subject with a throttle or server fault. */
  failStore(): void;
}

/** Whole seconds, so a store that keeps whole seconds holds exactly these times. */
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const MINUTE = 60_000;
const ENV = 'prod';

type PerClass = Record<HealthClass, number>;
const none: PerClass = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
const counts = (
  fleets: Readonly<Record<string, Partial<PerClass>>>,
  unexplainedExecutors = 0,
  at = T0,
  environment = ENV,
): HealthCounts => ({
  environment,
  at,
  fleets: Object.entries(fleets).map(([fleet, some]) => ({ fleet, counts: { ...none, ...some } })),
  unexplainedExecutors,
});
/** `n` fleets, each with one instance per class. */
const manyFleets = (n: number): Record<string, Partial<PerClass>> =>
  Object.fromEntries(
    Array.from({ length: n }, (_, index) => [`fleet-${index}`, { booting: 1, healthy: 1, orphan: 1, stale: 1 }]),
  );

const keyOf = (value: StoredHealthValue) =>
  value.metric === 'fleet-instances'
    ? `${value.environment}/${value.fleet}/${value.health}`
    : `${value.environment}/unexplained`;

const byKey = (a: StoredHealthValue, b: StoredHealthValue) => keyOf(a).localeCompare(keyOf(b));

/** Each series' values, oldest first. */
function seriesOf(values: readonly StoredHealthValue[]): Map<string, number[]> {
  const series = new Map<string, number[]>();
  for (const value of [...values].sort((a, b) => a.at - b.at)) {
    series.set(keyOf(value), [...(series.get(keyOf(value)) ?? []), value.value]);
  }
  return series;
}

/**
 * What every health-metrics store and the in-memory fake do alike (style.md #12). `makeSubject` receives the clock
 * that stands for the store's "now": each publish happens at the check's own time.
 */
export function defineHealthMetricsContract(name: string, makeSubject: (clock: Clock) => HealthMetricsSubject): void {
  describe(`HealthMetrics contract: ${name}`, () => {
    let now: number;
    let subject: HealthMetricsSubject;
    const publish = async (published: HealthCounts, options?: { signal?: AbortSignal }) => {
      now = published.at;
      await subject.metrics.publish(published, options);
    };
    beforeEach(() => {
      now = T0;
      subject = makeSubject(() => now);
    });

    it('publishes every class of every fleet, zeros included, and the unexplained executors', async () => {
      // Act
      await publish(counts({ codeintel: { booting: 1, healthy: 3 }, batches: { stale: 2 } }, 4));

      // Assess
      const instances = (fleet: string, some: Partial<PerClass>): StoredHealthValue[] =>
        HEALTH_CLASSES.map((health) => ({
          metric: 'fleet-instances',
          environment: ENV,
          fleet,
          health,
          value: some[health] ?? 0,
          at: T0,
        }));
      const expected: StoredHealthValue[] = [
        ...instances('codeintel', { booting: 1, healthy: 3 }),
        ...instances('batches', { stale: 2 }),
        { metric: 'unexplained-executors', environment: ENV, value: 4, at: T0 },
      ];
      const stored = [...subject.stored()].sort(byKey);
      expect(stored).toEqual(expected.sort(byKey));
    });

    it('shows a class that empties dropping to 0', async () => {
      // Prepare
      await publish(counts({ codeintel: { healthy: 2, stale: 2 } }, 1));

      // Act
      await publish(counts({ codeintel: { healthy: 4 } }, 0, T0 + MINUTE));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get(`${ENV}/codeintel/stale`)).toEqual([2, 0]);
      expect(series.get(`${ENV}/codeintel/healthy`)).toEqual([2, 4]);
      expect(series.get(`${ENV}/unexplained`)).toEqual([1, 0]);
    });

    it('keeps environments apart', async () => {
      // Act
      await publish(counts({ codeintel: { healthy: 5 } }, 1, T0, 'prod'));
      await publish(counts({ codeintel: { orphan: 2 } }, 3, T0 + MINUTE, 'staging'));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get('prod/codeintel/healthy')).toEqual([5]);
      expect(series.get('prod/codeintel/orphan')).toEqual([0]);
      expect(series.get('staging/codeintel/healthy')).toEqual([0]);
      expect(series.get('staging/codeintel/orphan')).toEqual([2]);
      expect(series.get('prod/unexplained')).toEqual([1]);
      expect(series.get('staging/unexplained')).toEqual([3]);
    });

    it('publishes more fleets than one request holds', async () => {
      // Act: 250 fleets × 5 classes + 1 = 1251 values, above both clouds' caps per request
      await publish(counts(manyFleets(250), 7));

      // Assess
      const stored = subject.stored();
      expect(stored).toHaveLength(1251);
      expect(new Set(stored.map(keyOf)).size).toBe(1251);
      const series = seriesOf(stored);
      expect(series.get(`${ENV}/fleet-249/stale`)).toEqual([1]);
      expect(series.get(`${ENV}/fleet-249/outdated`)).toEqual([0]);
      expect(series.get(`${ENV}/unexplained`)).toEqual([7]);
    });

    it('publishes the unexplained executors when there are no fleets', async () => {
      // Act
      await publish(counts({}, 2));

      // Assess
      expect(subject.stored()).toEqual([{ metric: 'unexplained-executors', environment: ENV, value: 2, at: T0 }]);
    });

    const valid = counts(manyFleets(250));
    const last = (change: Partial<PerClass>): HealthCounts => ({
      ...valid,
      fleets: [...valid.fleets, { fleet: 'bad', counts: { ...none, ...change } }],
    });
    it.each<[string, HealthCounts]>([
      ['a negative count', last({ orphan: -1 })],
      ['a fractional count', last({ healthy: 1.5 })],
      ['a NaN count', last({ stale: Number.NaN })],
      ['an infinite count', last({ booting: Number.POSITIVE_INFINITY })],
      ['a count beyond 2^53', last({ healthy: 2 ** 53 })],
      [
        'a missing class',
        { ...valid, fleets: [...valid.fleets, { fleet: 'bad', counts: { healthy: 1 } as PerClass }] },
      ],
      ['a negative unexplained count', { ...valid, unexplainedExecutors: -1 }],
      ['a fractional unexplained count', { ...valid, unexplainedExecutors: 0.5 }],
      ['an empty fleet name', { ...valid, fleets: [...valid.fleets, { fleet: '', counts: none }] }],
      ['a fleet counted twice', { ...valid, fleets: [...valid.fleets, { fleet: 'fleet-0', counts: none }] }],
      ['an empty environment', { ...valid, environment: '' }],
      ['a blank environment', { ...valid, environment: '  ' }],
      ['an invalid time', { ...valid, at: Number.NaN }],
    ])('refuses %s before anything is sent', async (_, refused) => {
      // Act: the bad entry comes after enough good ones to fill the first request
      const attempt = subject.metrics.publish(refused).catch((error: unknown) => error);

      // Assess
      expect(await attempt).toBeInstanceOf(MetricsPublishError);
      expect(subject.stored()).toEqual([]);
    });

    it('reports a store that fails as a retryable MetricsPublishError', async () => {
      // Prepare
      subject.failStore();

      // Act
      const attempt = publish(counts({ codeintel: { healthy: 1 } })).catch((error: unknown) => error);

      // Assess
      expect(await attempt).toMatchObject({ name: 'MetricsPublishError', retryable: true });
      expect(await attempt).toBeInstanceOf(MetricsPublishError);
      expect(subject.stored()).toEqual([]);
    });

    it('refuses a call whose deadline has already passed', async () => {
      // Prepare
      const signal = AbortSignal.abort(new Error('cycle budget spent'));

      // Act
      const attempt = publish(counts({ codeintel: { healthy: 1 } }), { signal });

      // Assess
      await expect(attempt).rejects.toThrow();
      expect(subject.stored()).toEqual([]);
    });
  });
}
