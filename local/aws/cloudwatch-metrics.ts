/**
 * The metric store behind the CloudWatch emulator: every accepted datum as a summary (count, sum, min, max), which is
 * all the statistics CloudWatch serves without percentiles need. Dimensions are matched as a set, as CloudWatch does.
 */

export interface StoredDimension {
  readonly name: string;
  readonly value: string;
}

export interface StoredDatum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly StoredDimension[];
  readonly unit: string;
  /** Epoch ms: the datum's `Timestamp`, or the time it was received. */
  readonly at: number;
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
  /** Seconds: 60 (standard) or 1 (high resolution). */
  readonly storageResolution: number;
}

export const STATISTICS = ['SampleCount', 'Sum', 'Minimum', 'Maximum', 'Average'] as const;
export type Statistic = (typeof STATISTICS)[number];

export function isStatistic(value: string): value is Statistic {
  return (STATISTICS as readonly string[]).includes(value);
}

/** Order-free identity of a dimension set. */
export function dimensionKey(dimensions: readonly StoredDimension[]): string {
  return JSON.stringify(
    dimensions.map(({ name, value }) => [name, value]).sort(([a], [b]) => (a ?? '').localeCompare(b ?? '')),
  );
}

export interface MetricSelector {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly StoredDimension[];
  readonly unit?: string;
}

export function matches(datum: StoredDatum, selector: MetricSelector): boolean {
  return (
    datum.namespace === selector.namespace &&
    datum.metricName === selector.metricName &&
    dimensionKey(datum.dimensions) === dimensionKey(selector.dimensions) &&
    (selector.unit === undefined || datum.unit === selector.unit)
  );
}

/** One statistic over the datums of one period. */
export function statisticOf(stat: Statistic, datums: readonly StoredDatum[]): number {
  const count = datums.reduce((total, datum) => total + datum.sampleCount, 0);
  const sum = datums.reduce((total, datum) => total + datum.sum, 0);
  switch (stat) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return count === 0 ? 0 : sum / count;
    case 'Minimum':
      return Math.min(...datums.map((datum) => datum.minimum));
    case 'Maximum':
      return Math.max(...datums.map((datum) => datum.maximum));
  }
}
