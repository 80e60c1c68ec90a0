import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Trace } from '../../../simulator/model.ts';
import {
  formatTraceCsv,
  MAX_TRACE_SECONDS,
  parseTraceCsv,
  readTraceFile,
  TRACE_HEADER,
  TraceError,
} from '../../../simulator/trace.ts';

/** Runs `parse` and returns the TraceError it throws, failing the test if it throws nothing or something else. */
function traceErrorOf(parse: () => unknown): TraceError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(TraceError);
    if (error instanceof TraceError) {
      return error;
    }
  }
  throw new Error('expected a TraceError');
}

describe('parseTraceCsv', () => {
  it('reads unsorted rows with CRLF, a BOM, blank lines and padded fields into a trace sorted by arrival', () => {
    // Prepare
    const text =
      '\uFEFFarrival_s,queue,duration_s\r\n 120.5 , batches , 30\r\n\r\n0,codeintel,600\r\n  \r\n60,codeintel,1.5\r\n';

    // Act
    const trace = parseTraceCsv(text, 'file:t.csv');

    // Assess
    expect(trace).toEqual({
      name: 'file:t.csv',
      jobs: [
        { arrivalS: 0, queue: 'codeintel', durationS: 600 },
        { arrivalS: 60, queue: 'codeintel', durationS: 1.5 },
        { arrivalS: 120.5, queue: 'batches', durationS: 30 },
      ],
      durationS: 180,
    });
  });

  it('keeps the file order of rows that arrive together', () => {
    // Prepare
    const text = `${TRACE_HEADER}\n10,batches,3\n5,codeintel,9\n10,codeintel,1\n10,batches,2`;

    // Act
    const trace = parseTraceCsv(text, 'x');

    // Assess
    expect(trace.jobs.map((job) => job.durationS)).toEqual([9, 3, 1, 2]);
  });

  it.each([
    { lastArrival: '0', durationS: 60 },
    { lastArrival: '59.9', durationS: 60 },
    { lastArrival: '60', durationS: 60 },
    { lastArrival: '60.001', durationS: 120 },
    { lastArrival: '86399', durationS: 86_400 },
  ])(
    'covers the last arrival $lastArrival s rounded up to whole minutes: $durationS s',
    ({ lastArrival, durationS }) => {
      // Act
      const trace = parseTraceCsv(`${TRACE_HEADER}\n${lastArrival},codeintel,1\n`, 'x');

      // Assess
      expect(trace.durationS).toBe(durationS);
    },
  );

  it('accepts the exponent notation String(number) writes for extreme values', () => {
    // Act
    const trace = parseTraceCsv(`${TRACE_HEADER}\n1e-7,codeintel,1.5e+3\n`, 'x');

    // Assess
    expect(trace.jobs).toEqual([{ arrivalS: 1e-7, queue: 'codeintel', durationS: 1500 }]);
  });

  it('reads -0 as an arrival at 0', () => {
    // Act
    const trace = parseTraceCsv(`${TRACE_HEADER}\n-0,codeintel,1\n`, 'x');

    // Assess
    expect(Object.is(trace.jobs[0]?.arrivalS, 0)).toBe(true);
  });

  it('names every bad line, column and value at once', () => {
    // Prepare
    const text = [
      TRACE_HEADER,
      '0,codeintel,60',
      '-1,codeintel,60',
      'soon,codeintel,60',
      '5,indexing,60',
      '5,,60',
      '5,batches,0',
      '5,batches,-3',
      '5,batches,0x10',
      '5,batches,',
      '1e999,batches,60',
      '5,batches',
      '5,batches,60,extra',
      'Infinity,CODEINTEL,NaN',
      '10,batches,60',
    ].join('\n');

    // Act
    const error = traceErrorOf(() => parseTraceCsv(text, 'file:bad.csv'));

    // Assess
    expect(error.name).toBe('TraceError');
    expect(error.issues).toEqual([
      'line 3, column arrival_s: "-1" must be at least 0',
      'line 4, column arrival_s: "soon" is not a number',
      'line 5, column queue: "indexing" is not a queue; expected batches or codeintel',
      'line 6, column queue: empty; expected batches or codeintel',
      'line 7, column duration_s: "0" must be greater than 0',
      'line 8, column duration_s: "-3" must be greater than 0',
      'line 9, column duration_s: "0x10" is not a number',
      'line 10, column duration_s: empty; expected a number',
      'line 11, column arrival_s: "1e999" is too large',
      'line 12: expected 3 fields (arrival_s,queue,duration_s), found 2 in "5,batches"',
      'line 13: expected 3 fields (arrival_s,queue,duration_s), found 4 in "5,batches,60,extra"',
      'line 14, column arrival_s: "Infinity" is not a number',
      'line 14, column queue: "CODEINTEL" is not a queue; expected batches or codeintel',
      'line 14, column duration_s: "NaN" is not a number',
    ]);
    expect(error.message).toMatch(/^invalid trace file:bad\.csv \(14 problems\):\n {2}- line 3, column arrival_s/);
    for (const issue of error.issues) {
      expect(error.message).toContain(issue);
    }
  });

  it('lists the first 20 problems and counts the rest', () => {
    // Prepare
    const rows = Array.from({ length: 25 }, (_, index) => `${index},codeintel,0`);
    const text = [TRACE_HEADER, ...rows].join('\n');

    // Act
    const error = traceErrorOf(() => parseTraceCsv(text, 'x'));

    // Assess
    expect(error.issues).toHaveLength(25);
    expect(error.message).toContain('line 21, column duration_s');
    expect(error.message).not.toContain('line 22,');
    expect(error.message).toMatch(/- and 5 more$/);
  });

  it.each([
    { case: 'a wrong header', text: 'arrival,queue,duration\n0,codeintel,60\n', found: '"arrival,queue,duration"' },
    { case: 'a missing header', text: '0,codeintel,60\n', found: '"0,codeintel,60"' },
    { case: 'an extra column', text: 'arrival_s,queue,duration_s,repo\n', found: '"arrival_s,queue,duration_s,repo"' },
  ])('refuses $case, naming the expected header', ({ text, found }) => {
    // Act
    const error = traceErrorOf(() => parseTraceCsv(text, 'x'));

    // Assess
    expect(error.issues).toEqual([`line 1: expected the header "arrival_s,queue,duration_s", found ${found}`]);
  });

  it('finds the header after leading blank lines and counts lines from the top of the file', () => {
    // Act
    const error = traceErrorOf(() => parseTraceCsv(`\n\n${TRACE_HEADER}\n0,codeintel,0\n`, 'x'));

    // Assess
    expect(error.issues).toEqual(['line 4, column duration_s: "0" must be greater than 0']);
  });

  it.each([
    { case: 'an empty file', text: '', issue: 'the file is empty; expected the header "arrival_s,queue,duration_s"' },
    {
      case: 'a blank file',
      text: '\uFEFF \r\n\n',
      issue: 'the file is empty; expected the header "arrival_s,queue,duration_s"',
    },
    { case: 'a header without jobs', text: `${TRACE_HEADER}\r\n\r\n`, issue: 'the file has a header but no jobs' },
  ])('refuses $case', ({ text, issue }) => {
    // Act
    const error = traceErrorOf(() => parseTraceCsv(text, 'x'));

    // Assess
    expect(error.issues).toEqual([issue]);
  });

  it('cuts long values in messages', () => {
    // Act
    const error = traceErrorOf(() => parseTraceCsv(`${TRACE_HEADER}\n0,${'q'.repeat(500)},1\n`, 'x'));

    // Assess
    expect(error.issues[0]).toBe(
      `line 2, column queue: "${'q'.repeat(40)}…" is not a queue; expected batches or codeintel`,
    );
  });
});

