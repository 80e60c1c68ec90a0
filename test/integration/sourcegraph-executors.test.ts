import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LOCAL_SOURCEGRAPH_TOKEN,
  type SourcegraphEmulator,
  startSourcegraphEmulator,
} from '../../local/sourcegraph/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import { SecretValue } from '../../shared/config/secret.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import type { QueueName } from '../../shared/domain/queues.ts';
import { silentLogger } from '../../shared/observability/logger.ts';
import type { ExecutorRecord } from '../../shared/ports/executor-directory.ts';
import {
  createGraphQLTransport,
  createSourcegraphExecutorDirectory,
  ExecutorListLimitError,
  executorDirectoryFor,
  type GraphQLTransportOptions,
  SourcegraphAuthError,
  type SourcegraphExecutorDirectoryOptions,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
} from '../../shared/sourcegraph/index.ts';
import { defineExecutorDirectoryContract, START } from '../contract/executor-directory.contract.ts';
import { json, type LoopbackServer, startLoopbackServer } from '../unit/sourcegraph/loopback-server.ts';

const ADMIN = LOCAL_SOURCEGRAPH_TOKEN;
const USER = 'sgp_local_ordinary_user_token_000000000000';
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

interface Stack {
  readonly world: World;
  readonly sg: SourcegraphEmulator;
  /** Moves the simulated clock. */
  advance(ms: number): void;
  /** A new VM named `host`, its executor heartbeating from now on (no boot delay). */
  boot(host: string, queues?: readonly QueueName[]): void;
  /** The newest VM named `host` goes away now. */
  kill(host: string): void;
  /** The `variables` of every GraphQL request sent, in order. */
  readonly sent: Record<string, unknown>[];
  directory(
    options?: SourcegraphExecutorDirectoryOptions & { token?: string; beforeRequest?: (n: number) => void },
  ): ReturnType<typeof createSourcegraphExecutorDirectory>;
}

async function startStack(worldOptions: { executorVersion?: string } = {}): Promise<Stack> {
  let now = START;
  let seed = 0;
  const world = createWorld({
    clock: () => now,
    bootDelayMs: 0,
    // Repeatable UUIDs.
    random: () => {
      seed = (seed * 9301 + 49297) % 233280;
      return seed / 233280;
    },
    ...worldOptions,
  });
  const sg = await startSourcegraphEmulator({
    world,
    tokens: [
      { token: ADMIN, siteAdmin: true },
      { token: USER, siteAdmin: false },
    ],
  });
  const vms = new Map<string, string>();
  let launched = 0;
  const sent: Record<string, unknown>[] = [];
  return {
    world,
    sg,
    sent,
    advance(ms) {
      now += ms;
    },
    boot(host, queues = ['batches']) {
      launched += 1;
      const id = `i-${String(launched).padStart(4, '0')}`;
      world.launchInstance('aws:us-east-1:executors', { id, hostname: host, queues });
      vms.set(host, id);
    },
    kill(host) {
      const id = vms.get(host);
      if (id === undefined) {
        throw new Error(`no VM named ${host}`);
      }
      world.terminateInstance(id);
    },
    directory({ token = ADMIN, beforeRequest, ...options } = {}) {
      let requests = 0;
      const transport = createGraphQLTransport({
        endpoint: sg.url,
        token: () => token,
        sleep: async () => undefined,
        random: () => 0,
        fetch: async (input, init) => {
          requests += 1;
          beforeRequest?.(requests);
          const body: unknown = JSON.parse(String(init?.body));
          if (isRecord(body) && isRecord(body.variables)) {
            sent.push({ ...body.variables });
          }
          return fetch(input, init);
        },
      });
      return createSourcegraphExecutorDirectory(transport, options);
    },
  };
}

defineExecutorDirectoryContract(
  'GraphQL adapter over the Sourcegraph emulator (loopback HTTP, 3 rows a page)',
  async () => {
    const stack = await startStack();
    return {
      directory: stack.directory({ pageSize: 3 }),
      boot: (host, queues) => stack.boot(host, queues),
      kill: (host) => stack.kill(host),
      advance: (ms) => stack.advance(ms),
      failNextRead: () => stack.sg.injectGraphQLError({ field: 'executors', times: 1 }),
      close: () => stack.sg.close(),
    };
  },
);

