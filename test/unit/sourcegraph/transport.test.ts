import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  SourcegraphAuthError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
  SourcegraphTimeoutError,
  SourcegraphUnavailableError,
} from '../../../shared/sourcegraph/errors.ts';
import {
  createGraphQLTransport,
  type GraphQLTransportOptions,
  parseRetryAfter,
} from '../../../shared/sourcegraph/transport.ts';
import { json, type LoopbackServer, startLoopbackServer } from './loopback-server.ts';

const TOKEN = 'sgp_fleetplane0TESTTOKEN0d34db33f';
const DOCUMENT = 'query Probe { preciseIndexes(first: 1) { totalCount } }';
const probe = z.object({ preciseIndexes: z.object({ totalCount: z.number().int().nonnegative() }) });

let server: LoopbackServer;
let sleeps: number[];

beforeAll(async () => {
  server = await startLoopbackServer();
});
afterEach(() => server.reset());
afterAll(() => server.close());

function transport(overrides: Partial<GraphQLTransportOptions> = {}) {
  sleeps = [];
  return createGraphQLTransport({
    endpoint: `${server.url}//`,
    token: () => TOKEN,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

const probeRequest = (options: Partial<GraphQLTransportOptions> = {}) =>
  transport(options).request('Probe', DOCUMENT, { a: 1 }, probe);

/** Every string reachable from an error and its cause chain, own non-enumerable properties included. */
function serializeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(JSON.stringify(current), current.name, current.message, current.stack ?? '');
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('createGraphQLTransport on the wire', () => {
  it('posts the operation to /.api/graphql?<name> with the token and JSON headers', async () => {
    // Prepare
    server.reply(json({ data: { preciseIndexes: { totalCount: 7 } } }));

    // Act
    const data = await probeRequest();

    // Assess
    expect(data).toEqual({ preciseIndexes: { totalCount: 7 } });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/.api/graphql?Probe');
    expect(request?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['user-agent']).toMatch(/^fleetplane/);
    expect(JSON.parse(request?.body ?? '')).toEqual({ query: DOCUMENT, variables: { a: 1 }, operationName: 'Probe' });
  });
});

describe('createGraphQLTransport error classification', () => {
  it.each([
    { name: '401', reply: { status: 401, body: 'Invalid access token.' }, type: SourcegraphAuthError, status: 401 },
    { name: '403', reply: { status: 403, body: 'Forbidden' }, type: SourcegraphPermissionError, status: 403 },
    {
      name: 'a site-admin GraphQL error',
      reply: json({ data: null, errors: [{ message: 'must be site admin', path: ['preciseIndexes'] }] }),
      type: SourcegraphPermissionError,
      status: undefined,
    },
    {
      name: 'an HTML page',
      reply: {
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: `<!DOCTYPE html>${'<p>x</p>'.repeat(100)}`,
      },
      type: SourcegraphResponseError,
      status: 200,
    },
    { name: 'a 400', reply: { status: 400, body: 'bad request' }, type: SourcegraphResponseError, status: 400 },
  ])('maps $name to $type.name without retrying', async ({ reply, type, status }) => {
    // Prepare
    server.reply(reply);

    // Act
    const error = await caught(probeRequest());

    // Assess
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ status });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('keeps every GraphQL message and path on a non-permission error', async () => {
    // Prepare
    const errors = [
      { message: 'boom', path: ['preciseIndexes', 'totalCount'] },
      { message: 'also boom', path: ['preciseIndexes'] },
    ];
    server.reply(json({ data: null, errors }));

    // Act
    const error = await caught(probeRequest());

    // Assess
    expect(error).toBeInstanceOf(SourcegraphGraphQLError);
    expect(error).toMatchObject({ errors });
    expect(String(error)).toContain('boom (at preciseIndexes.totalCount)');
  });

  it('quotes at most ~200 characters of a non-JSON body', async () => {
    // Prepare
    const body = `<html>${'a'.repeat(1000)}</html>`;
    server.reply({ status: 200, headers: { 'content-type': 'text/html' }, body });

    // Act
    const error = await caught(probeRequest());

    // Assess
    expect(error).toBeInstanceOf(SourcegraphResponseError);
    expect(String(error)).toContain('text/html');
    expect(String(error).length).toBeLessThan(400);
  });

  it.each([
    { name: 'a string where an int belongs', totalCount: '7', path: 'preciseIndexes.totalCount' },
    { name: 'a negative count', totalCount: -1, path: 'preciseIndexes.totalCount' },
    { name: 'a fractional count', totalCount: 1.5, path: 'preciseIndexes.totalCount' },
    { name: 'a null count', totalCount: null, path: 'preciseIndexes.totalCount' },
    { name: 'a missing field', totalCount: undefined, path: 'preciseIndexes.totalCount' },
  ])('rejects $name as a ResponseError naming the path', async ({ totalCount, path }) => {
    // Prepare
    server.reply(json({ data: { preciseIndexes: { totalCount } } }));

    // Act
    const error = await caught(probeRequest());

    // Assess
    expect(error).toBeInstanceOf(SourcegraphResponseError);
    expect(String(error)).toContain(path);
  });

  it('rejects a redirect instead of following it with the token', async () => {
    // Prepare
    server.reply({ status: 302, headers: { location: 'https://elsewhere.example/login' } });

    // Act
    const error = await caught(probeRequest());

    // Assess
    expect(error).toBeInstanceOf(SourcegraphResponseError);
    expect(server.requests).toHaveLength(1);
  });
});

describe('createGraphQLTransport retries', () => {
  it('retries a 503 and returns the next success', async () => {
    // Prepare
    server.reply({ status: 503, body: 'unavailable' }, json({ data: { preciseIndexes: { totalCount: 2 } } }));

    // Act
    const data = await probeRequest();

    // Assess
    expect(data.preciseIndexes.totalCount).toBe(2);
    expect(server.requests).toHaveLength(2);
    // Full jitter: random 0.5 × the first ceiling (baseDelayMs 250).
    expect(sleeps).toEqual([125]);
  });

  it('waits what Retry-After asks on a 429', async () => {
    // Prepare
    server.reply(
      { status: 429, headers: { 'retry-after': '3' } },
      json({ data: { preciseIndexes: { totalCount: 0 } } }),
    );

    // Act
    await probeRequest();

    // Assess
    expect(sleeps).toEqual([3000]);
    expect(server.requests).toHaveLength(2);
  });

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    // Prepare
    const now = Date.parse('2025-01-01T00:00:00Z');
    const retryAt = new Date(now + 5000).toUTCString();
    server.reply(
      { status: 503, headers: { 'retry-after': retryAt } },
      json({ data: { preciseIndexes: { totalCount: 0 } } }),
    );

    // Act
    await probeRequest({ clock: () => now });

    // Assess
    expect(sleeps).toEqual([5000]);
  });

  it('gives up at once when Retry-After exceeds four times maxDelayMs', async () => {
    // Prepare
    server.reply({ status: 429, headers: { 'retry-after': '17' } });

    // Act
    const error = await caught(probeRequest({ maxDelayMs: 4000 }));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphUnavailableError);
    expect(error).toMatchObject({ status: 429 });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('makes exactly maxAttempts requests with growing backoff ceilings', async () => {
    // Prepare
    server.reply(...Array.from({ length: 4 }, () => ({ status: 502, body: 'bad gateway' })));

    // Act
    const error = await caught(probeRequest({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 }));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphUnavailableError);
    expect(error).toMatchObject({ status: 502 });
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 150]);
  });

  it('turns a server that never answers into a TimeoutError after maxAttempts', async () => {
    // Prepare
    server.reply('hang', 'hang');

    // Act
    const error = await caught(probeRequest({ timeoutMs: 50, maxAttempts: 2 }));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphTimeoutError);
    expect(server.requests).toHaveLength(2);
  });

  it("stops at the caller's deadline, mid-request and without further attempts", async () => {
    // Prepare: a server that never answers, a per-attempt timeout far beyond the deadline
    server.reply('hang', 'hang', 'hang');
    const started = Date.now();

    // Act
    const error = await caught(
      transport({ timeoutMs: 10_000, maxAttempts: 3 }).request('Probe', DOCUMENT, {}, probe, {
        signal: AbortSignal.timeout(100),
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(SourcegraphTimeoutError);
    expect(String(error)).toMatch(/time budget ran out/);
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('starts no attempt once the deadline has passed', async () => {
    // Act
    const error = await caught(
      transport().request('Probe', DOCUMENT, {}, probe, { signal: AbortSignal.abort(new Error('spent')) }),
    );

    // Assess
    expect(error).toBeInstanceOf(SourcegraphTimeoutError);
    expect(server.requests).toHaveLength(0);
  });

  it('retries a refused connection and reports it as unavailable', async () => {
    // Prepare
    const closed = await startLoopbackServer();
    await closed.close();

    // Act
    const error = await caught(probeRequest({ endpoint: closed.url, maxAttempts: 2 }));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphUnavailableError);
    expect(String(error)).toContain('network error');
    expect(sleeps).toHaveLength(1);
  });
});

describe('createGraphQLTransport keeps the token secret', () => {
  it.each([
    { name: '401', reply: { status: 401, body: `bad token ${TOKEN}` } },
    { name: '403', reply: { status: 403, body: `token ${TOKEN} may not` } },
    { name: 'HTML', reply: { status: 200, body: `<html>your token is ${TOKEN}</html>` } },
    { name: 'GraphQL error', reply: json({ errors: [{ message: `token ${TOKEN} is not a site admin` }] }) },
    { name: 'bad JSON', reply: { status: 200, body: `{"data": ${TOKEN}` } },
    { name: '400', reply: { status: 400, body: TOKEN } },
    { name: '500', reply: { status: 500, body: TOKEN } },
  ])('never puts it in a $name error or its causes', async ({ reply }) => {
    // Prepare
    server.reply(reply);

    // Act
    const error = await caught(probeRequest({ maxAttempts: 1 }));

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(serializeChain(error)).not.toContain(TOKEN);
  });

  it('never logs it while retrying', async () => {
    // Prepare
    const lines: string[] = [];
    const log = (message: string, context?: object) => lines.push(JSON.stringify({ message, context }));
    server.reply({ status: 503, body: TOKEN }, json({ data: { preciseIndexes: { totalCount: 0 } } }));

    // Act
    await probeRequest({ logger: { info: log, warn: log, error: log } });

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});

describe('requestFields', () => {
  const fields = {
    preciseIndexes: z.object({ totalCount: z.number().int().nonnegative() }),
    batchSpecs: z.object({ totalCount: z.number().int().nonnegative() }),
  };
  const DOC = 'query Both { preciseIndexes { totalCount } batchSpecs { totalCount } }';

  it('keeps the fields that succeeded when another field failed', async () => {
    // Prepare
    server.reply(
      json({
        data: { preciseIndexes: { totalCount: 4 }, batchSpecs: null },
        errors: [{ message: 'boom', path: ['batchSpecs', 'totalCount'] }],
      }),
    );

    // Act
    const result = await transport().requestFields('Both', DOC, {}, fields);

    // Assess
    expect(result.field('preciseIndexes')).toEqual({ ok: true, value: { totalCount: 4 } });
    const batches = result.field('batchSpecs');
    expect(batches.ok).toBe(false);
    expect(batches.ok ? undefined : batches.error).toBeInstanceOf(SourcegraphGraphQLError);
  });

  it('fails only the field whose data is invalid', async () => {
    // Prepare
    server.reply(json({ data: { preciseIndexes: { totalCount: 4 }, batchSpecs: { totalCount: 'many' } } }));

    // Act
    const result = await transport().requestFields('Both', DOC, {}, fields);

    // Assess
    expect(result.field('preciseIndexes').ok).toBe(true);
    const batches = result.field('batchSpecs');
    expect(batches.ok ? undefined : batches.error).toBeInstanceOf(SourcegraphResponseError);
    expect(batches.ok ? '' : batches.error.message).toContain('batchSpecs.totalCount');
  });

  it('reports a field absent from the result as a ResponseError', async () => {
    // Prepare
    server.reply(json({ data: { preciseIndexes: { totalCount: 4 } } }));

    // Act
    const result = await transport().requestFields('Both', DOC, {}, fields);

    // Assess
    const batches = result.field('batchSpecs');
    expect(batches.ok ? undefined : batches.error).toBeInstanceOf(SourcegraphResponseError);
  });

  it.each([
    { name: 'an error without a path', body: { data: { preciseIndexes: null }, errors: [{ message: 'nope' }] } },
    { name: 'null data', body: { data: null, errors: [{ message: 'boom', path: ['batchSpecs'] }] } },
  ])('throws for the whole request on $name', async ({ body }) => {
    // Prepare
    server.reply(json(body));

    // Act
    const error = await caught(transport().requestFields('Both', DOC, {}, fields));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphGraphQLError);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    { value: null, expected: undefined },
    { value: '', expected: undefined },
    { value: '0', expected: 0 },
    { value: '12', expected: 12_000 },
    { value: 'soon', expected: undefined },
    { value: 'Wed, 01 Jan 2025 00:00:10 GMT', expected: 10_000 },
    { value: 'Tue, 31 Dec 2024 23:59:00 GMT', expected: 0 },
  ])('reads $value as $expected ms', ({ value, expected }) => {
    // Prepare
    const now = Date.parse('2025-01-01T00:00:00Z');

    // Act
    const delay = parseRetryAfter(value, now);

    // Assess
    expect(delay).toBe(expected);
  });
});
