import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LOCAL_SOURCEGRAPH_TOKEN,
  type SourcegraphEmulator,
  startSourcegraphEmulator,
} from '../../local/sourcegraph/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { SecretValue } from '../../shared/config/secret.ts';
import { ExecutorAuthCheckError } from '../../shared/ports/executor-auth.ts';
import {
  SiteConfigConflictError,
  SiteConfigReadOnlyError,
  SiteConfigRejectedError,
} from '../../shared/ports/site-config.ts';
import {
  createGraphQLTransport,
  createSourcegraphExecutorAuthCheck,
  createSourcegraphSiteConfigStore,
  type GraphQLTransportOptions,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
} from '../../shared/sourcegraph/index.ts';
import { defineExecutorAuthContract } from '../contract/executor-auth.contract.ts';
import { defineSiteConfigContract, SITE_CONFIG, TOKEN_A } from '../contract/site-config.contract.ts';
import { json, type LoopbackServer, startLoopbackServer } from '../unit/sourcegraph/loopback-server.ts';

const noSleep = async () => undefined;

async function emulator(options: { siteConfig?: string; executorToken?: string }): Promise<SourcegraphEmulator> {
  const world = createWorld({ clock: Date.now });
  return startSourcegraphEmulator({ world, ...options });
}

function settings(endpoint: string, overrides: Partial<GraphQLTransportOptions> = {}) {
  return { endpoint, sleep: noSleep, random: () => 0, ...overrides };
}

defineSiteConfigContract('GraphQL adapter over the Sourcegraph emulator (loopback HTTP)', async () => {
  const sg = await emulator({ siteConfig: SITE_CONFIG });
  const transport = createGraphQLTransport({ ...settings(sg.url), token: () => LOCAL_SOURCEGRAPH_TOKEN });
  return {
    store: createSourcegraphSiteConfigStore(transport),
    executorAuth: createSourcegraphExecutorAuthCheck(settings(sg.url)),
    raw: () => sg.siteConfig(),
    editElsewhere: () =>
      sg.setSiteConfig(sg.siteConfig().contents.replace('sourcegraph.example.com', 'code.example.com')),
    setEditsAllowed: (allowed) => sg.setEditsAllowed(allowed),
    close: () => sg.close(),
  };
});

defineExecutorAuthContract('HTTP adapter over the Sourcegraph emulator (loopback HTTP)', async () => {
  const sg = await emulator({ executorToken: '' });
  return {
    check: createSourcegraphExecutorAuthCheck(settings(sg.url)),
    setToken: (token) => sg.setExecutorToken(token),
    close: () => sg.close(),
  };
});

