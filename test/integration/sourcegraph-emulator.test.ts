import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  LOCAL_SOURCEGRAPH_TOKEN,
  type SourcegraphEmulator,
  startSourcegraphEmulator,
} from '../../local/sourcegraph/index.ts';
import { compatibility } from '../../local/sourcegraph/resolvers/executors.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import type { QueueName } from '../../shared/domain/queues.ts';
import {
  createGraphQLTransport,
  createSourcegraphQueueDepthSource,
  type GraphQLTransportOptions,
  SourcegraphAuthError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
  SourcegraphTimeoutError,
} from '../../shared/sourcegraph/index.ts';

const ADMIN = LOCAL_SOURCEGRAPH_TOKEN;
const USER = 'sgp_local_ordinary_user_token_000000000000';
const SECRET = 'executor-secret-for-the-tests-0001';
const START = Date.parse('2025-03-03T10:00:00Z');
const BOTH: ReadonlySet<QueueName> = new Set(['codeintel', 'batches']);
const SITE_CONFIG = `{
  // Where users reach the instance.
  "externalURL": "https://sourcegraph.example.com",
  /* Executors */
  "executors.accessToken": "${SECRET}", // rotated by fleetplane
  "codeIntelAutoIndexing.enabled": true,
}
`;

let now: number;
let world: World;
let sg: SourcegraphEmulator;
let sleeps: number[];

beforeEach(async () => {
  now = START;
  world = createWorld({ clock: () => now, bootDelayMs: 10_000, jobDurationMs: 60_000, maxJobsPerExecutor: 2 });
  sg = await startSourcegraphEmulator({
    world,
    tokens: [
      { token: ADMIN, siteAdmin: true },
      { token: USER, siteAdmin: false },
    ],
    siteConfig: SITE_CONFIG,
  });
});
afterEach(() => sg.close());

function transport(token = ADMIN, overrides: Partial<GraphQLTransportOptions> = {}) {
  sleeps = [];
  return createGraphQLTransport({
    endpoint: sg.url,
    token: () => token,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
    clock: () => now,
    ...overrides,
  });
}

const depthSource = (token = ADMIN, batchSpecPageSize = 100) =>
  createSourcegraphQueueDepthSource(transport(token), { clock: () => now, batchSpecPageSize });

