/**
 * A strict parser for the Prometheus text exposition format, version 0.0.4.
 *
 * Hand-written on purpose: the one npm parser for this format (`parse-prometheus-text-format`) has had no release
 * since 2019 and is lenient where we need strictness: it keeps values as strings and lets a cut-off or garbled body
 * through, and a garbled body read as "0 running jobs" would let scale-in remove a busy executor. Every line must
 * parse, or the whole body is refused.
 *
 * One deliberate relaxation: a family may appear in several groups, each with its own HELP and TYPE lines, as long as
 * the TYPE agrees. Sourcegraph's `executors-metricsserver` concatenates each executor's stored blob without merging
 * families (`internal/metrics/store`: `Gather` decodes blob after blob), so with two executors it serves
 * `src_executor_processor_handlers` twice. Prometheus itself scrapes that; refusing it would make the signal unknown
 * whenever more than one executor runs.
 */

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export interface ExpositionSample {
  readonly name: string;
  /** A Map, not an object: `__proto__` is a valid label name. */
  readonly labels: ReadonlyMap<string, string>;
  /** May be NaN or ±Infinity: the format allows them; what a value means is the reader's business. */
  readonly value: number;
  /** Epoch milliseconds, when the line carries one. */
  readonly timestampMs?: number;
  /** 1-based line number, for messages. */
  readonly line: number;
}

export interface Exposition {
  readonly samples: readonly ExpositionSample[];
  /** The TYPE of every family that declared one. */
  readonly types: ReadonlyMap<string, MetricType>;
  /** The first HELP text of every family that has one, unescaped. */
  readonly help: ReadonlyMap<string, string>;
}

/** The body is not well-formed exposition text; `line` is 1-based (0 for the body as a whole). */
export class ExpositionFormatError extends Error {
  override readonly name = 'ExpositionFormatError';
  readonly line: number;