describe('executor auth adapter against the emulator', () => {
  it('asks only GET /.executors/test/auth, never a route with side effects', async () => {
    // Prepare
    const sg = await emulator({ executorToken: TOKEN_A });
    const check = createSourcegraphExecutorAuthCheck(settings(sg.url));

    // Act
    await check.check(new SecretValue(TOKEN_A));
    await check.check(new SecretValue('some-other-token-000000000000'));
    await sg.close();

    // Assess
    expect(sg.emulator.requests.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
      { method: 'GET', path: '/.executors/test/auth', status: 200 },
      { method: 'GET', path: '/.executors/test/auth', status: 401 },
    ]);
  });

  it('retries a gateway error with backoff and logs the retry, then answers', async () => {
    // Prepare
    const sg = await emulator({ executorToken: TOKEN_A });
    sg.emulator.injectFault({ kind: 'error', status: 502, operation: '/.executors/test/auth', times: 2 });
    const sleeps: number[] = [];
    const warn = vi.fn();
    const check = createSourcegraphExecutorAuthCheck(
      settings(sg.url, {
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0.5,
        logger: { info: vi.fn(), warn, error: vi.fn() },
      }),
    );

    // Act
    const result = await check.check(new SecretValue(TOKEN_A));
    await sg.close();

    // Assess
    expect(result).toBe('accepted');
    expect(sleeps).toEqual([125, 250]);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledWith(
      'executor auth check failed, retrying',
      expect.objectContaining({ attempt: 1, status: 502, kind: 'http' }),
    );
  });

  it('gives up after maxAttempts on a 500 that is not "not configured"', async () => {
    // Prepare
    const sg = await emulator({ executorToken: TOKEN_A });
    sg.emulator.injectFault({ kind: 'error', status: 500, operation: '/.executors/test/auth' });
    const check = createSourcegraphExecutorAuthCheck(settings(sg.url, { maxAttempts: 2 }));

    // Act
    const failed = check.check(new SecretValue(TOKEN_A));

    // Assess
    await expect(failed).rejects.toMatchObject({
      name: 'ExecutorAuthCheckError',
      kind: 'http',
      status: 500,
      retryable: true,
    });
    expect(sg.emulator.requests).toHaveLength(2);
    await sg.close();
  });

  it('times out an answer that never comes', async () => {
    // Prepare
    const sg = await emulator({ executorToken: TOKEN_A });
    sg.emulator.injectFault({ kind: 'timeout', operation: '/.executors/test/auth' });
    const check = createSourcegraphExecutorAuthCheck(settings(sg.url, { timeoutMs: 100, maxAttempts: 1 }));

    // Act
    const failed = check.check(new SecretValue(TOKEN_A));

    // Assess
    await expect(failed).rejects.toMatchObject({ kind: 'timeout', retryable: true });
    await sg.close();
  });
});

