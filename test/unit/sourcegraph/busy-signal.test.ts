import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusyReading } from '../../../shared/ports/busy-signal.ts';
import {
  createPrometheusBusySignal,
  EXPOSITION_ACCEPT,
  type PrometheusBusySignalOptions,
  runningJobsOf,
} from '../../../shared/sourcegraph/busy-signal.ts';
import { parseExposition } from '../../../shared/sourcegraph/exposition.ts';
import { type LoopbackServer, type Reply, startLoopbackServer } from './loopback-server.ts';

const NOW = Date.UTC(2025, 0, 6, 12, 0, 0);
const A = 'ip-10-0-0-1-6f1c2d7e';
const B = 'ip-10-0-0-2-0a9e8d7c';
const USER = 'metrics-reader';
const PASSWORD = 's3cr3t-p@ss/word';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

const body = (...lines: string[]) => `${lines.join('\n')}\n`;
const handlers = (instance: string, queue: string, value: number | string, job = 'sourcegraph-executors') =>
  `src_executor_processor_handlers{queue="${queue}",sg_instance="${instance}",sg_job="${job}"} ${value}`;
const metrics = (text: string, headers: Record<string, string> = { 'content-type': TEXT }): Reply => ({
  status: 200,
  headers,
  body: text,
});
const jobsOf = (text: string) => runningJobsOf(parseExposition(text));

function reason(reading: BusyReading): string {
  if (reading.known) {
    throw new Error(`expected an unknown reading, got ${JSON.stringify([...reading.runningJobs])}`);
  }
  return reading.reason;
}

describe('runningJobsOf', () => {
  it('sums the handler series of each executor over its queues and ignores every other series', () => {
    // Prepare
    const text = body(
      '# TYPE src_executor_processor_handlers gauge',
      handlers(A, 'codeintel', 2),
      handlers(A, 'batches', 1),
      'go_goroutines{sg_instance="ip-10-0-0-1-6f1c2d7e",sg_job="sourcegraph-executors"} 40',
      '# TYPE src_executor_processor_handlers gauge',
      handlers(B, 'codeintel', 0),
      'unrelated_series 7',
    );

    // Act
    const result = jobsOf(text);

    // Assess
    expect(result).toEqual({
      ok: true,
      runningJobs: new Map([
        [A, 3],
        [B, 0],
      ]),
    });
  });

  it('leaves out an executor that pushes other series but no handler gauge: it cannot be vouched for', () => {
    // Act
    const result = jobsOf(
      body(handlers(A, 'codeintel', 0), `node_load1{sg_instance="${B}",sg_job="sourcegraph-executors"} 0.2`),
    );

    // Assess
    expect(result).toEqual({ ok: true, runningJobs: new Map([[A, 0]]) });
  });

  it.each([
    [
      'executors push series but none has a handler gauge',
      body(`go_goroutines{sg_instance="${A}",sg_job="sourcegraph-executors"} 9`),
    ],
    ['the handler family is declared without samples', body('# TYPE src_executor_processor_handlers gauge')],
  ])('is known and empty when %s', (_, text) => {
    // Act
    const result = jobsOf(text);

    // Assess
    expect(result).toEqual({ ok: true, runningJobs: new Map() });
  });

  it.each([
    ['an empty body (no executor reported in 30 s, or a wrong URL)', '', /no executor series/],
    [
      'only series of other jobs',
      body('up 1', 'go_goroutines{sg_instance="x",sg_job="frontend"} 3'),
      /no executor series/,
    ],
    [
      'a handler series without sg_instance',
      body('src_executor_processor_handlers{queue="codeintel"} 1'),
      /has no sg_instance/,
    ],
    ['a handler series with an empty sg_instance', body(handlers('', 'codeintel', 1)), /has no sg_instance/],
    ['a handler series of another job', body(handlers(A, 'codeintel', 1, 'frontend')), /sg_job="frontend", expected/],
    [
      'a handler series without sg_job',
      body(`src_executor_processor_handlers{queue="codeintel",sg_instance="${A}"} 1`),
      /has no sg_job label/,
    ],
    ['a negative value', body(handlers(A, 'codeintel', -1)), /is -1, not a whole number >= 0/],
    ['a fractional value', body(handlers(A, 'codeintel', 1.5)), /is 1.5, not a whole number/],
    ['NaN', body(handlers(A, 'codeintel', 'NaN')), /is NaN/],
    ['+Inf', body(handlers(A, 'codeintel', '+Inf')), /is Infinity/],
    [
      'the handler family declared as a counter',
      body('# TYPE src_executor_processor_handlers counter', handlers(A, 'codeintel', 1)),
      /declared a counter, not a gauge/,
    ],
  ])('is unknown, never a guessed 0, for %s', (_, text, message) => {
    // Act
    const result = jobsOf(text);

    // Assess
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(message) });
  });

  it('names the line of an unreadable sample', () => {
    // Act
    const result = jobsOf(body(handlers(A, 'codeintel', 1), handlers(B, 'codeintel', -2)));

    // Assess
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^line 2: src_executor_processor_handlers/) });
  });
});