  constructor(line: number, message: string, options?: { cause?: unknown }) {
    super(line === 0 ? message : `line ${line}: ${message}`, options);
    this.line = line;
  }
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const FULL_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Go's `strconv.ParseFloat` decimal syntax. Hex floats are refused: Go's encoder writes `'g'` format, never hex. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Go's spellings of the special values, case-insensitive as `ParseFloat` reads them. */
const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const NAN = /^nan$/i;
const TIMESTAMP = /^-?\d+$/;
/** Longest token quoted in an error message, in characters. */
const QUOTE_CHARS = 40;

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
const SUMMARY_SUFFIXES = ['_sum', '_count'] as const;

/** A run of lines of one family; HELP and TYPE are each allowed once per group, TYPE only before samples. */
interface Group {
  readonly name: string;
  readonly type: MetricType;
  typed: boolean;
  helped: boolean;
  samples: number;
}

export function parseExposition(text: string): Exposition {
  if (text.length > 0 && !text.endsWith('\n')) {
    // The format ends every line, the last included, with \n: a body without it was cut off mid-line.
    throw new ExpositionFormatError(0, 'the body does not end with a line feed (cut off?)');
  }
  const samples: ExpositionSample[] = [];
  const types = new Map<string, MetricType>();
  const help = new Map<string, string>();
  const seriesSeen = new Set<string>();
  let group: Group | undefined;

  const lines = text.split('\n');
  // The split leaves an empty string after the final \n; it is not a line.
  lines.pop();
  for (const [index, raw] of lines.entries()) {
    const number = index + 1;
    if (raw.includes('\r')) {
      throw new ExpositionFormatError(number, 'carriage return found: the format separates lines with \\n only');
    }
    const line = trimBlanks(raw);
    if (line === '') {
      continue;
    }
    if (line.startsWith('#')) {
      const meta = parseComment(line, number);
      if (meta === undefined) {
        continue;
      }
      if (group === undefined || group.name !== meta.name) {
        group = { name: meta.name, type: types.get(meta.name) ?? 'untyped', typed: false, helped: false, samples: 0 };
      }
      if (meta.kind === 'help') {
        if (group.helped) {
          throw new ExpositionFormatError(number, `second HELP line for ${meta.name}`);
        }
        group.helped = true;
        if (!help.has(meta.name)) {
          help.set(meta.name, meta.text);
        }
        continue;
      }
      if (group.typed || group.samples > 0) {
        throw new ExpositionFormatError(number, `TYPE line for ${meta.name} after its samples or a second TYPE line`);
      }
      const known = types.get(meta.name);
      if (known !== undefined && known !== meta.type) {
        throw new ExpositionFormatError(number, `${meta.name} is declared ${meta.type} here and ${known} earlier`);
      }
      types.set(meta.name, meta.type);
      group = { ...group, type: meta.type, typed: true };
      continue;
    }

    const sample = parseSample(line, number);
    const family = group === undefined ? undefined : familyOf(group, sample.name);
    if (group === undefined || family === undefined) {
      group = { name: sample.name, type: types.get(sample.name) ?? 'untyped', typed: false, helped: false, samples: 0 };
    }
    checkAgainstType(group, sample);
    group.samples += 1;
    const key = seriesKey(sample);
    if (seriesSeen.has(key)) {
      throw new ExpositionFormatError(number, `duplicate series ${quote(sample.name)} with the same labels`);
    }
    seriesSeen.add(key);
    samples.push(sample);
  }
  return { samples, types, help };
}

/** The group's family if the sample belongs to it (by name, or by a histogram or summary suffix). */
function familyOf(group: Group, sampleName: string): string | undefined {
  if (sampleName === group.name) {
    return group.name;
  }
  const suffixes =
    group.type === 'histogram' ? HISTOGRAM_SUFFIXES : group.type === 'summary' ? SUMMARY_SUFFIXES : undefined;
  return suffixes?.some((suffix) => sampleName === `${group.name}${suffix}`) ? group.name : undefined;
}

function checkAgainstType(group: Group, sample: ExpositionSample): void {
  const suffix = sample.name.slice(group.name.length);
  if (group.type === 'histogram') {
    if (suffix === '') {
      throw new ExpositionFormatError(sample.line, `histogram ${group.name} has a sample without _bucket/_sum/_count`);
    }
    if (suffix === '_bucket' && !sample.labels.has('le')) {
      throw new ExpositionFormatError(sample.line, `histogram bucket ${sample.name} has no le label`);
    }
  }
  if (group.type === 'summary' && suffix === '' && !sample.labels.has('quantile')) {
    throw new ExpositionFormatError(sample.line, `summary ${group.name} has a sample without a quantile label`);
  }
}

type Comment =
  | { readonly kind: 'help'; readonly name: string; readonly text: string }
  | { readonly kind: 'type'; readonly name: string; readonly type: MetricType };

/** HELP or TYPE metadata; undefined for a plain comment, which the format ignores. */
function parseComment(line: string, number: number): Comment | undefined {
  const rest = trimBlanks(line.slice(1));
  const [keyword = '', afterKeyword = ''] = splitToken(rest);
  if (keyword !== 'HELP' && keyword !== 'TYPE') {
    return undefined;
  }
  const [name = '', afterName = ''] = splitToken(afterKeyword);
  if (!FULL_METRIC_NAME.test(name)) {
    throw new ExpositionFormatError(number, `${keyword} line with an invalid metric name ${quote(name)}`);
  }
  if (keyword === 'HELP') {
    return { kind: 'help', name, text: unescapeHelp(afterName, number) };
  }
  const [type = '', extra = ''] = splitToken(afterName);
  if (!isMetricType(type)) {
    throw new ExpositionFormatError(number, `TYPE line for ${name} with an unknown type ${quote(type)}`);
  }
  if (extra !== '') {
    throw new ExpositionFormatError(number, `TYPE line for ${name} has text after the type: ${quote(extra)}`);
  }
  return { kind: 'type', name, type };
}

function parseSample(line: string, number: number): ExpositionSample {
  METRIC_NAME.lastIndex = 0;
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) {
    throw new ExpositionFormatError(number, `expected a metric name, got ${quote(line)}`);
  }
  let at = name.length;
  let labels = new Map<string, string>();
  // Go's parser allows blanks between the name and its label set.
  const brace = skipBlanks(line, at);
  if (line[brace] === '{') {
    ({ labels, end: at } = parseLabels(line, brace + 1, number));
  } else if (at < line.length && !isBlank(line[at])) {
    throw new ExpositionFormatError(
      number,
      `expected a blank or "{" after ${quote(name)}, got ${quote(line.slice(at))}`,
    );
  }
  const [valueToken = '', afterValue = ''] = splitToken(trimBlanks(line.slice(at)));
  if (valueToken === '') {
    throw new ExpositionFormatError(number, `${quote(name)} has no value`);
  }
  const value = parseValue(valueToken, number);
  const [timestampToken = '', extra = ''] = splitToken(afterValue);
  if (extra !== '') {
    throw new ExpositionFormatError(number, `unexpected text after the timestamp: ${quote(extra)}`);
  }
  if (timestampToken === '') {
    return { name, labels, value, line: number };
  }
  return { name, labels, value, timestampMs: parseTimestamp(timestampToken, number), line: number };
}

