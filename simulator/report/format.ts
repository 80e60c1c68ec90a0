import type { BurstOutcome, PolicyResult, Scenario, SimulationReport } from '../model.ts';
import { percentile } from '../stats.ts';

/**
 * Text shared by the terminal table and the HTML page, so both show the same numbers with the same rounding: a
 * reader comparing a README table with the page must never find them disagreeing.
 */

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;

/** Shown where a value does not apply (no bursts) or cannot be shown (not a finite number). */
export const NOT_APPLICABLE = '–';

/**
 * Seconds as a person reads them: tenths below 10 s (where a scaler's reaction shows), whole seconds below a minute,
 * `4m05s` below an hour, `2h03m` above. Rounds before choosing the unit so 59.7 s reads `1m00s`, not `60s`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    return NOT_APPLICABLE;
  }
  const tenths = Math.round(seconds * 10) / 10;
  if (tenths < 10) {
    return `${tenths}s`;
  }
  const whole = Math.round(seconds);
  if (whole < SECONDS_PER_MINUTE) {
    return `${whole}s`;
  }
  if (whole < SECONDS_PER_HOUR) {
    return `${Math.floor(whole / SECONDS_PER_MINUTE)}m${pad2(whole % SECONDS_PER_MINUTE)}s`;
  }
  const minutes = Math.round(seconds / SECONDS_PER_MINUTE);
  return `${Math.floor(minutes / 60)}h${pad2(minutes % 60)}m`;
}

/** A moment as `h:mm` from the trace's start; hours keep counting past 24 so a two-day trace reads `36:00`. */
export function formatClock(seconds: number): string {
  const minutes = Math.max(0, Math.floor(seconds / SECONDS_PER_MINUTE));
  return `${Math.floor(minutes / 60)}:${pad2(minutes % 60)}`;
}

const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const TENTHS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** Counts with thousands separators; a tenth only below 10, where it is the difference between policies. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) {
    return NOT_APPLICABLE;
  }
  return (Math.abs(value) < 10 ? TENTHS : WHOLE).format(value);
}

/**
 * The trace name is a file path a user typed: control characters (an escape sequence, a newline) would recolour the
 * terminal or break the table's rows, so they show as `\xNN` instead.
 */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export interface BurstCover {
  readonly median: string;
  readonly worst: string;
  /** The longest stretch of any burst without the capacity it needed asked for. */
  readonly gap: string;
}

/**
 * How long each policy took to cover the trace's bursts. A burst never covered counts as infinitely late, so it
 * makes the worst case `never` and, once half the bursts are never covered, the median too.
 */
export function burstCover(bursts: readonly BurstOutcome[]): BurstCover {
  if (bursts.length === 0) {
    return { median: NOT_APPLICABLE, worst: NOT_APPLICABLE, gap: NOT_APPLICABLE };
  }
  const sorted = bursts.map((burst) => burst.coveredAfterS ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const gap = Math.max(...bursts.map((burst) => burst.longestShortfallS ?? Number.POSITIVE_INFINITY));
  const show = (seconds: number) => (seconds === Number.POSITIVE_INFINITY ? 'never' : formatDuration(seconds));
  return { median: show(percentile(sorted, 0.5)), worst: show(sorted.at(-1) ?? 0), gap: show(gap) };
}

export interface SummaryColumn {
  /** A heading shared by adjacent columns (`wait` over p50, p95, max); empty for none. */
  readonly group: string;
  /** One word, so the column's heading lines up with its cells. */
  readonly label: string;
  readonly numeric: boolean;
  readonly cell: (result: PolicyResult) => string;
}

/** The summary's columns, in order; the first names the policy. */
export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  { group: '', label: 'policy', numeric: false, cell: (result) => result.policy },
  { group: 'wait', label: 'p50', numeric: true, cell: (result) => formatDuration(result.wait.p50) },
  { group: 'wait', label: 'p95', numeric: true, cell: (result) => formatDuration(result.wait.p95) },
  { group: 'wait', label: 'max', numeric: true, cell: (result) => formatDuration(result.wait.max) },
  { group: 'instance', label: 'minutes', numeric: true, cell: (result) => formatCount(result.instanceMinutes) },
  { group: 'scale', label: 'actions', numeric: true, cell: (result) => formatCount(result.scaleActions) },
  { group: 'interrupted', label: 'jobs', numeric: true, cell: (result) => formatCount(result.interruptedJobs) },
  { group: 'burst cover', label: 'median', numeric: true, cell: (result) => burstCover(result.bursts).median },
  { group: 'burst cover', label: 'worst', numeric: true, cell: (result) => burstCover(result.bursts).worst },
  { group: 'burst cover', label: 'gap', numeric: true, cell: (result) => burstCover(result.bursts).gap },
  { group: 'unfinished', label: 'jobs', numeric: true, cell: (result) => formatCount(result.unfinished) },
];

/** Runs of adjacent columns under one group heading, as `[first, last]` column indexes. */
export function columnGroups(columns: readonly SummaryColumn[]): { label: string; first: number; last: number }[] {
  const groups: { label: string; first: number; last: number }[] = [];
  columns.forEach((column, index) => {
    const previous = groups.at(-1);
    if (previous && column.group === previous.label && previous.last === index - 1) {
      previous.last = index;
    } else {
      groups.push({ label: column.group, first: index, last: index });
    }
  });
  return groups;
}

/** `file:day.jsonl: 12,345 jobs over 24h00m`, unescaped: each renderer escapes for its medium. */
export function describeTrace(trace: SimulationReport['trace']): string {
  return `${trace.name}: ${formatCount(trace.jobs)} jobs over ${formatDuration(trace.durationS)}`;
}

/** The scenario every policy ran in, in the terms a reader of the table needs to judge the numbers. */
export function describeScenario(scenario: Scenario): string {
  return [
    // In seconds as given on the command line: `boot 5m00s` would hide the setting the reader wants to change.
    `boot ${formatCount(scenario.bootSeconds)}s`,
    `scaling at ${formatCount(scenario.jobsPerInstance)} jobs/instance`,
    `${formatCount(scenario.maxJobsPerInstance)} job slots/instance`,
    `${formatCount(scenario.minInstances)}–${formatCount(scenario.maxInstances)} instances`,
    ...(scenario.retireAfterJobs ? [`executors retire after ${formatCount(scenario.retireAfterJobs)} jobs`] : []),
    ...(scenario.retireAfterSeconds ? [`executors retire after ${formatDuration(scenario.retireAfterSeconds)}`] : []),
  ].join(', ');
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