describe('formatTraceCsv', () => {
  it('writes the header and one row per job, ending with a newline', () => {
    // Prepare
    const trace: Trace = {
      name: 'x',
      jobs: [
        { arrivalS: 0, queue: 'codeintel', durationS: 300 },
        { arrivalS: 12.345, queue: 'batches', durationS: 42 },
      ],
      durationS: 60,
    };

    // Act
    const text = formatTraceCsv(trace);

    // Assess
    expect(text).toBe('arrival_s,queue,duration_s\n0,codeintel,300\n12.345,batches,42\n');
  });

  it('round-trips arbitrary valid traces through parseTraceCsv', () => {
    // Prepare
    const arbitraryJob = fc.record({
      arrivalS: fc.oneof(fc.double({ min: 0, max: MAX_TRACE_SECONDS, noNaN: true }), fc.nat(86_400)),
      queue: fc.constantFrom('codeintel' as const, 'batches' as const),
      durationS: fc.oneof(
        fc.double({ min: Number.MIN_VALUE, max: MAX_TRACE_SECONDS, noNaN: true }),
        fc.integer({ min: 1, max: 86_400 }),
      ),
    });
    const arbitraryJobs = fc
      .array(arbitraryJob, { minLength: 1, maxLength: 50 })
      .map((jobs) => jobs.map((job) => ({ ...job, arrivalS: job.arrivalS + 0 })))
      .map((jobs) => [...jobs].sort((a, b) => a.arrivalS - b.arrivalS));

    // Act + Assess
    fc.assert(
      fc.property(arbitraryJobs, (jobs) => {
        const lastArrivalS = jobs.at(-1)?.arrivalS ?? 0;
        const trace: Trace = { name: 'x', jobs, durationS: Math.max(60, Math.ceil(lastArrivalS / 60) * 60) };
        expect(parseTraceCsv(formatTraceCsv(trace), 'x')).toEqual(trace);
      }),
    );
  });
});