/** `name="value"` pairs up to the closing brace, blanks allowed around tokens, a trailing comma allowed. */
function parseLabels(line: string, start: number, number: number): { labels: Map<string, string>; end: number } {
  const labels = new Map<string, string>();
  let at = skipBlanks(line, start);
  while (line[at] !== '}') {
    LABEL_NAME.lastIndex = at;
    const name = LABEL_NAME.exec(line)?.[0];
    if (name === undefined) {
      const rest = line.slice(at);
      throw new ExpositionFormatError(
        number,
        rest === '' ? 'unterminated label set' : `expected a label name, got ${quote(rest)}`,
      );
    }
    at = skipBlanks(line, at + name.length);
    if (line[at] !== '=') {
      throw new ExpositionFormatError(number, `expected "=" after label ${name}`);
    }
    at = skipBlanks(line, at + 1);
    if (line[at] !== '"') {
      throw new ExpositionFormatError(number, `the value of label ${name} is not quoted`);
    }
    const { value, end } = readLabelValue(line, at + 1, name, number);
    if (labels.has(name)) {
      throw new ExpositionFormatError(number, `label ${name} appears twice`);
    }
    labels.set(name, value);
    at = skipBlanks(line, end);
    if (line[at] === ',') {
      at = skipBlanks(line, at + 1);
    } else if (line[at] !== '}') {
      throw new ExpositionFormatError(number, `expected "," or "}" after label ${name}`);
    }
  }
  return { labels, end: at + 1 };
}

/** Reads up to the closing quote; `\\`, `\"` and `\n` are the only escapes. Returns the index after the quote. */
function readLabelValue(line: string, start: number, label: string, number: number): { value: string; end: number } {
  let value = '';
  for (let at = start; at < line.length; at++) {
    const char = line[at];
    if (char === '"') {
      return { value, end: at + 1 };
    }
    if (char !== '\\') {
      value += char;
      continue;
    }
    const next = line[at + 1];
    if (next === '\\' || next === '"') {
      value += next;
    } else if (next === 'n') {
      value += '\n';
    } else {
      throw new ExpositionFormatError(number, `invalid escape ${quote(`\\${next ?? ''}`)} in label ${label}`);
    }
    at += 1;
  }
  throw new ExpositionFormatError(number, `unterminated value of label ${label}`);
}

/** HELP text allows `\\` and `\n` only (a quote needs no escape there). */
function unescapeHelp(text: string, number: number): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === '\\') {
      return '\\';
    }
    if (next === 'n') {
      return '\n';
    }
    throw new ExpositionFormatError(number, `invalid escape ${quote(`\\${next}`)} in HELP text`);
  });
}

function parseValue(token: string, number: number): number {
  if (DECIMAL.test(token)) {
    return Number(token);
  }
  const infinity = INFINITY.exec(token);
  if (infinity !== null) {
    return infinity[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (NAN.test(token)) {
    return Number.NaN;
  }
  throw new ExpositionFormatError(number, `invalid value ${quote(token)}`);
}

function parseTimestamp(token: string, number: number): number {
  const value = Number(token);
  if (!TIMESTAMP.test(token) || !Number.isSafeInteger(value)) {
    throw new ExpositionFormatError(number, `invalid timestamp ${quote(token)} (whole milliseconds expected)`);
  }
  return value;
}

/** Name plus sorted labels; JSON keeps label values containing separators apart. */
function seriesKey(sample: ExpositionSample): string {
  const labels = [...sample.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([sample.name, labels]);
}

function isMetricType(value: string): value is MetricType {
  return (METRIC_TYPES as readonly string[]).includes(value);
}

function isBlank(char: string | undefined): boolean {
  return char === ' ' || char === '\t';
}

function skipBlanks(text: string, from: number): number {
  let at = from;
  while (isBlank(text[at])) {
    at += 1;
  }
  return at;
}

/** The format separates tokens with blanks (spaces and tabs), not any whitespace. */
function trimBlanks(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The first blank-separated token and the rest, blanks trimmed from both. */
function splitToken(text: string): [string, string] {
  const trimmed = trimBlanks(text);
  const blank = trimmed.search(/[ \t]/);
  return blank === -1 ? [trimmed, ''] : [trimmed.slice(0, blank), trimBlanks(trimmed.slice(blank))];
}

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text);
}