describe('Sourcegraph executor directory against the emulator', () => {
  let stack: Stack;
  afterEach(() => stack.sg.close());

  const hosts = (records: readonly ExecutorRecord[]) => records.map((record) => record.host);
  const bootMany = (count: number) => {
    for (let index = 1; index <= count; index++) {
      stack.boot(`ip-10-0-1-${index}`);
      stack.advance(5_000);
    }
  };

  it('pages through every row with opaque cursors, then checks the newest row is still first', async () => {
    // Prepare
    stack = await startStack();
    bootMany(8);

    // Act
    const records = await stack.directory({ pageSize: 3 }).list();

    // Assess
    expect(hosts(records)).toEqual([8, 7, 6, 5, 4, 3, 2, 1].map((index) => `ip-10-0-1-${index}`));
    expect(stack.sent).toEqual([
      { first: 3, after: null, withCompatibility: true },
      { first: 3, after: 'Mw==', withCompatibility: true },
      { first: 3, after: 'Ng==', withCompatibility: true },
      { first: 1, after: null, withCompatibility: false },
    ]);
    expect(stack.sg.emulator.requests.map((request) => request.operation)).toEqual(Array(4).fill('ExecutorsPage'));
  });

  it('answers from one request when every row fits in a page', async () => {
    // Prepare
    stack = await startStack();
    bootMany(3);

    // Act
    const records = await stack.directory().list();

    // Assess
    expect(records).toHaveLength(3);
    expect(stack.sent).toEqual([{ first: 500, after: null, withCompatibility: true }]);
  });

  it('reads again from the start when an executor appears between pages, and logs why', async () => {
    // Prepare
    stack = await startStack();
    bootMany(5);
    const warn = vi.fn();
    const directory = stack.directory({
      pageSize: 2,
      logger: { info: vi.fn(), warn, error: vi.fn() },
      // The new row lands in front and pushes every row one place back: page 2 would repeat a row.
      beforeRequest: (n) => (n === 2 ? stack.boot('ip-10-0-1-new') : undefined),
    });

    // Act
    const records = await directory.list();

    // Assess
    expect(hosts(records)).toEqual(['ip-10-0-1-new', ...[5, 4, 3, 2, 1].map((index) => `ip-10-0-1-${index}`)]);
    expect(warn).toHaveBeenCalledExactlyOnceWith(
      'executor rows moved while paging; listing again',
      expect.objectContaining({ attempt: 1, reason: 'totalCount went from 5 to 6 between pages' }),
    );
  });

  it('gives up with SourcegraphResponseError when rows keep moving, returning nothing', async () => {
    // Prepare
    stack = await startStack();
    bootMany(4);
    let extra = 0;
    const directory = stack.directory({
      pageSize: 3,
      beforeRequest: (n) => (n % 2 === 0 ? stack.boot(`ip-10-0-2-${++extra}`) : undefined),
    });

    // Act
    const failed = directory.list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphResponseError);
    await expect(failed).rejects.toThrow(/kept moving while they were paged \(3 attempts/);
  });

  it('rates executors more than a minor release behind OUTDATED while they heartbeat, and a silent one not at all', async () => {
    // Prepare
    stack = await startStack({ executorVersion: '6.8.2' });
    stack.boot('ip-10-0-0-1');
    stack.boot('ip-10-0-0-2');
    stack.advance(10_000);
    stack.kill('ip-10-0-0-2');
    stack.advance(20_000);

    // Act
    const records = await stack.directory().list();

    // Assess
    expect(records.map(({ host, version, compatibility }) => ({ host, version, compatibility }))).toEqual([
      { host: 'ip-10-0-0-1', version: '6.8.2', compatibility: 'OUTDATED' },
      { host: 'ip-10-0-0-2', version: '6.8.2', compatibility: undefined },
    ]);
  });

  it('lists without ratings when Sourcegraph cannot parse a version, and says so in a warning', async () => {
    // Prepare
    stack = await startStack({ executorVersion: 'custom-build' });
    bootMany(2);
    const warn = vi.fn();

    // Act
    const records = await stack.directory({ logger: { info: vi.fn(), warn, error: vi.fn() } }).list();

    // Assess
    expect(records.map(({ host, version, compatibility }) => ({ host, version, compatibility }))).toEqual([
      { host: 'ip-10-0-1-2', version: 'custom-build', compatibility: undefined },
      { host: 'ip-10-0-1-1', version: 'custom-build', compatibility: undefined },
    ]);
    expect(stack.sent.map((variables) => variables.withCompatibility)).toEqual([true, false]);
    expect(warn).toHaveBeenCalledWith(
      'Sourcegraph could not rate executor versions; listing without compatibility',
      expect.objectContaining({ reason: expect.stringContaining('Invalid Semantic Version') }),
    );
  });

  it('throws the GraphQL error when a later page fails, never the rows already read', async () => {
    // Prepare
    stack = await startStack();
    bootMany(5);
    const directory = stack.directory({
      pageSize: 2,
      beforeRequest: (n) =>
        n === 3
          ? stack.sg.injectGraphQLError({ field: 'executors', message: 'pq: connection reset', times: 1 })
          : undefined,
    });

    // Act
    const failed = directory.list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphGraphQLError);
    await expect(failed).rejects.toThrow('pq: connection reset (at executors)');
  });

  it('throws SourcegraphResponseError on an answer no client can parse', async () => {
    // Prepare
    stack = await startStack();
    bootMany(1);
    stack.sg.emulator.injectFault({ kind: 'garbage', operation: 'ExecutorsPage', times: 1 });

    // Act
    const failed = stack.directory().list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphResponseError);
  });

  it('refuses a token that is not a site admin with a clear error that does not carry the token', async () => {
    // Prepare
    stack = await startStack();
    bootMany(1);

    // Act
    const failed = stack.directory({ token: USER }).list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphPermissionError);
    await expect(failed).rejects.toThrow(/listing executors needs a site admin.*must be site admin/);
    const error: unknown = await failed.catch((caught: unknown) => caught);
    const cause = error instanceof Error ? String(error.cause) : '';
    expect(`${String(error)} ${cause}`).not.toContain(USER);
  });

  it('reports a rejected token as SourcegraphAuthError without the token', async () => {
    // Prepare
    stack = await startStack();
    const token = 'sgp_revoked_token_that_must_not_leak_0000';

    // Act
    const failed = stack.directory({ token }).list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphAuthError);
    await expect(failed).rejects.not.toThrow(token);
  });

  it('stops at the limit after one request rather than list part of the rows', async () => {
    // Prepare
    stack = await startStack();
    bootMany(7);

    // Act
    const failed = stack.directory({ pageSize: 2, maxPages: 3 }).list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(ExecutorListLimitError);
    await expect(failed).rejects.toMatchObject({ totalCount: 7, limit: 6 });
    expect(stack.sent).toHaveLength(1);
  });

  it('is built from settings by executorDirectoryFor', async () => {
    // Prepare
    stack = await startStack();
    bootMany(2);
    const settings = {
      endpoint: stack.sg.url,
      token: { kind: 'value', value: new SecretValue(ADMIN) } as const,
      timeoutMs: 2_000,
      maxAttempts: 1,
      maxBatchSpecs: 1000,
      batchSpecPageSize: 100,
    };

    // Act
    const directory = executorDirectoryFor(settings, {
      token: async () => ADMIN,
      clock: () => START,
      logger: silentLogger,
      limits: { pageSize: 1 },
    });
    const records = await directory.list();

    // Assess
    expect(hosts(records)).toEqual(['ip-10-0-1-2', 'ip-10-0-1-1']);
    expect(stack.sg.emulator.requests).toHaveLength(3);
  });
});