describe('readTraceFile', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory !== undefined) {
      await rm(directory, { recursive: true, force: true });
      directory = undefined;
    }
  });

  it('reads a file and names the trace after its path', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-trace-'));
    const path = join(directory, 'day.csv');
    await writeFile(path, `${TRACE_HEADER}\n30,batches,10\n`);

    // Act
    const trace = await readTraceFile(path);

    // Assess
    expect(trace).toEqual({
      name: `file:${path}`,
      jobs: [{ arrivalS: 30, queue: 'batches', durationS: 10 }],
      durationS: 60,
    });
  });

  it('names a missing file and keeps the cause', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-trace-'));
    const path = join(directory, 'missing.csv');

    // Act
    const failure = readTraceFile(path);

    // Assess
    await expect(failure).rejects.toThrow(TraceError);
    await expect(failure).rejects.toMatchObject({
      message: `cannot read trace file ${path}:\n  - no such file`,
      issues: ['no such file'],
      cause: expect.objectContaining({ code: 'ENOENT' }),
    });
  });

  it('names a directory given in place of a file', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-trace-'));

    // Act
    const failure = readTraceFile(directory);

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'TraceError', issues: ['it is a directory, not a file'] });
  });

  it('reports the file as the trace that is invalid', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-trace-'));
    const path = join(directory, 'bad.csv');
    await writeFile(path, `${TRACE_HEADER}\n0,codeintel,0\n`);

    // Act
    const failure = readTraceFile(path);

    // Assess
    await expect(failure).rejects.toThrow(`invalid trace file:${path} (1 problem):`);
  });
});

describe('trace bounds', () => {
  it('refuses arrivals and durations beyond a week, which would ask for millions of simulated minutes', () => {
    const text = `${TRACE_HEADER}\n1e10,codeintel,10\n5,batches,604801\n604800,codeintel,604800\n`;
    const error = (() => {
      try {
        parseTraceCsv(text, 'huge');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TraceError);
    expect((error as TraceError).issues).toEqual([
      'line 2, column arrival_s: "1e10" is beyond 7 days (604800 s)',
      'line 3, column duration_s: "604801" is beyond 7 days (604800 s)',
    ]);
  });
});
