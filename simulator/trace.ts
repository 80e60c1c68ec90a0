import { readFile } from 'node:fs/promises';
import { isRecord } from '../shared/domain/guards.ts';
import { isQueueName, QUEUE_NAMES } from '../shared/domain/queues.ts';
import type { Trace, TraceJob } from './model.ts';

/**
 * Trace files: plain CSV, one job a row, so a trace can come from a spreadsheet, a SQL export of `lsif_indexes` /
 * batch-spec workspace timestamps, or a saved synthetic trace. No quoting, no comments, no metadata rows: every row
 * that is not blank is a job.
 */

export const TRACE_HEADER = 'arrival_s,queue,duration_s';
const COLUMNS = ['arrival_s', 'queue', 'duration_s'] as const;
type Column = (typeof COLUMNS)[number];

/** A 100 000-row file with a systematic mistake would otherwise produce a message nobody reads to the end. */
const MAX_LISTED_ISSUES = 20;
/** Long values are cut in messages so one pasted blob cannot drown the other issues. */
const MAX_SHOWN_VALUE_CHARS = 40;
/**
 * Seconds: the longest trace and job the simulator replays. A week at one-minute samples is ten thousand points per
 * policy; a typo such as `1e10` would otherwise ask for millions of simulated minutes.
 */
export const MAX_TRACE_SECONDS = 7 * 86_400;
/** Seconds; the trace covers whole minutes, as the charts and the 60 s metric periods do. */
const MINUTE_S = 60;

/** A trace that cannot be used: every problem found, listed at once, each naming its line and column. */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  readonly issues: readonly string[];

  constructor(summary: string, issues: readonly string[], options: { cause?: unknown } = {}) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => `  - ${issue}`);
    if (issues.length > MAX_LISTED_ISSUES) {
      listed.push(`  - and ${issues.length - MAX_LISTED_ISSUES} more`);
    }
    super(listed.length === 0 ? summary : `${summary}:\n${listed.join('\n')}`, options);
    this.issues = issues;
  }
}

/**
 * Parses `arrival_s,queue,duration_s` CSV into a trace sorted by arrival (stable, so rows that arrive together keep
 * the file's order). The trace covers the last arrival rounded up to a whole minute, and at least one minute.
 */
export function parseTraceCsv(text: string, name: string): Trace {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  const headerLine = headerIndex === -1 ? undefined : lines[headerIndex];
  if (headerLine === undefined) {
    throw new TraceError(`invalid trace ${name}`, [`the file is empty; expected the header "${TRACE_HEADER}"`]);
  }
  const header = headerLine.split(',').map((field) => field.trim());
  if (header.join(',') !== TRACE_HEADER) {
    throw new TraceError(`invalid trace ${name}`, [
      `line ${headerIndex + 1}: expected the header "${TRACE_HEADER}", found ${show(headerLine.trim())}`,
    ]);
  }

  const jobs: TraceJob[] = [];
  const issues: string[] = [];
  for (let index = headerIndex + 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') {
      continue;
    }
    const job = parseRow(line, index + 1, issues);
    if (job !== undefined) {
      jobs.push(job);
    }
  }
  if (issues.length > 0) {
    const noun = issues.length === 1 ? 'problem' : 'problems';
    throw new TraceError(`invalid trace ${name} (${issues.length} ${noun})`, issues);
  }
  if (jobs.length === 0) {
    throw new TraceError(`invalid trace ${name}`, ['the file has a header but no jobs']);
  }

  jobs.sort((a, b) => a.arrivalS - b.arrivalS);
  const lastArrivalS = jobs.at(-1)?.arrivalS ?? 0;
  return { name, jobs, durationS: Math.max(MINUTE_S, Math.ceil(lastArrivalS / MINUTE_S) * MINUTE_S) };
}