describe('Sourcegraph executor directory against scripted answers', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer();
  });
  afterEach(() => server.reset());
  afterAll(() => server.close());

  const TOKEN = 'sgp_scripted_admin_token_0123456789abcdef';
  const directory = (options: SourcegraphExecutorDirectoryOptions = {}) =>
    createSourcegraphExecutorDirectory(
      createGraphQLTransport({
        endpoint: server.url,
        token: () => TOKEN,
        sleep: async () => undefined,
        random: () => 0,
        maxAttempts: 1,
      } satisfies GraphQLTransportOptions),
      options,
    );
  const node = (host: string, overrides: Record<string, unknown> = {}) => ({
    hostname: `${host}-${UUID}`,
    queueName: 'batches',
    queueNames: [],
    firstSeenAt: '2025-03-03T10:00:00Z',
    lastSeenAt: '2025-03-03T10:05:00Z',
    executorVersion: '6.10.0',
    compatibility: 'UP_TO_DATE',
    ...overrides,
  });
  const page = (totalCount: number, nodes: readonly unknown[], endCursor: string | null = null) =>
    json({ data: { executors: { totalCount, pageInfo: { hasNextPage: endCursor !== null, endCursor }, nodes } } });

  it('reads 5.0 and 5.1 queue fields, offsets and fractions in times, and an unknown rating as none', async () => {
    // Prepare
    server.reply(
      page(3, [
        node('multi', { queueName: null, queueNames: ['batches', 'codeintel'], compatibility: 'SOMETHING_NEW' }),
        node('single', { queueNames: null, firstSeenAt: '2025-03-03T12:00:00.5+02:00' }),
        node('both', { queueName: 'codeintel', queueNames: ['codeintel'], compatibility: null }),
      ]),
    );

    // Act
    const records = await directory().list();

    // Assess
    expect(records).toEqual([
      {
        name: `multi-${UUID}`,
        host: 'multi',
        queueNames: ['batches', 'codeintel'],
        firstSeenAt: START,
        lastSeenAt: START + 300_000,
        version: '6.10.0',
        compatibility: undefined,
      },
      expect.objectContaining({
        host: 'single',
        queueNames: ['batches'],
        firstSeenAt: START + 500,
        compatibility: 'UP_TO_DATE',
      }),
      expect.objectContaining({ host: 'both', queueNames: ['codeintel'], compatibility: undefined }),
    ]);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toMatchObject({
      operationName: 'ExecutorsPage',
      variables: { first: 500, after: null, withCompatibility: true },
    });
    expect(server.requests[0]?.body).not.toMatch(/active/);
  });

  it('reads again when the janitor deleted a row between pages, so no live executor is skipped', async () => {
    // Prepare: e2 is deleted after page 1, pulling e1 forward onto the page already read
    const [e5, e4, e3, e1] = ['e5', 'e4', 'e3', 'e1'].map((host) => node(host));
    server.reply(
      page(5, [e5, e4, e3], 'Mw=='),
      page(4, []),
      page(4, [e5, e4, e3], 'Mw=='),
      page(4, [e1]),
      page(4, [e5]),
    );

    // Act
    const records = await directory({ pageSize: 3 }).list();

    // Assess
    expect(records.map((record) => record.host)).toEqual(['e5', 'e4', 'e3', 'e1']);
    expect(server.requests).toHaveLength(5);
  });

  it('reads again when a new row and a deleted row leave totalCount as it was, so the new executor is not missed', async () => {
    // Prepare: after page 1, e5 starts (in front) and e2 is deleted: page 2 still starts at e1, the count stays 4
    const [e5, e4, e3, e2, e1] = ['e5', 'e4', 'e3', 'e2', 'e1'].map((host) => node(host));
    server.reply(
      page(4, [e4, e3, e2], 'Mw=='),
      page(4, [e1]),
      page(4, [e5]),
      page(4, [e5, e4, e3], 'Mw=='),
      page(4, [e1]),
      page(4, [e5]),
    );

    // Act
    const records = await directory({ pageSize: 3 }).list();

    // Assess
    expect(records.map((record) => record.host)).toEqual(['e5', 'e4', 'e3', 'e1']);
    expect(server.requests).toHaveLength(6);
  });

  it.each([
    ['a row without a hostname', page(1, [node('a', { hostname: '' })])],
    ['a time that is not RFC 3339', page(1, [node('a', { lastSeenAt: '03/03/2025 10:05' })])],
    ['a negative totalCount', page(-1, [])],
    [
      'a next page without a cursor',
      json({
        data: { executors: { totalCount: 2, pageInfo: { hasNextPage: true, endCursor: null }, nodes: [node('a')] } },
      }),
    ],
    ['fewer rows than counted on the last page', page(2, [node('a')])],
    ['the same row twice on one page', page(2, [node('a'), node('a')])],
    ['HTML with status 200', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }],
    ['no data', json({ data: null })],
  ])('throws SourcegraphResponseError on %s', async (_case, reply) => {
    // Prepare
    server.reply(reply);

    // Act
    const failed = directory().list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphResponseError);
    expect(server.requests).toHaveLength(1);
  });

  it('throws SourcegraphResponseError when the server says there is always a next page', async () => {
    // Prepare
    server.reply(page(4, [node('a')], 'MQ=='), page(4, [node('b')], 'Mg=='));

    // Act
    const failed = directory({ pageSize: 2, maxPages: 2 }).list();

    // Assess
    await expect(failed).rejects.toThrow(/still a next page after 2 pages/);
  });

  it('fails on an error outside the ratings, even beside rating errors', async () => {
    // Prepare
    const errors = [
      { message: 'Invalid Semantic Version', path: ['executors', 'nodes', 0, 'compatibility'] },
      { message: 'pq: canceling statement due to statement timeout', path: ['executors', 'nodes', 1, 'lastSeenAt'] },
    ];
    server.reply(json({ data: { executors: null }, errors }));

    // Act
    const failed = directory().list();

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SourcegraphGraphQLError);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps the access token out of every error message, even when the server quotes it', async () => {
    // Prepare
    server.reply(
      json({ errors: [{ message: `token ${TOKEN} is not allowed here`, path: ['executors'] }], data: null }),
    );

    // Act
    const error: unknown = await directory()
      .list()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SourcegraphGraphQLError);
    expect(String(error)).toContain('[redacted]');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(String(error)).not.toContain(TOKEN);
  });

  it('refuses page settings that cannot bound a read', () => {
    // Assess
    for (const options of [
      { pageSize: 0 },
      { pageSize: 1.5 },
      { maxPages: 0 },
      { maxPages: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => directory(options)).toThrow(RangeError);
    }
  });
});
