import { beforeEach, describe, expect, it } from 'vitest';
import { HEALTH_CLASSES, type HealthClass } from '../../shared/domain/health.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import {
  type FleetHealthCounts,
  type HealthCounts,
  type HealthMetrics,
  REPLACEMENT_OUTCOMES,
  type ReplacementOutcome,
} from '../../shared/ports/health-metrics.ts';

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
      readonly metric: 'health-replacements';
      readonly environment: string;
      readonly fleet: string;
      readonly outcome: ReplacementOutcome;
      readonly value: number;
      readonly at: number;
    }
  | {
      /** 1 when the fleet's broken instances were held, else 0. */
      readonly metric: 'health-held';
      readonly environment: string;
      readonly fleet: string;
      readonly value: number;
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
  /** The store fails every later call of this subject with a throttle or server fault; absent where none can. */
  readonly failStore?: () => void;
}

export interface HealthMetricsContractOptions {
  /**
   * `false` for a store whose failures the adapter never sees: EMF lines go to stdout, and Node's console drops
   * errors writing to its stream. Such a subject has no `failStore`.
   */
  readonly storeCanFail: boolean;
}

const MINUTE = 60_000;
/**
 * A whole minute, an hour ago: whole seconds, so a store that keeps whole seconds holds exactly these times, and
 * recent, since CloudWatch drops EMF timestamps more than 14 days old or 2 hours ahead (Powertools warns about them).
 */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;
const ENV = 'prod';

type PerClass = Record<HealthClass, number>;
type PerOutcome = Record<ReplacementOutcome, number>;
const none: PerClass = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
const noOutcomes: PerOutcome = { replaced: 0, 'would-replace': 0, refused: 0 };

/** One fleet of one check; what is not given is 0, and the fleet is not held. */
const fleetOf = (
  fleet: string,
  some: Partial<PerClass> = {},
  outcomes: Partial<PerOutcome> = {},
  held = false,
): FleetHealthCounts => ({
  fleet,
  counts: { ...none, ...some },
  replacements: { ...noOutcomes, ...outcomes },
  held,
});
const counts = (
  fleets: readonly FleetHealthCounts[],
  unexplainedExecutors = 0,
  at = T0,
  environment = ENV,
): HealthCounts => ({ environment, at, fleets, unexplainedExecutors });
/** `n` fleets, each with one instance per class but one, one refused replacement, and held. */
const manyFleets = (n: number): FleetHealthCounts[] =>
  Array.from({ length: n }, (_, index) =>
    fleetOf(`fleet-${index}`, { booting: 1, healthy: 1, orphan: 1, stale: 1 }, { refused: 1 }, true),
  );

const keyOf = (value: StoredHealthValue): string => {
  switch (value.metric) {
    case 'fleet-instances':
      return `${value.environment}/${value.fleet}/${value.health}`;
    case 'health-replacements':
      return `${value.environment}/${value.fleet}/replacements/${value.outcome}`;
    case 'health-held':
      return `${value.environment}/${value.fleet}/held`;
    case 'unexplained-executors':
      return `${value.environment}/unexplained`;
  }
};

const byKey = (a: StoredHealthValue, b: StoredHealthValue) => keyOf(a).localeCompare(keyOf(b));

/** Each series' values, oldest first. */
function seriesOf(values: readonly StoredHealthValue[]): Map<string, number[]> {
  const series = new Map<string, number[]>();
  for (const value of [...values].sort((a, b) => a.at - b.at)) {
    series.set(keyOf(value), [...(series.get(keyOf(value)) ?? []), value.value]);
  }
  return series;
}

/** Every value one fleet of one check should leave in the store, zeros included. */
function expectedOf(environment: string, at: number, fleet: FleetHealthCounts): StoredHealthValue[] {
  const { fleet: name, counts: perClass, replacements, held } = fleet;
  return [
    ...HEALTH_CLASSES.map(
      (health): StoredHealthValue => ({
        metric: 'fleet-instances',
        environment,
        fleet: name,
        health,
        value: perClass[health],
        at,
      }),
    ),
    ...REPLACEMENT_OUTCOMES.map(
      (outcome): StoredHealthValue => ({
        metric: 'health-replacements',
        environment,
        fleet: name,
        outcome,
        value: replacements[outcome],
        at,
      }),
    ),
    { metric: 'health-held', environment, fleet: name, value: held ? 1 : 0, at },
  ];
}