/** Writes the format `parseTraceCsv` reads, rows in the trace's order, so a generated trace can be saved and replayed. */
export function formatTraceCsv(trace: Trace): string {
  const rows = trace.jobs.map((job) => `${job.arrivalS},${job.queue},${job.durationS}`);
  return `${[TRACE_HEADER, ...rows].join('\n')}\n`;
}

/** Reads and parses a trace file; the trace is named `file:<path>`. */
export async function readTraceFile(path: string): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = isRecord(error) ? error.code : undefined;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory, not a file'
          : error instanceof Error
            ? error.message
            : String(error);
    throw new TraceError(`cannot read trace file ${path}`, [reason], { cause: error });
  }
  return parseTraceCsv(text, `file:${path}`);
}

/** One row; its problems go to `issues` (all of them, not just the first) and it yields no job if there were any. */
function parseRow(line: string, lineNumber: number, issues: string[]): TraceJob | undefined {
  const fields = line.split(',').map((field) => field.trim());
  if (fields.length !== COLUMNS.length) {
    issues.push(
      `line ${lineNumber}: expected ${COLUMNS.length} fields (${TRACE_HEADER}), found ${fields.length} in ${show(line.trim())}`,
    );
    return undefined;
  }
  const [arrivalText = '', queueText = '', durationText = ''] = fields;
  const before = issues.length;

  const arrivalS = parseNumber(arrivalText, 'arrival_s', lineNumber, issues);
  if (arrivalS !== undefined && arrivalS < 0) {
    issues.push(`${where(lineNumber, 'arrival_s')}: ${show(arrivalText)} must be at least 0`);
  } else if (arrivalS !== undefined && arrivalS > MAX_TRACE_SECONDS) {
    issues.push(`${where(lineNumber, 'arrival_s')}: ${show(arrivalText)} is beyond 7 days (${MAX_TRACE_SECONDS} s)`);
  }
  if (!isQueueName(queueText)) {
    const expected = `expected ${QUEUE_NAMES.join(' or ')}`;
    issues.push(
      queueText === ''
        ? `${where(lineNumber, 'queue')}: empty; ${expected}`
        : `${where(lineNumber, 'queue')}: ${show(queueText)} is not a queue; ${expected}`,
    );
  }
  const durationS = parseNumber(durationText, 'duration_s', lineNumber, issues);
  if (durationS !== undefined && durationS <= 0) {
    issues.push(`${where(lineNumber, 'duration_s')}: ${show(durationText)} must be greater than 0`);
  } else if (durationS !== undefined && durationS > MAX_TRACE_SECONDS) {
    issues.push(`${where(lineNumber, 'duration_s')}: ${show(durationText)} is beyond 7 days (${MAX_TRACE_SECONDS} s)`);
  }

  if (issues.length > before || arrivalS === undefined || durationS === undefined || !isQueueName(queueText)) {
    return undefined;
  }
  // `-0` passes the check above; stored as 0 so equal traces compare equal.
  return { arrivalS: Math.abs(arrivalS), queue: queueText, durationS };
}

/**
 * Plain decimals, optionally with an exponent (what `String(number)` writes for very small or large values). `Number`
 * alone would also accept `0x10`, `Infinity` and the empty string.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(text: string, column: Column, lineNumber: number, issues: string[]): number | undefined {
  if (text === '') {
    issues.push(`${where(lineNumber, column)}: empty; expected a number`);
    return undefined;
  }
  if (!DECIMAL.test(text)) {
    issues.push(`${where(lineNumber, column)}: ${show(text)} is not a number`);
    return undefined;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    issues.push(`${where(lineNumber, column)}: ${show(text)} is too large`);
    return undefined;
  }
  return value;
}

function where(lineNumber: number, column: Column): string {
  return `line ${lineNumber}, column ${column}`;
}

function show(value: string): string {
  const cut = value.length > MAX_SHOWN_VALUE_CHARS ? `${value.slice(0, MAX_SHOWN_VALUE_CHARS)}…` : value;
  return JSON.stringify(cut);
}
