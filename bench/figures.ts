/**
 * What every benchmark reports: one `BenchFigure` per measured quantity, judged against its target (when the issue
 * sets one) and printed as one table. Pure: no clock, no I/O, so the judging and the table are unit-tested.
 */

/** The benchmark a figure belongs to, as the issue numbers them (P1…P4). */
export type BenchmarkId = `P${number}`;

export type TargetOp = '<=' | '>=';

export interface Target {
  readonly op: TargetOp;
  readonly value: number;
}

/** The reference a figure was measured against, in the same run and on the same machine. */
export interface Baseline {
  readonly label: string;
  readonly value: number;
  readonly unit: string;
}

export interface BenchFigure {
  /** `<benchmark>.<name>`, e.g. `P3.sourcegraph-requests`; stable across runs so results can be diffed. */
  readonly id: string;
  readonly benchmark: BenchmarkId;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** Absent for figures that are reported for context only. */
  readonly target?: Target;
  /** Set by `judge` from `value` and `target`; absent when there is no target. */
  readonly met?: boolean;
  readonly baseline?: Baseline;
  readonly note?: string;
}

/** One benchmark (or a group of them): the runner runs each selected suite in turn and collects its figures. */
export interface BenchSuite {
  /** What `--only` selects it by, e.g. `P3`. */
  readonly name: string;
  run(): Promise<BenchFigure[]>;
}

/** A figure that is not a finite number (a failed measurement) never meets a target. */
export function meetsTarget(value: number, target: Target): boolean {
  if (!Number.isFinite(value)) {
    return false;
  }
  return target.op === '<=' ? value <= target.value : value >= target.value;
}

/** The figure with `met` set from its target, or removed when it has none. */
export function judge(figure: BenchFigure): BenchFigure {
  const { met: _stale, ...rest } = figure;
  return figure.target === undefined ? rest : { ...rest, met: meetsTarget(figure.value, figure.target) };
}

/** The middle value (the mean of the two middle ones for an even count): timings are skewed by the odd slow run. */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError('the median of no values is undefined');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** value ÷ baseline when both are in the same unit (a ratio of different units means nothing). */
export function baselineRatio(figure: BenchFigure): number | undefined {
  const { baseline } = figure;
  if (baseline === undefined || baseline.unit !== figure.unit || baseline.value === 0) {
    return undefined;
  }
  return figure.value / baseline.value;
}

/** Up to four significant digits, without trailing zeros and without scientific notation for ordinary sizes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const magnitude = Math.abs(value);
  const decimals = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3;
  return String(Number(value.toFixed(decimals)));
}

function withUnit(value: number, unit: string): string {
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

export function formatTarget(target: Target | undefined, unit: string): string {
  return target === undefined ? '' : `${target.op} ${withUnit(target.value, unit)}`;
}

export function formatBaseline(figure: BenchFigure): string {
  const { baseline } = figure;
  if (baseline === undefined) {
    return '';
  }
  const ratio = baselineRatio(figure);
  const text = `${baseline.label}: ${withUnit(baseline.value, baseline.unit)}`;
  return ratio === undefined ? text : `${text} (value = ${formatNumber(ratio)}×)`;
}

/** "MISSED" in capitals so a missed target cannot be overlooked in a long table. */
export function formatResult(figure: BenchFigure): string {
  if (figure.target === undefined) {
    return 'info';
  }
  return (figure.met ?? meetsTarget(figure.value, figure.target)) ? 'met' : 'MISSED';
}

const COLUMNS = ['id', 'measure', 'value', 'target', 'result', 'baseline'] as const;

/** A plain-text table, one row per figure, with each figure's note listed under it by id. */
export function formatTable(figures: readonly BenchFigure[]): string {
  const rows = figures.map((figure) => [
    figure.id,
    figure.label,
    withUnit(figure.value, figure.unit),
    formatTarget(figure.target, figure.unit),
    formatResult(figure),
    formatBaseline(figure),
  ]);
  const widths = COLUMNS.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const notes = figures.flatMap((figure) => (figure.note === undefined ? [] : [`  ${figure.id}: ${figure.note}`]));
  return [
    line(COLUMNS),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    ...(notes.length > 0 ? ['', 'notes:', ...notes] : []),
  ].join('\n');
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/**
 * JSON laid out as the repository's formatter (Biome) lays it out: two-space indent, one object key per line, an array
 * of scalars on one line when it fits in `width`. A results file written this way passes `npm run lint` as it is.
 */
export function formatJson(value: unknown, width = 120): string {
  const render = (item: unknown, indent: string, column: number): string => {
    const inner = `${indent}  `;
    if (Array.isArray(item)) {
      if (item.length === 0) {
        return '[]';
      }
      const inline = `[${item.map((element) => JSON.stringify(element)).join(', ')}]`;
      // The trailing comma that may follow counts towards the width.
      if (item.every(isScalar) && column + inline.length + 1 <= width) {
        return inline;
      }
      const elements = item.map((element) => `${inner}${render(element, inner, inner.length)}`);
      return `[\n${elements.join(',\n')}\n${indent}]`;
    }
    if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item).filter(([, entry]) => entry !== undefined);
      if (entries.length === 0) {
        return '{}';
      }
      const lines = entries.map(([key, entry]) => {
        const prefix = `${inner}${JSON.stringify(key)}: `;
        return `${prefix}${render(entry, inner, prefix.length)}`;
      });
      return `{\n${lines.join(',\n')}\n${indent}}`;
    }
    return JSON.stringify(item) ?? 'null';
  };
  return `${render(value, '', 0)}\n`;
}