/**
 * What every health-metrics store and the in-memory fake do alike (style.md #12). `makeSubject` receives the clock
 * that stands for the store's "now": each publish happens at the check's own time.
 */
export function defineHealthMetricsContract(
  name: string,
  makeSubject: (clock: Clock) => HealthMetricsSubject,
  options: HealthMetricsContractOptions = { storeCanFail: true },
): void {
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

    it('publishes every class and replacement outcome of every fleet, zeros included, whether it was held, and the unexplained executors', async () => {
      // Prepare
      const codeintel = fleetOf('codeintel', { booting: 1, healthy: 3, stale: 2 }, { replaced: 1, refused: 1 });
      const batches = fleetOf('batches', { orphan: 3, healthy: 1 }, {}, true);
      const shadow = fleetOf('shadow', { stale: 1, healthy: 4 }, { 'would-replace': 1 });

      // Act
      await publish(counts([codeintel, batches, shadow], 4));

      // Assess
      const expected: StoredHealthValue[] = [
        ...expectedOf(ENV, T0, codeintel),
        ...expectedOf(ENV, T0, batches),
        ...expectedOf(ENV, T0, shadow),
        { metric: 'unexplained-executors', environment: ENV, value: 4, at: T0 },
      ];
      expect(expected).toHaveLength(3 * 9 + 1);
      expect([...subject.stored()].sort(byKey)).toEqual(expected.sort(byKey));
    });

    it('shows a class, an outcome and a hold that end dropping to 0', async () => {
      // Prepare
      await publish(counts([fleetOf('codeintel', { healthy: 2, stale: 2 }, { replaced: 2 }, true)], 1));

      // Act
      await publish(counts([fleetOf('codeintel', { healthy: 4 })], 0, T0 + MINUTE));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get(`${ENV}/codeintel/stale`)).toEqual([2, 0]);
      expect(series.get(`${ENV}/codeintel/healthy`)).toEqual([2, 4]);
      expect(series.get(`${ENV}/codeintel/replacements/replaced`)).toEqual([2, 0]);
      expect(series.get(`${ENV}/codeintel/replacements/refused`)).toEqual([0, 0]);
      expect(series.get(`${ENV}/codeintel/held`)).toEqual([1, 0]);
      expect(series.get(`${ENV}/unexplained`)).toEqual([1, 0]);
    });

    it('keeps environments apart', async () => {
      // Act
      await publish(counts([fleetOf('codeintel', { healthy: 5 }, { replaced: 2 })], 1, T0, 'prod'));
      await publish(counts([fleetOf('codeintel', { orphan: 2 }, { refused: 1 }, true)], 3, T0 + MINUTE, 'staging'));

      // Assess
      const series = seriesOf(subject.stored());
      expect(series.get('prod/codeintel/healthy')).toEqual([5]);
      expect(series.get('prod/codeintel/orphan')).toEqual([0]);
      expect(series.get('staging/codeintel/healthy')).toEqual([0]);
      expect(series.get('staging/codeintel/orphan')).toEqual([2]);
      expect(series.get('prod/codeintel/replacements/replaced')).toEqual([2]);
      expect(series.get('prod/codeintel/replacements/refused')).toEqual([0]);
      expect(series.get('staging/codeintel/replacements/replaced')).toEqual([0]);
      expect(series.get('staging/codeintel/replacements/refused')).toEqual([1]);
      expect(series.get('prod/codeintel/held')).toEqual([0]);
      expect(series.get('staging/codeintel/held')).toEqual([1]);
      expect(series.get('prod/unexplained')).toEqual([1]);
      expect(series.get('staging/unexplained')).toEqual([3]);
    });

    it('publishes more fleets than one request holds', async () => {
      // Act: 250 fleets × (5 classes + 3 outcomes + held) + 1 = 2251 values, above both clouds' caps per request
      await publish(counts(manyFleets(250), 7));

      // Assess
      const stored = subject.stored();
      expect(stored).toHaveLength(2251);
      expect(new Set(stored.map(keyOf)).size).toBe(2251);
      const series = seriesOf(stored);
      expect(series.get(`${ENV}/fleet-249/stale`)).toEqual([1]);
      expect(series.get(`${ENV}/fleet-249/outdated`)).toEqual([0]);
      expect(series.get(`${ENV}/fleet-249/replacements/refused`)).toEqual([1]);
      expect(series.get(`${ENV}/fleet-249/replacements/would-replace`)).toEqual([0]);
      expect(series.get(`${ENV}/fleet-249/held`)).toEqual([1]);
      expect(series.get(`${ENV}/unexplained`)).toEqual([7]);
    });

    it('publishes the unexplained executors when there are no fleets', async () => {
      // Act
      await publish(counts([], 2));

      // Assess
      expect(subject.stored()).toEqual([{ metric: 'unexplained-executors', environment: ENV, value: 2, at: T0 }]);
    });

    const valid = counts(manyFleets(250));
    const withLast = (bad: FleetHealthCounts): HealthCounts => ({ ...valid, fleets: [...valid.fleets, bad] });
    const last = (change: Partial<PerClass>) => withLast(fleetOf('bad', change));
    const lastOutcomes = (change: Partial<PerOutcome>) => withLast(fleetOf('bad', {}, change));
    // What a caller outside the type system (parsed JSON, plain JavaScript) could hand over.
    const lastHeld = (held: unknown) => withLast({ ...fleetOf('bad'), held: held as boolean });
    it.each<[string, HealthCounts]>([
      ['a negative count', last({ orphan: -1 })],
      ['a fractional count', last({ healthy: 1.5 })],
      ['a NaN count', last({ stale: Number.NaN })],
      ['an infinite count', last({ booting: Number.POSITIVE_INFINITY })],
      ['a count beyond 2^53', last({ healthy: 2 ** 53 })],
      ['a missing class', withLast({ ...fleetOf('bad'), counts: { healthy: 1 } as PerClass })],
      ['a negative replacement count', lastOutcomes({ replaced: -1 })],
      ['a fractional replacement count', lastOutcomes({ 'would-replace': 0.5 })],
      ['a NaN replacement count', lastOutcomes({ refused: Number.NaN })],
      ['a replacement count beyond 2^53', lastOutcomes({ replaced: 2 ** 53 })],
      ['a missing replacement outcome', withLast({ ...fleetOf('bad'), replacements: { replaced: 1 } as PerOutcome })],
      ['a held that is 1 rather than true', lastHeld(1)],
      ['a held that is a string', lastHeld('true')],
      ['a missing held', lastHeld(undefined)],
      ['a negative unexplained count', { ...valid, unexplainedExecutors: -1 }],
      ['a fractional unexplained count', { ...valid, unexplainedExecutors: 0.5 }],
      ['an empty fleet name', withLast(fleetOf(''))],
      ['a fleet counted twice', withLast(fleetOf('fleet-0'))],
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

    if (options.storeCanFail) {
      it('reports a store that fails as a retryable MetricsPublishError', async () => {
        // Prepare
        if (subject.failStore === undefined) {
          throw new Error(`${name}: a store that can fail needs failStore`);
        }
        subject.failStore();

        // Act
        const attempt = publish(counts([fleetOf('codeintel', { healthy: 1 })])).catch((error: unknown) => error);

        // Assess
        expect(await attempt).toMatchObject({ name: 'MetricsPublishError', retryable: true });
        expect(await attempt).toBeInstanceOf(MetricsPublishError);
        expect(subject.stored()).toEqual([]);
      });
    }

    it('refuses a call whose deadline has already passed', async () => {
      // Prepare
      const signal = AbortSignal.abort(new Error('cycle budget spent'));

      // Act
      const attempt = publish(counts([fleetOf('codeintel', { healthy: 1 })]), { signal });

      // Assess
      await expect(attempt).rejects.toThrow();
      expect(subject.stored()).toEqual([]);
    });
  });
}