/** Any document through the real client, its data checked only for being an object. */
const ask = (document: string, variables: Record<string, unknown> = {}, token = ADMIN) =>
  transport(token).request('Probe', document, variables, z.record(z.string(), z.unknown()));

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function raw(path: string, init: RequestInit = {}) {
  const response = await fetch(`${sg.url}${path}`, init);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

const post = (body: unknown, token = ADMIN) =>
  raw('/.api/graphql', { method: 'POST', headers: { Authorization: `token ${token}` }, body: JSON.stringify(body) });

const sum = (depth: { queued: number; processing: number; errored: number }) =>
  depth.queued + depth.processing + depth.errored;

describe('queue depth through the product client', () => {
  it('counts codeintel jobs by state as the world holds them', async () => {
    // Prepare: one short job finishes, two run, three wait, two wait for a retry
    world.enqueue('codeintel', 1, { durationMs: 1_000 });
    world.enqueue('codeintel', 5);
    world.enqueue('codeintel', 2, { state: 'errored' });
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    now += 15_000;

    // Act
    const readings = await depthSource().read(new Set(['codeintel']));
    const states = await ask(`query Probe {
      q: preciseIndexes(states: [QUEUED_FOR_INDEXING]) { totalCount }
      p: preciseIndexes(states: [INDEXING]) { totalCount }
      e: preciseIndexes(states: [INDEXING_ERRORED]) { totalCount }
      c: preciseIndexes(states: [INDEXING_COMPLETED]) { totalCount }
      u: preciseIndexes(states: [UPLOADING_INDEX]) { totalCount } }`);

    // Assess
    expect(readings.codeintel).toEqual({ ok: true, depth: 7, observedAt: now });
    expect(sum(world.depth('codeintel'))).toBe(7);
    const counts = Object.values(states).map((value) => z.object({ totalCount: z.number() }).parse(value).totalCount);
    expect(counts).toEqual([3, 2, 2, 1, 0]);
  });

  it('sums batch specs across two pages in exactly two requests, finished specs counting 0', async () => {
    // Prepare: spec a finishes; b runs; c waits for a retry; d and e wait
    world.enqueue('batches', 2, { batchSpec: 'a', durationMs: 1_000 });
    world.enqueue('batches', 3, { batchSpec: 'b' });
    world.enqueue('batches', 1, { batchSpec: 'c', state: 'errored' });
    world.enqueue('batches', 2, { batchSpec: 'd' });
    world.enqueue('batches', 4, { batchSpec: 'e' });
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['batches'] });
    now += 15_000;
    sg.emulator.clearRequests();

    // Act
    const readings = await depthSource(ADMIN, 2).read(BOTH);
    const specs = await ask(`query Probe { batchSpecs(first: 10, excludeEmptySpecs: true) { totalCount
      nodes { state workspaceResolution { workspaces(first: 0) { stats { queued processing errored completed ignored } } } } } }`);

    // Assess
    expect(readings).toEqual({
      codeintel: { ok: true, depth: 0, observedAt: now },
      batches: { ok: true, depth: 10, observedAt: now },
    });
    expect(sum(world.depth('batches'))).toBe(10);
    expect(sg.emulator.requests.map((request) => request.operation)).toEqual(['QueueDepth', 'BatchSpecsPage', 'Probe']);
    expect(JSON.stringify(specs)).toBe(
      JSON.stringify({
        batchSpecs: {
          totalCount: 5,
          nodes: [
            ['QUEUED', 4, 0, 0, 0],
            ['QUEUED', 2, 0, 0, 0],
            ['PROCESSING', 0, 0, 1, 0],
            ['PROCESSING', 1, 2, 0, 0],
            ['COMPLETED', 0, 0, 0, 2],
          ].map(([state, queued, processing, errored, completed]) => ({
            state,
            workspaceResolution: { workspaces: { stats: { queued, processing, errored, completed, ignored: 0 } } },
          })),
        },
      }),
    );
  });

  it('refuses a batch spec page larger than Sourcegraph allows', async () => {
    // Act
    const error = await caught(ask('query Probe { batchSpecs(first: 10001) { totalCount } }'));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphGraphQLError);
    expect(String(error)).toContain('first param 10001 is out of range (min=0, max=10000) (at batchSpecs)');
  });

  it('gives a non-admin token a permission reason, and filtered counts where it is not refused', async () => {
    // Prepare
    world.enqueue('codeintel', 4);

    // Act
    const readings = await depthSource(USER).read(BOTH);
    const visible = await ask('query Probe { currentUser { siteAdmin } preciseIndexes { totalCount } }', {}, USER);
    const refused = await post({ query: '{ executors { totalCount } }' }, USER);

    // Assess
    for (const queue of ['codeintel', 'batches'] as const) {
      expect(readings[queue]).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^SourcegraphPermissionError/),
      });
    }
    expect(visible).toEqual({ currentUser: { siteAdmin: false }, preciseIndexes: { totalCount: 2 } });
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.text)).toMatchObject({
      data: null,
      errors: [{ message: 'must be site admin', path: ['executors'] }],
    });
  });

  it('rejects a wrong or missing token with HTTP 401', async () => {
    // Act
    const error = await caught(ask('{ currentUser { siteAdmin } }', {}, 'sgp_not_a_token_this_instance_knows'));
    const anonymous = await raw('/.api/graphql', { method: 'POST', body: '{"query":"{ currentUser { siteAdmin } }"}' });

    // Assess
    expect(error).toBeInstanceOf(SourcegraphAuthError);
    expect(anonymous).toMatchObject({ status: 401, type: expect.stringMatching(/^text\/plain/) });
  });

  it('answers a document that does not fit the schema with graphql-js validation errors', async () => {
    // Act
    const error = await caught(ask('query Probe { queueSize(queue: "batches") }'));
    const direct = await post({ query: '{ queueSize }' });

    // Assess
    expect(error).toBeInstanceOf(SourcegraphGraphQLError);
    expect(String(error)).toContain('Cannot query field "queueSize" on type "Query".');
    expect(direct.status).toBe(200);
    expect(direct.type).toBe('application/json');
  });
});

