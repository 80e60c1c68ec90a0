import { describe, expect, it } from 'vitest';
import { ExpositionFormatError, parseExposition } from '../../../shared/sourcegraph/exposition.ts';

/** Lines joined with \n, the last one ended too, as every well-formed body is. */
const body = (...lines: string[]) => `${lines.join('\n')}\n`;

/** name → labels → value, for compact expectations. */
const flat = (text: string) =>
  parseExposition(text).samples.map((sample) => ({
    name: sample.name,
    labels: Object.fromEntries(sample.labels),
    value: sample.value,
    ...(sample.timestampMs === undefined ? {} : { timestampMs: sample.timestampMs }),
  }));

function formatError(text: string): ExpositionFormatError {
  try {
    parseExposition(text);
  } catch (error) {
    if (error instanceof ExpositionFormatError) {
      return error;
    }
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseExposition: what it accepts', () => {
  it('reads HELP and TYPE metadata, unescaping HELP text, and ignores other comments', () => {
    // Prepare
    const text = body(
      '# A plain comment, ignored: # TYPE inside it means nothing',
      '# HELP src_executor_processor_handlers The number of active handlers.',
      '# TYPE src_executor_processor_handlers gauge',
      '# HELP odd_help Backslash \\\\ and\\nnewline, "quotes" as they are',
      '#TYPE odd_help counter',
      '#',
    );

    // Act
    const exposition = parseExposition(text);

    // Assess
    expect(exposition.types).toEqual(
      new Map([
        ['src_executor_processor_handlers', 'gauge'],
        ['odd_help', 'counter'],
      ]),
    );
    expect(exposition.help.get('odd_help')).toBe('Backslash \\ and\nnewline, "quotes" as they are');
    expect(exposition.samples).toEqual([]);
  });

  it('reads label values with their three escapes and any UTF-8', () => {
    // Act
    const samples = flat(body('m{path="C:\\\\dir",quote="say \\"hi\\"",multi="a\\nb",utf8="héllo ✓"} 1'));

    // Assess
    expect(samples).toEqual([
      { name: 'm', labels: { path: 'C:\\dir', quote: 'say "hi"', multi: 'a\nb', utf8: 'héllo ✓' }, value: 1 },
    ]);
  });

  it('accepts blanks and tabs between tokens, a trailing comma, an empty label set and blank lines', () => {
    // Act
    const samples = flat(body('', '  a { x = "1" , y="2", } \t 3  ', 'b{} 4', '\t', 'c\t5'));

    // Assess
    expect(samples).toEqual([
      { name: 'a', labels: { x: '1', y: '2' }, value: 3 },
      { name: 'b', labels: {}, value: 4 },
      { name: 'c', labels: {}, value: 5 },
    ]);
  });

  it.each([
    ['0', 0],
    ['42', 42],
    ['-0.5', -0.5],
    ['.5', 0.5],
    ['1.', 1],
    ['1.5e+06', 1_500_000],
    ['2E-3', 0.002],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['Inf', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
  ])('reads the value %s as Go writes it', (token, expected) => {
    // Act
    const [sample] = parseExposition(body(`m ${token}`)).samples;

    // Assess
    expect(sample?.value).toBe(expected);
  });

  it('reads optional timestamps in milliseconds, negative ones included', () => {
    // Act
    const samples = flat(body('a 1 1700000000123', 'b{x="y"} 2 -5', 'c 3'));

    // Assess
    expect(samples).toEqual([
      { name: 'a', labels: {}, value: 1, timestampMs: 1_700_000_000_123 },
      { name: 'b', labels: { x: 'y' }, value: 2, timestampMs: -5 },
      { name: 'c', labels: {}, value: 3 },
    ]);
  });

  it('takes samples without any metadata as untyped, and counts lines from 1', () => {
    // Act
    const exposition = parseExposition(body('# just a comment', 'up 1'));

    // Assess
    expect(exposition.types.size).toBe(0);
    expect(exposition.samples[0]?.line).toBe(2);
  });

  it('accepts a family repeated in several groups with the same TYPE, as the worker serves one block per executor', () => {
    // Prepare
    const block = (instance: string, value: number) => [
      '# HELP src_executor_processor_handlers The number of active handlers.',
      '# TYPE src_executor_processor_handlers gauge',
      `src_executor_processor_handlers{queue="codeintel",sg_instance="${instance}",sg_job="sourcegraph-executors"} ${value}`,
      '# TYPE go_goroutines gauge',
      `go_goroutines{sg_instance="${instance}",sg_job="sourcegraph-executors"} 12`,
    ];

    // Act
    const exposition = parseExposition(body(...block('a-1', 2), ...block('b-2', 0)));

    // Assess
    expect(exposition.samples.map((sample) => [sample.name, sample.labels.get('sg_instance'), sample.value])).toEqual([
      ['src_executor_processor_handlers', 'a-1', 2],
      ['go_goroutines', 'a-1', 12],
      ['src_executor_processor_handlers', 'b-2', 0],
      ['go_goroutines', 'b-2', 12],
    ]);
  });

  it('reads histogram and summary families with their suffixed samples', () => {
    // Prepare
    const text = body(
      '# TYPE src_executor_processor_duration_seconds histogram',
      'src_executor_processor_duration_seconds_bucket{le="30"} 1',
      'src_executor_processor_duration_seconds_bucket{le="+Inf"} 3',
      'src_executor_processor_duration_seconds_sum 95.5',
      'src_executor_processor_duration_seconds_count 3',
      '# TYPE go_gc_duration_seconds summary',
      'go_gc_duration_seconds{quantile="0.5"} 0.0001',
      'go_gc_duration_seconds_sum 0.02',
      'go_gc_duration_seconds_count 40',
    );

    // Act
    const exposition = parseExposition(text);

    // Assess
    expect(exposition.samples.map((sample) => sample.name)).toEqual([
      'src_executor_processor_duration_seconds_bucket',
      'src_executor_processor_duration_seconds_bucket',
      'src_executor_processor_duration_seconds_sum',
      'src_executor_processor_duration_seconds_count',
      'go_gc_duration_seconds',
      'go_gc_duration_seconds_sum',
      'go_gc_duration_seconds_count',
    ]);
  });

  it('reads an empty body, or one of blank lines only, as no samples', () => {
    // Act
    const empty = parseExposition('');
    const blank = parseExposition('\n\n');

    // Assess
    expect(empty.samples).toEqual([]);
    expect(blank.samples).toEqual([]);
  });

  it('keeps a label named __proto__ as data', () => {
    // Act
    const [sample] = parseExposition(body('m{__proto__="x",constructor="y"} 1')).samples;

    // Assess
    expect(sample?.labels.get('__proto__')).toBe('x');
    expect(sample?.labels.get('constructor')).toBe('y');
  });
});

describe('parseExposition: what it refuses', () => {
  it.each([
    ['a body cut off mid-line', 'm{queue="codeintel"} 1\nm{queue="batch', 0, /does not end with a line feed/],
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>\n', 1, /expected a metric name/],
    ['a JSON body', '{"data":{"executors":[]}}\n', 1, /expected a metric name/],
    ['Windows line ends', 'm 1\r\n', 1, /carriage return/],
    ['a sample without a value', body('m'), 1, /has no value/],
    ['a sample with labels but no value', body('m{a="b"}'), 1, /has no value/],
    ['a word as value', body('m one'), 1, /invalid value "one"/],
    ['a hex value', body('m 0x10'), 1, /invalid value/],
    ['a value with underscores', body('m 1_000'), 1, /invalid value/],
    ['a signed NaN', body('m +NaN'), 1, /invalid value/],
    ['a fractional timestamp', body('m 1 1.5'), 1, /invalid timestamp/],
    ['a timestamp beyond exact integers', body('m 1 99999999999999999999'), 1, /invalid timestamp/],
    ['text after the timestamp', body('m 1 2 3'), 1, /after the timestamp/],
    ['a name glued to other text', body('m-1 2'), 1, /expected a blank or "\{"/],
    ['a name starting with a digit', body('1m 2'), 1, /expected a metric name/],
    ['an unquoted label value', body('m{a=b} 1'), 1, /not quoted/],
    ['a label name starting with a digit', body('m{1a="b"} 1'), 1, /expected a label name/],
    ['a label without "="', body('m{a "b"} 1'), 1, /expected "=" after label a/],
    ['labels without a comma', body('m{a="b" c="d"} 1'), 1, /expected "," or "}"/],
    ['a label given twice', body('m{a="b",a="c"} 1'), 1, /label a appears twice/],
    ['an unknown escape in a label value', body('m{a="\\t"} 1'), 1, /invalid escape "\\\\t"/],
    ['an unterminated label value', body('m{a="b} 1'), 1, /unterminated value of label a/],
    ['an unterminated label set', body('m{a="b",'), 1, /unterminated label set/],
    ['an unknown type', body('# TYPE m gauges'), 1, /unknown type "gauges"/],
    ['an upper-case type', body('# TYPE m GAUGE'), 1, /unknown type/],
    ['a TYPE line without a type', body('# TYPE m'), 1, /unknown type ""/],
    ['a TYPE line with more after the type', body('# TYPE m gauge extra'), 1, /text after the type/],
    ['a TYPE line without a name', body('# TYPE'), 1, /invalid metric name ""/],
    ['a HELP line with an invalid name', body('# HELP 9m text'), 1, /HELP line with an invalid metric name/],
    ['an unknown escape in HELP text', body('# HELP m a \\t tab'), 1, /invalid escape .* in HELP text/],
    ['a TYPE line after its samples', body('m 1', '# TYPE m gauge'), 2, /after its samples/],
    ['two TYPE lines in one group', body('# TYPE m gauge', '# TYPE m gauge'), 2, /second TYPE line/],
    ['two HELP lines in one group', body('# HELP m a', '# HELP m b'), 2, /second HELP line/],
    [
      'a family re-declared with another type',
      body('# TYPE m gauge', 'm 1', 'x 1', '# TYPE m counter'),
      4,
      /declared counter here and gauge earlier/,
    ],
    ['the same series twice', body('m{a="1",b="2"} 1', 'm{b="2",a="1"} 2'), 2, /duplicate series "m"/],
    ['a bare histogram sample', body('# TYPE h histogram', 'h 1'), 2, /without _bucket\/_sum\/_count/],
    ['a histogram bucket without le', body('# TYPE h histogram', 'h_bucket 1'), 2, /no le label/],
    ['a summary sample without quantile', body('# TYPE s summary', 's 1'), 2, /without a quantile label/],
  ])('refuses %s', (_, text, line, message) => {
    // Act
    const error = formatError(text);

    // Assess
    expect(error.name).toBe('ExpositionFormatError');
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
  });

  it('quotes at most a short excerpt of a bad line', () => {
    // Act
    const error = formatError(body(`<${'x'.repeat(500)}>`));

    // Assess
    expect(error.message.length).toBeLessThan(120);
  });
});