describe('createPrometheusBusySignal over HTTP', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer();
  });
  afterEach(() => server.reset());
  afterAll(() => server.close());

  const signal = (overrides: Partial<PrometheusBusySignalOptions> = {}) =>
    createPrometheusBusySignal({ url: `${server.url}/metrics`, timeoutMs: 2_000, clock: () => NOW, ...overrides });
  const withCredentials = (path = '/metrics') =>
    `http://${USER}:${encodeURIComponent(PASSWORD)}@${server.url.slice('http://'.length)}${path}`;

  it('GETs the URL asking for text format 0.0.4, and reads the body into a known reading', async () => {
    // Prepare
    server.reply(metrics(body(handlers(A, 'codeintel', 2))));

    // Act
    const reading = await signal().read();

    // Assess
    expect(reading).toEqual({ known: true, observedAt: NOW, runningJobs: new Map([[A, 2]]) });
    expect(server.requests).toEqual([expect.objectContaining({ method: 'GET', url: '/metrics' })]);
    expect(server.requests[0]?.headers.accept).toBe(EXPOSITION_ACCEPT);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('sends credentials from the URL as basic auth, and never shows them in a reason or a log line', async () => {
    // Prepare: a failing server that echoes everything it was sent
    const warnings: unknown[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (...args: unknown[]) => warnings.push(args) };
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    server.reply({ status: 500, body: `boom: Basic ${basic} ${USER}:${PASSWORD} ${encodeURIComponent(PASSWORD)}` });

    // Act
    const reading = await signal({ url: withCredentials('/metrics?token=abc'), logger }).read();

    // Assess
    expect(server.requests[0]?.headers.authorization).toBe(`Basic ${basic}`);
    expect(server.requests[0]?.url).toBe('/metrics?token=abc');
    const text = reason(reading);
    expect(text).toContain(`GET http://[redacted]@${server.url.slice('http://'.length)}/metrics?[redacted]: HTTP 500`);
    const everything = JSON.stringify([text, warnings]);
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), basic, USER, 'token=abc']) {
      expect(everything).not.toContain(secret);
    }
    expect(warnings).toHaveLength(1);
  });

  it('is unknown for an answer other than 200, quoting the start of the error body', async () => {
    // Prepare
    server.reply(
      { status: 500, body: 'An error has occurred while serving metrics:\n\nretrieving blobs from redis: timeout' },
      { status: 204 },
      { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } },
    );

    // Act
    const failed = reason(await signal().read());
    const empty = reason(await signal().read());
    const redirected = reason(await signal().read());

    // Assess: the redirect is reported, not followed
    expect(failed).toMatch(/HTTP 500: "An error has occurred while serving metrics: retrieving blobs from redis/);
    expect(empty).toMatch(/HTTP 204: \(empty body\)/);
    expect(redirected).toMatch(/HTTP 302/);
    expect(server.requests).toHaveLength(3);
  });

  it.each([
    ['an HTML page', { 'content-type': 'text/html' }],
    ['OpenMetrics', { 'content-type': 'application/openmetrics-text; version=1.0.0' }],
    ['another text format version', { 'content-type': 'text/plain; version=1.0.0' }],
    ['no content type', {}],
  ])('is unknown for %s', async (_, headers) => {
    // Prepare
    server.reply(metrics(body(handlers(A, 'codeintel', 0)), headers));

    // Act
    const text = reason(await signal().read());

    // Assess
    expect(text).toMatch(/expected text\/plain;version=0\.0\.4, got/);
  });

  it('is unknown for a garbled body, naming the line', async () => {
    // Prepare
    server.reply(
      metrics(body(handlers(A, 'codeintel', 1), 'src_executor_processor_handlers{queue="codeintel",sg_inst')),
    );

    // Act
    const text = reason(await signal().read());

    // Assess
    expect(text).toMatch(/^BusySignalReadError: GET .*: not Prometheus text format 0\.0\.4: line 2: /);
  });

  it('is unknown for a body that is not UTF-8', async () => {
    // Prepare
    const fetchInvalid: typeof fetch = async () =>
      new Response(new Uint8Array([0x6d, 0x20, 0x31, 0xff, 0x0a]), { headers: { 'content-type': TEXT } });

    // Act
    const text = reason(await signal({ fetch: fetchInvalid }).read());

    // Assess
    expect(text).toMatch(/not valid UTF-8/);
  });

  it('refuses a body over the size limit, whether or not its length is declared', async () => {
    // Prepare
    const large = body(...Array.from({ length: 200 }, (_, i) => handlers(`${A}-${i}`, 'codeintel', 0)));
    server.reply(
      metrics(large, { 'content-type': TEXT, 'content-length': String(Buffer.byteLength(large)) }),
      metrics(large),
    );

    // Act
    const declared = reason(await signal({ maxBodyBytes: 1_024 }).read());
    const streamed = reason(await signal({ maxBodyBytes: 1_024 }).read());

    // Assess
    expect(declared).toMatch(/the body is \d+ bytes, more than the 1024-byte limit/);
    expect(streamed).toMatch(/more than the 1024-byte limit/);
  });

  it('is unknown once the timeout passes without an answer', async () => {
    // Prepare
    server.reply('hang');
    const started = performance.now();

    // Act
    const text = reason(await signal({ timeoutMs: 150 }).read());

    // Assess
    expect(text).toMatch(/no complete answer within 150ms/);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("is unknown when the cycle's deadline aborts the read midway", async () => {
    // Prepare
    server.reply('hang');
    const deadline = AbortSignal.timeout(100);

    // Act
    const text = reason(await signal({ timeoutMs: 5_000 }).read({ signal: deadline }));

    // Assess
    expect(text).toMatch(/time budget ran out before the answer was complete/);
  });

  it('is unknown when nothing listens at the URL', async () => {
    // Prepare
    const gone = await startLoopbackServer();
    await gone.close();

    // Act
    const text = reason(await signal({ url: `${gone.url}/metrics` }).read());

    // Assess
    expect(text).toMatch(/network error: .*ECONNREFUSED/);
  });

  it('is unknown, not a throw, when the injected fetch itself throws', async () => {
    // Prepare
    const broken: typeof fetch = () => {
      throw new TypeError('fetch is broken');
    };

    // Act
    const reading = await signal({ fetch: broken }).read();

    // Assess
    expect(reason(reading)).toMatch(/network error: TypeError: fetch is broken/);
  });

  it.each([
    ['an invalid URL', { url: `http://${USER}:${encodeURIComponent(PASSWORD)}@host:99999/metrics` }, /not a valid URL/],
    ['a scheme other than http(s)', { url: 'file:///etc/metrics' }, /must be http or https, got file:/],
    ['a timeout of 0', { timeoutMs: 0 }, /timeoutMs must be a positive number/],
    ['a fractional body limit', { maxBodyBytes: 1.5 }, /maxBodyBytes must be a positive whole number/],
  ])('refuses %s at construction, never quoting the URL', (_, overrides, message) => {
    // Act
    const create = () => signal(overrides);

    // Assess
    expect(create).toThrow(message);
    expect(create).not.toThrow(encodeURIComponent(PASSWORD));
  });
});
