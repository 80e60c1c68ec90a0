import type { Nanos } from './time.ts';

/** Cloud Monitoring v3 enums, indexed by their proto numbers (gax sends and expects the numbers). */
export const METRIC_KINDS = ['METRIC_KIND_UNSPECIFIED', 'GAUGE', 'DELTA', 'CUMULATIVE'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export const VALUE_TYPES = [
  'VALUE_TYPE_UNSPECIFIED',
  'BOOL',
  'INT64',
  'DOUBLE',
  'STRING',
  'DISTRIBUTION',
  'MONEY',
] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** The aligners the emulator implements, at their proto numbers; the gaps are aligners it refuses. */
export type Aligner = 'ALIGN_NONE' | 'ALIGN_MIN' | 'ALIGN_MAX' | 'ALIGN_MEAN' | 'ALIGN_COUNT' | 'ALIGN_SUM';
const u = undefined;
export const ALIGNERS: readonly (Aligner | undefined)[] = [
  'ALIGN_NONE',
  u,
  u,
  u,
  u,
  u,
  u,
  u,
  u,
  u,
  'ALIGN_MIN',
  'ALIGN_MAX',
  'ALIGN_MEAN',
  'ALIGN_COUNT',
  'ALIGN_SUM',
];

export const TIME_SERIES_VIEWS = ['FULL', 'HEADERS'] as const;

/** A point's value in the type its series was declared with. INT64 stays a bigint: it travels as a decimal string. */
export type StoredValue =
  | { readonly type: 'INT64'; readonly value: bigint }
  | { readonly type: 'DOUBLE'; readonly value: number }
  | { readonly type: 'BOOL'; readonly value: boolean }
  | { readonly type: 'STRING'; readonly value: string };

export interface StoredPoint {
  readonly start?: Nanos;
  readonly end: Nanos;
  readonly value: StoredValue;
}

export interface Labeled {
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface StoredSeries {
  readonly project: string;
  readonly metric: Labeled;
  readonly resource: Labeled;
  readonly metricKind: MetricKind;
  readonly valueType: StoredValue['type'];
  /** Oldest first; writes only ever append. */
  readonly points: StoredPoint[];
}

/** A descriptor auto-created by the first write of a `custom.googleapis.com/` type. */
export interface StoredDescriptor {
  readonly type: string;
  readonly metricKind: MetricKind;
  readonly valueType: StoredValue['type'];
}

/** Identity of a time series: its project, metric and resource, each with all labels. */
export function seriesKey(project: string, metric: Labeled, resource: Labeled): string {
  const labels = (record: Readonly<Record<string, string>>) =>
    Object.keys(record)
      .sort()
      .map((key) => [key, record[key]]);
  return JSON.stringify([project, metric.type, labels(metric.labels), resource.type, labels(resource.labels)]);
}

export function numeric(value: StoredValue): number {
  switch (value.type) {
    case 'INT64':
      return Number(value.value);
    case 'DOUBLE':
      return value.value;
    case 'BOOL':
      return value.value ? 1 : 0;
    case 'STRING':
      return Number.NaN;
  }
}

/** The JSON mapping of a `TypedValue`: int64 as a decimal string, as Google writes 64-bit integers. */
export function typedValueJson(value: StoredValue): Record<string, string | number | boolean> {
  switch (value.type) {
    case 'INT64':
      return { int64Value: value.value.toString() };
    case 'DOUBLE':
      return { doubleValue: value.value };
    case 'BOOL':
      return { boolValue: value.value };
    case 'STRING':
      return { stringValue: value.value };
  }
}