const EXECUTORS = `query Probe($first: Int, $after: String, $query: String, $active: Boolean) {
  executors(first: $first, after: $after, query: $query, active: $active) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { hostname queueName queueNames active firstSeenAt lastSeenAt compatibility } } }`;
const executorPage = z.object({
  executors: z.object({
    totalCount: z.number(),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(
      z.object({
        hostname: z.string(),
        queueName: z.string().nullable(),
        queueNames: z.array(z.string()).nullable(),
        active: z.boolean(),
        firstSeenAt: z.string(),
        lastSeenAt: z.string(),
        compatibility: z.string().nullable(),
      }),
    ),
  }),
});
const listExecutors = async (variables: Record<string, unknown>) =>
  executorPage.parse(await ask(EXECUTORS, variables)).executors;

describe('executors', () => {
  beforeEach(() => {
    // Three VMs a minute apart; the first goes away once all three have booted.
    world.launchInstance('g', { id: 'i-1', hostname: 'ip-10-0-0-1', queues: ['codeintel'] });
    now += 60_000;
    world.launchInstance('g', { id: 'i-2', hostname: 'ip-10-0-0-2', queues: ['batches', 'codeintel'] });
    now += 60_000;
    world.launchInstance('g', { id: 'i-3', hostname: 'ip-10-0-0-3', queues: ['batches'] });
    now += 10_000;
    world.terminateInstance('i-1');
    now += 30_000;
  });

  it('lists newest first in pages, with 5.1 queue fields and the 15 s active field', async () => {
    // Act
    const first = await listExecutors({ first: 2 });
    const rest = await listExecutors({ first: 2, after: first.pageInfo.endCursor });

    // Assess
    expect(first.totalCount).toBe(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(rest.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    const [third, second] = first.nodes;
    expect(third).toMatchObject({ queueName: 'batches', queueNames: [], active: true, compatibility: 'UP_TO_DATE' });
    expect(third?.hostname).toMatch(/^ip-10-0-0-3-[0-9a-f-]{36}$/);
    expect(second).toMatchObject({ queueName: null, queueNames: ['batches', 'codeintel'], active: true });
    expect(rest.nodes).toEqual([
      expect.objectContaining({
        queueName: 'codeintel',
        active: false,
        firstSeenAt: '2025-03-03T10:00:10Z',
        lastSeenAt: '2025-03-03T10:02:10Z',
      }),
    ]);
  });

  it('keeps a silent executor in the active: true filter for 15 minutes, and filters by text', async () => {
    // Act
    const recent = await listExecutors({ active: true });
    now += 15 * 60_000;
    const later = await listExecutors({ active: true });
    const byQueue = await listExecutors({ query: 'BATCHES' });
    const byHost = await listExecutors({ query: 'ip-10-0-0-1' });
    const configured = await ask('query Probe { areExecutorsConfigured }');

    // Assess
    expect(recent.totalCount).toBe(3);
    expect(later.nodes.map((node) => node.hostname.slice(0, 11))).toEqual(['ip-10-0-0-3', 'ip-10-0-0-2']);
    expect(byQueue.totalCount).toBe(2);
    expect(byHost.nodes.map((node) => node.queueName)).toEqual(['codeintel']);
    expect(configured).toEqual({ areExecutorsConfigured: true });
  });

  it('rates compatibility one minor release either way', () => {
    // Assess
    const versions = ['6.8.9', '6.9.5', '6.11.0', '6.11.1', 'dev'];
    expect(versions.map((version) => compatibility(version, '6.10.0'))).toEqual([
      'OUTDATED',
      'UP_TO_DATE',
      'UP_TO_DATE',
      'VERSION_AHEAD',
      null,
    ]);
  });
});

const READ_CONFIG = 'query Probe { site { configuration { id effectiveContents validationMessages } } }';
const UPDATE_CONFIG =
  'mutation Probe($lastID: Int!, $input: String!) { updateSiteConfiguration(lastID: $lastID, input: $input) }';
const configuration = z.object({
  site: z.object({
    configuration: z.object({ id: z.number(), effectiveContents: z.string(), validationMessages: z.array(z.string()) }),
  }),
});
const readConfig = async () => configuration.parse(await ask(READ_CONFIG)).site.configuration;
const update = (lastID: number, input: string) => ask(UPDATE_CONFIG, { lastID, input });
const authWith = (authorization?: string) =>
  raw('/.executors/test/auth', authorization === undefined ? {} : { headers: { Authorization: authorization } });

describe('site configuration', () => {
  it('reads back with the executor secret REDACTED and everything else, comments included, untouched', async () => {
    // Act
    const read = await readConfig();

    // Assess
    expect(read).toEqual({ id: 1, effectiveContents: SITE_CONFIG.replace(SECRET, 'REDACTED'), validationMessages: [] });
  });

  it('applies an edit made from the latest id, refuses one made from a stale id', async () => {
    // Prepare
    const { id, effectiveContents } = await readConfig();
    const rotated = 'rotated-executor-secret-0000000002';

    // Act
    const restart = await update(id, effectiveContents.replace('REDACTED', rotated));
    const stale = await caught(update(id, effectiveContents));

    // Assess
    expect(restart).toEqual({ updateSiteConfiguration: false });
    expect(sg.siteConfig().id).toBe(id + 1);
    expect(sg.executorToken()).toBe(rotated);
    expect(stale).toBeInstanceOf(SourcegraphGraphQLError);
    expect(String(stale)).toContain('someone else has already applied a newer edit');
    expect((await authWith(`token-executor ${rotated}`)).status).toBe(200);
    expect((await authWith(`token-executor ${SECRET}`)).status).toBe(401);
  });

  it('keeps the current secret when REDACTED is sent back', async () => {
    // Prepare
    const { id, effectiveContents } = await readConfig();

    // Act
    await update(
      id,
      effectiveContents.replace('"codeIntelAutoIndexing.enabled": true', '"codeIntelAutoIndexing.enabled": false'),
    );

    // Assess
    expect(sg.executorToken()).toBe(SECRET);
    expect(sg.siteConfig()).toEqual({ id: id + 1, contents: SITE_CONFIG.replace('true', 'false') });
  });

  it('saves a too-short secret but reports it, and refuses blank input and file-managed edits', async () => {
    // Prepare
    const { id, effectiveContents } = await readConfig();

    // Act
    await update(id, effectiveContents.replace('REDACTED', 'short'));
    const afterShort = await readConfig();
    const blank = await caught(update(afterShort.id, '  \n'));
    sg.setEditsAllowed(false);
    const managed = await caught(update(afterShort.id, afterShort.effectiveContents));

    // Assess
    expect(sg.executorToken()).toBe('short');
    expect(afterShort.validationMessages).toEqual([
      "executors.accessToken: Does not match pattern '^(.{20,}|REDACTED)$'",
    ]);
    expect(String(blank)).toContain('blank site configuration is invalid');
    expect(String(managed)).toContain('not allowed when using SITE_CONFIG_FILE');
    expect(sg.siteConfig().id).toBe(afterShort.id);
  });

  it('is refused to a non-admin token', async () => {
    // Act
    const error = await caught(ask(READ_CONFIG, {}, USER));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphPermissionError);
  });
});

describe('GET /.executors/test/auth', () => {
  it.each([
    ['the right secret', 200, `token-executor ${SECRET}`, 'ok'],
    ['a wrong secret', 401, 'token-executor not-the-secret-at-all-000', ''],
    ['no header', 401, undefined, expect.stringContaining('no token')],
    ['another scheme', 401, `Bearer ${SECRET}`, expect.stringContaining('token-executor')],
    ['three parts', 401, `token-executor ${SECRET} extra`, expect.stringContaining('token-executor')],
  ])('answers %s with %i', async (_case, status, authorization, body) => {
    // Act
    const response = await authWith(authorization);

    // Assess
    expect(response).toMatchObject({ status, text: body });
  });

  it('answers 500 when no executor secret is configured, and other paths 404', async () => {
    // Prepare
    sg.setExecutorToken('');

    // Act
    const response = await authWith(`token-executor ${SECRET}`);
    const configured = await ask('query Probe { areExecutorsConfigured }');
    const unknown = await raw('/.executors/queue/size');

    // Assess
    expect(response).toMatchObject({ status: 500, text: 'Executors are not configured on this instance\n' });
    expect(configured).toEqual({ areExecutorsConfigured: false });
    expect(unknown.status).toBe(404);
  });
});

describe('injected faults', () => {
  it('a single 503 is retried by the client, which then reads the depth', async () => {
    // Prepare
    world.enqueue('codeintel', 3);
    sg.emulator.injectFault({ kind: 'error', status: 503, times: 1 });

    // Act
    const readings = await depthSource().read(new Set(['codeintel']));

    // Assess
    expect(readings.codeintel).toEqual({ ok: true, depth: 3, observedAt: now });
    expect(sg.emulator.requests.map((request) => request.status)).toEqual([503, 200]);
    expect(sleeps).toHaveLength(1);
  });

  it('a throttle answers 429 with Retry-After: 1, which the client waits out', async () => {
    // Prepare
    sg.emulator.injectFault({ kind: 'throttle', operation: 'Probe', times: 1 });

    // Act
    const result = await ask('query Probe { currentUser { siteAdmin } }');

    // Assess
    expect(result).toEqual({ currentUser: { siteAdmin: true } });
    expect(sleeps).toEqual([1_000]);
  });

  it('a hung request times the client out', async () => {
    // Prepare
    sg.emulator.injectFault({ kind: 'timeout' });
    const client = transport(ADMIN, { timeoutMs: 200, maxAttempts: 1 });

    // Act
    const error = await caught(client.request('Probe', '{ currentUser { siteAdmin } }', {}, z.unknown()));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphTimeoutError);
  });

  it('a resolver error comes back as Sourcegraph sends it (HTTP 200, a path, nulls up to a nullable parent), as often as asked', async () => {
    // Prepare
    world.enqueue('codeintel', 2);
    world.enqueue('batches', 1, { batchSpec: 'spec-1' });
    sg.injectGraphQLError({ field: 'batchSpecs', times: 2 });

    // Act: batchSpecs is non-null, so its error nulls the whole result; the client asks again without it
    const batchesFailed = await depthSource().read(BOTH);
    const response = await post({ query: '{ currentUser { siteAdmin } batchSpecs(first: 1) { totalCount } }' });
    sg.injectGraphQLError({ field: 'currentUser', message: 'database is down' });
    const noAdmin = await depthSource().read(BOTH);
    sg.clearGraphQLErrors();
    const healed = await depthSource().read(BOTH);

    // Assess
    expect(batchesFailed.codeintel).toMatchObject({ ok: true, depth: 2 });
    expect(batchesFailed.batches).toMatchObject({ ok: false, reason: expect.stringMatching(/statement timeout/) });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({
      errors: [
        expect.objectContaining({ message: 'pq: canceling statement due to statement timeout', path: ['batchSpecs'] }),
      ],
      data: null,
    });
    expect(noAdmin.codeintel).toMatchObject({ ok: false, reason: expect.stringMatching(/database is down/) });
    expect(healed).toMatchObject({ codeintel: { ok: true, depth: 2 }, batches: { ok: true, depth: 1 } });
    expect(() => sg.injectGraphQLError({ field: 'currentUser', times: 0 })).toThrow(RangeError);
  });

  it('a garbage body is a response error', async () => {
    // Prepare
    sg.emulator.injectFault({ kind: 'garbage', times: 1 });

    // Act
    const error = await caught(ask('query Probe { currentUser { siteAdmin } }'));

    // Assess
    expect(error).toBeInstanceOf(SourcegraphResponseError);
  });
});