describe('adapters against scripted answers', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer();
  });
  afterEach(() => server.reset());
  afterAll(() => server.close());

  const store = () =>
    createSourcegraphSiteConfigStore(createGraphQLTransport({ ...settings(server.url), token: () => 'sgp_admin' }));
  const check = (overrides: Partial<GraphQLTransportOptions> = {}) =>
    createSourcegraphExecutorAuthCheck(settings(server.url, overrides));
  const refusal = (message: string) => json({ data: null, errors: [{ message, path: ['updateSiteConfiguration'] }] });

  it('sends the mutation with lastID and the text as variables, and passes restartRequired on', async () => {
    // Prepare
    server.reply(json({ data: { updateSiteConfiguration: true } }));

    // Act
    const result = await store().update(7, '{}');

    // Assess
    expect(result).toEqual({ restartRequired: true });
    const [request] = server.requests;
    expect(request?.url).toBe('/.api/graphql?UpdateSiteConfiguration');
    expect(request?.headers.authorization).toBe('token sgp_admin');
    expect(JSON.parse(request?.body ?? '')).toMatchObject({
      operationName: 'UpdateSiteConfiguration',
      variables: { lastID: 7, input: '{}' },
    });
  });

  it.each([
    ['5.1+ configuration source', 'site config has been modified by another request, write not allowed'],
    ['database race', 'ConfStore.SiteCreateIfUpToDate: someone else has already applied a newer edit'],
    ['before 5.1', 'confdb.SiteCreateIfUpToDate: someone else has already applied a newer edit'],
  ])('maps the stale-lastID wording of the %s to SiteConfigConflictError', async (_case, message) => {
    // Prepare
    server.reply(refusal(message));

    // Act
    const failed = store().update(3, '{}');

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SiteConfigConflictError);
    await expect(failed).rejects.toMatchObject({ lastID: 3, cause: expect.any(SourcegraphGraphQLError) });
  });

  it('maps a file-managed refusal to SiteConfigReadOnlyError and refused text to SiteConfigRejectedError', async () => {
    // Prepare
    server.reply(
      refusal('updating site configuration not allowed when using SITE_CONFIG_FILE'),
      refusal('error unredacting secrets: invalid JSON'),
    );

    // Act
    const readOnly = store().update(3, '{}');
    await readOnly.catch(() => undefined);
    const rejected = store().update(3, '{');

    // Assess
    await expect(readOnly).rejects.toBeInstanceOf(SiteConfigReadOnlyError);
    await expect(rejected).rejects.toBeInstanceOf(SiteConfigRejectedError);
    await expect(rejected).rejects.toThrow(/error unredacting secrets/);
  });

  it("lets the client's own errors through: not a site admin, another failure, data that does not fit", async () => {
    // Prepare
    server.reply(
      refusal('must be site admin'),
      refusal('pq: canceling statement due to statement timeout'),
      json({ data: { site: { configuration: { id: 'one', effectiveContents: '{}' } } } }),
    );

    // Act
    const admin = store().update(1, '{}');
    await admin.catch(() => undefined);
    const other = store().update(1, '{}');
    await other.catch(() => undefined);
    const invalid = store().read();

    // Assess
    await expect(admin).rejects.toBeInstanceOf(SourcegraphPermissionError);
    await expect(other).rejects.toBeInstanceOf(SourcegraphGraphQLError);
    await expect(invalid).rejects.toBeInstanceOf(SourcegraphResponseError);
  });

  it('refuses a lastID that cannot be a revision before sending anything', async () => {
    // Act
    const attempts = [-1, 1.5, 2 ** 31].map((lastID) => store().update(lastID, '{}'));

    // Assess
    for (const attempt of attempts) {
      await expect(attempt).rejects.toBeInstanceOf(RangeError);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('sends the token as an executor does and reads a malformed-header 401 as rejected', async () => {
    // Prepare
    server.reply({ status: 401, body: "HTTP Authorization request header value must be of the following form: 'x'" });

    // Act
    const result = await check().check(new SecretValue(TOKEN_A));

    // Assess
    expect(result).toBe('rejected');
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      url: '/.executors/test/auth',
      headers: expect.objectContaining({ authorization: `token-executor ${TOKEN_A}` }),
    });
  });

  it.each([
    ['a 200 that is not "ok"', { status: 200, body: '<html>login</html>' }, 200],
    ['a redirect', { status: 302, headers: { location: 'https://elsewhere.example.com/' } }, 302],
    ['a missing route', { status: 404, body: '404 page not found' }, 404],
    ['a method refused', { status: 405, body: 'Method Not Allowed' }, 405],
  ])('throws at once, without retrying, on %s', async (_case, reply, status) => {
    // Prepare
    server.reply(reply);

    // Act
    const failed = check().check(new SecretValue(TOKEN_A));

    // Assess
    await expect(failed).rejects.toBeInstanceOf(ExecutorAuthCheckError);
    await expect(failed).rejects.toMatchObject({ kind: 'http', status, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('waits as long as Retry-After asks, but not longer than the cap', async () => {
    // Prepare
    const sleeps: number[] = [];
    server.reply(
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: 'ok' },
      { status: 503, headers: { 'retry-after': '3600' } },
    );
    const subject = check({ sleep: async (ms) => void sleeps.push(ms) });

    // Act
    const first = await subject.check(new SecretValue(TOKEN_A));
    const second = subject.check(new SecretValue(TOKEN_A));

    // Assess
    expect(first).toBe('accepted');
    expect(sleeps).toEqual([1_000]);
    await expect(second).rejects.toMatchObject({ kind: 'http', status: 503 });
    expect(server.requests).toHaveLength(3);
  });

  it('reports a closed port as a network error', async () => {
    // Prepare
    const closed = await startLoopbackServer();
    await closed.close();
    const subject = createSourcegraphExecutorAuthCheck(settings(closed.url, { maxAttempts: 1 }));

    // Act
    const failed = subject.check(new SecretValue(TOKEN_A));

    // Assess
    await expect(failed).rejects.toMatchObject({ name: 'ExecutorAuthCheckError', kind: 'network', retryable: true });
  });
});
