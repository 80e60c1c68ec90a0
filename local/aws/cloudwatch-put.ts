import * as z from 'zod';
import type { StoredDatum, StoredDimension } from './cloudwatch-metrics.ts';
import { AwsServiceError } from './errors.ts';
import { parseShape } from './json-protocol.ts';

/** PutMetricData's checks, in CloudWatch's words (query-style member paths, since the service grew up on awsQuery). */

/** The SDK's JSON codec writes non-finite doubles as these strings; CloudWatch then refuses them as values. */
const double = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const dimension = z.object({ Name: z.string().optional(), Value: z.string().optional() });
const datumShape = z.object({
  MetricName: z.string().optional(),
  Dimensions: z.array(dimension).optional(),
  /** Epoch seconds, possibly fractional. */
  Timestamp: z.number().optional(),
  Value: double.optional(),
  StatisticValues: z.object({ SampleCount: double, Sum: double, Minimum: double, Maximum: double }).optional(),
  Values: z.array(double).optional(),
  Counts: z.array(double).optional(),
  Unit: z.string().optional(),
  StorageResolution: z.number().optional(),
});
const putShape = z.object({ Namespace: z.string().optional(), MetricData: z.array(datumShape).optional() });
type DatumInput = z.infer<typeof datumShape>;

export const MAX_DATUMS = 1000;
const MAX_DIMENSIONS = 30;
const MAX_VALUES = 150;
/** CloudWatch refuses magnitudes above 2^360. */
const MAX_MAGNITUDE = 2 ** 360;
const TWO_WEEKS_MS = 14 * 24 * 3_600_000;
const TWO_HOURS_MS = 2 * 3_600_000;

export const UNITS: ReadonlySet<string> = new Set(
  ['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits']
    .concat(['Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second'])
    .concat(['Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second'])
    .concat(['Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None']),
);

const missing = (parameter: string) =>
  new AwsServiceError('MissingParameter', `The parameter ${parameter} is required.`);
const invalid = (value: unknown, parameter: string) =>
  new AwsServiceError('InvalidParameterValue', `The value ${String(value)} for parameter ${parameter} is invalid.`);

function checkValue(value: number | string, parameter: string): number {
  if (typeof value !== 'number' || Math.abs(value) > MAX_MAGNITUDE) {
    throw invalid(value, parameter);
  }
  return value;
}

function toDimensions(dimensions: DatumInput['Dimensions'], path: string): StoredDimension[] {
  const list = dimensions ?? [];
  if (list.length > MAX_DIMENSIONS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The collection ${path}.Dimensions must not have a size greater than ${MAX_DIMENSIONS}.`,
    );
  }
  const seen = new Set<string>();
  return list.map(({ Name: name, Value: value }, index) => {
    const at = `${path}.Dimensions.member.${index + 1}`;
    if (name === undefined) throw missing(`${at}.Name`);
    if (value === undefined) throw missing(`${at}.Value`);
    if (name.length === 0 || name.length > 255) throw invalid(name, `${at}.Name`);
    if (value.length === 0 || value.length > 1024) throw invalid(value, `${at}.Value`);
    if (seen.has(name)) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `The dimension name ${name} is repeated in ${path}.Dimensions.`,
      );
    }
    seen.add(name);
    return { name, value };
  });
}

/** count/sum/min/max of the datum, from whichever of Value, StatisticValues or Values+Counts it carries. */
function summarize(datum: DatumInput, path: string) {
  const forms = [datum.Value, datum.StatisticValues, datum.Values].filter((form) => form !== undefined).length;
  if (forms > 1) {
    throw new AwsServiceError(
      'InvalidParameterCombination',
      `The parameters ${path}.Value, ${path}.StatisticValues and ${path}.Values are mutually exclusive and you have specified more than one.`,
    );
  }
  if (datum.Value !== undefined) {
    const value = checkValue(datum.Value, `${path}.Value`);
    return { sampleCount: 1, sum: value, minimum: value, maximum: value };
  }
  if (datum.StatisticValues !== undefined) {
    const at = `${path}.StatisticValues`;
    const stats = datum.StatisticValues;
    const sampleCount = checkValue(stats.SampleCount, `${at}.SampleCount`);
    const minimum = checkValue(stats.Minimum, `${at}.Minimum`);
    const maximum = checkValue(stats.Maximum, `${at}.Maximum`);
    if (sampleCount <= 0 || minimum > maximum) {
      throw new AwsServiceError('InvalidParameterValue', `The values of ${at} are inconsistent.`);
    }
    return { sampleCount, sum: checkValue(stats.Sum, `${at}.Sum`), minimum, maximum };
  }
  if (datum.Values !== undefined && datum.Values.length > 0) {
    if (datum.Values.length > MAX_VALUES) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `The collection ${path}.Values must not have a size greater than ${MAX_VALUES}.`,
      );
    }
    const values = datum.Values.map((value, index) => checkValue(value, `${path}.Values.member.${index + 1}`));
    const counts = (datum.Counts ?? values.map(() => 1)).map((count, index) =>
      checkValue(count, `${path}.Counts.member.${index + 1}`),
    );
    if (counts.length !== values.length) {
      throw new AwsServiceError(
        'InvalidParameterValue',
        `The parameters ${path}.Values and ${path}.Counts must be of the same size.`,
      );
    }
    return {
      sampleCount: counts.reduce((total, count) => total + count, 0),
      sum: values.reduce((total, value, index) => total + value * (counts[index] ?? 1), 0),
      minimum: Math.min(...values),
      maximum: Math.max(...values),
    };
  }
  throw missing(`${path}.Value`);
}

function toDatum(namespace: string, datum: DatumInput, index: number, now: number): StoredDatum {
  const path = `MetricData.member.${index + 1}`;
  if (datum.MetricName === undefined) throw missing(`${path}.MetricName`);
  if (datum.MetricName.length === 0 || datum.MetricName.length > 255)
    throw invalid(datum.MetricName, `${path}.MetricName`);
  const unit = datum.Unit ?? 'None';
  if (!UNITS.has(unit)) throw invalid(unit, `${path}.Unit`);
  const storageResolution = datum.StorageResolution ?? 60;
  if (storageResolution !== 1 && storageResolution !== 60)
    throw invalid(storageResolution, `${path}.StorageResolution`);
  const at = datum.Timestamp === undefined ? now : Math.round(datum.Timestamp * 1000);
  if (at < now - TWO_WEEKS_MS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter ${path}.Timestamp must specify a time within the past two weeks.`,
    );
  }
  if (at > now + TWO_HOURS_MS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The parameter ${path}.Timestamp must specify a time no more than two hours in the future.`,
    );
  }
  return {
    namespace,
    metricName: datum.MetricName,
    dimensions: toDimensions(datum.Dimensions, path),
    unit,
    at,
    storageResolution,
    ...summarize(datum, path),
  };
}

/** Every datum is checked before any is stored: a refused request leaves nothing behind, as with CloudWatch. */
export function parsePutMetricData(body: unknown, now: number): readonly StoredDatum[] {
  const input = parseShape(putShape, body);
  const namespace = input.Namespace;
  if (namespace === undefined) throw missing('Namespace');
  if (namespace.length === 0 || namespace.length > 255 || namespace.startsWith('AWS/'))
    throw invalid(namespace, 'Namespace');
  const data = input.MetricData ?? [];
  if (data.length === 0) throw missing('MetricData');
  if (data.length > MAX_DATUMS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `The collection MetricData must not have a size greater than ${MAX_DATUMS}.`,
    );
  }
  return data.map((datum, index) => toDatum(namespace, datum, index, now));
}
