import { beforeEach, describe, expect, it } from 'vitest';
import type { SeriesName } from '../../shared/domain/queues.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { MetricsPublishError, MetricsReadError } from '../../shared/ports/errors.ts';
import type {
  QueueMetricsSink,
  QueueSizeHistory,
  QueueSizePoint,
  SeriesPeriods,
} from '../../shared/ports/queue-metrics.ts';

export interface QueueMetricsSubject {
  readonly sink: QueueMetricsSink;
  readonly history: QueueSizeHistory;
}

/** Minute-aligned, so windows here mean the same to a store that buckets by minute (CloudWatch) as to an exact one. */
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const MINUTE = 60_000;
const ENV = 'prod';

const point = (series: SeriesName, value: number, environment = ENV): QueueSizePoint => ({
  series,
  environment,
  value,
});

/** Just the peaks, for the cases where coverage does not matter. */
const peaksOf = (histories: ReadonlyMap<SeriesName, SeriesPeriods>) =>
  new Map(
    [...histories].map(([series, periods]) => [series, periods.size === 0 ? undefined : Math.max(...periods.values())]),
  );

/**
 * What every queue-metrics backend and the in-memory fake must do alike (style.md #12). `makeSubject` receives the
 * clock that stands for the store's receive time: points carry no timestamp of their own, as the worker writes them.
 */
export function defineQueueMetricsContract(name: string, makeSubject: (clock: Clock) => QueueMetricsSubject): void {
  describe(`QueueMetrics contract: ${name}`, () => {
    let now: number;
    let subject: QueueMetricsSubject;
    const at = async (time: number, points: readonly QueueSizePoint[]) => {
      now = time;
      await subject.sink.publish(points);
    };
    beforeEach(() => {
      now = T0;
      subject = makeSubject(() => now);
    });

    it('reads back the highest value of each series within the window', async () => {
      // Prepare
      await at(T0 + 10_000, [point('codeintel', 3), point('batches', 7)]);
      await at(T0 + 70_000, [point('codeintel', 9), point('batches', 2)]);
      await at(T0 + 130_000, [point('codeintel', 4)]);

      // Act
      const histories = await subject.history.peaks(['codeintel', 'batches'], ENV, T0, T0 + 3 * MINUTE);

      // Assess: each minute's maximum, keyed by the minute's start
      expect(histories).toEqual(
        new Map([
          [
            'codeintel',
            new Map([
              [T0, 3],
              [T0 + MINUTE, 9],
              [T0 + 2 * MINUTE, 4],
            ]),
          ],
          [
            'batches',
            new Map([
              [T0, 7],
              [T0 + MINUTE, 2],
            ]),
          ],
        ]),
      );
    });

    it('answers no periods for a series with no data, and 0 for a series that was 0', async () => {
      // Prepare
      await at(T0 + 10_000, [point('codeintel', 0)]);

      // Act
      const peaks = peaksOf(await subject.history.peaks(['codeintel', 'batches_codeintel'], ENV, T0, T0 + MINUTE));

      // Assess
      expect(peaks).toEqual(
        new Map([
          ['codeintel', 0],
          ['batches_codeintel', undefined],
        ]),
      );
    });

    it('leaves out points published before or after the window', async () => {
      // Prepare
      await at(T0 - 5 * MINUTE, [point('codeintel', 50)]);
      await at(T0 + MINUTE + 5_000, [point('codeintel', 2)]);
      await at(T0 + 10 * MINUTE, [point('codeintel', 60)]);

      // Act
      const peaks = peaksOf(await subject.history.peaks(['codeintel'], ENV, T0, T0 + 3 * MINUTE));

      // Assess
      expect(peaks.get('codeintel')).toBe(2);
    });

    it('keeps environments apart', async () => {
      // Prepare
      await at(T0 + 10_000, [point('codeintel', 5), point('codeintel', 80, 'staging')]);

      // Act
      const peaks = peaksOf(await subject.history.peaks(['codeintel'], ENV, T0, T0 + MINUTE));

      // Assess
      expect(peaks.get('codeintel')).toBe(5);
    });

    it('takes more points in one publish than one request holds', async () => {
      // Prepare
      const series: readonly SeriesName[] = ['codeintel', 'batches', 'batches_codeintel'];
      const points = Array.from({ length: 2500 }, (_, i) => point(series[i % 3] ?? 'codeintel', i));

      // Act
      await at(T0 + 10_000, points);
      const peaks = peaksOf(await subject.history.peaks(series, ENV, T0, T0 + MINUTE));

      // Assess
      expect(peaks).toEqual(
        new Map([
          ['codeintel', 2499],
          ['batches', 2497],
          ['batches_codeintel', 2498],
        ]),
      );
    });

    it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5])(
      'refuses the value %s and stores nothing of that batch',
      async (value) => {
        // Act
        const publish = at(T0 + 10_000, [point('batches', 3), point('codeintel', value)]);

        // Assess
        await expect(publish).rejects.toBeInstanceOf(MetricsPublishError);
        const peaks = peaksOf(await subject.history.peaks(['batches', 'codeintel'], ENV, T0, T0 + MINUTE));
        expect(peaks).toEqual(
          new Map([
            ['batches', undefined],
            ['codeintel', undefined],
          ]),
        );
      },
    );

    it('publishes nothing without complaint', async () => {
      // Act
      const publish = at(T0, []);

      // Assess
      await expect(publish).resolves.toBeUndefined();
    });

    it('refuses calls whose deadline has already passed', async () => {
      // Prepare
      const signal = AbortSignal.abort(new Error('cycle budget spent'));

      // Act
      const publish = subject.sink.publish([point('codeintel', 1)], { signal });
      const read = subject.history.peaks(['codeintel'], ENV, T0, T0 + MINUTE, { signal });

      // Assess
      await expect(publish).rejects.toThrow();
      await expect(read).rejects.toThrow();
    });

    it('refuses an empty window', async () => {
      // Act
      const read = subject.history.peaks(['codeintel'], ENV, T0, T0);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MetricsReadError);
    });
  });
}
