import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SourcegraphEmulator, startSourcegraphEmulator } from '../../local/sourcegraph/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { SecretValue } from '../../shared/config/secret.ts';
import type { NarrowLogger } from '../../shared/ports/logger.ts';
import {
  createGraphQLTransport,
  createSourcegraphExecutorAuthCheck,
  createSourcegraphSiteConfigStore,
  type GraphQLTransportOptions,
} from '../../shared/sourcegraph/index.ts';
import { json, type LoopbackServer, startLoopbackServer } from '../unit/sourcegraph/loopback-server.ts';

/** Known values, each long and unique, so any trace of them in an error or a log line is found. */
const ACCESS_TOKEN = 'sgp_secret_scan_site_admin_token_7f3a9c1e5b';
const USER_TOKEN = 'sgp_secret_scan_ordinary_user_token_2d8e4f6a';
const OLD_EXECUTOR_TOKEN = 'old-executor-token-secret-scan-0123456789';
const NEW_EXECUTOR_TOKEN = 'new-executor-token-secret-scan-9876543210';
const OTHER_SECRET = 'other-site-config-secret-scan-5a5a5a5a5a';
const SECRETS = [ACCESS_TOKEN, USER_TOKEN, OLD_EXECUTOR_TOKEN, NEW_EXECUTOR_TOKEN, OTHER_SECRET];

const SITE_CONFIG = `{
  "externalURL": "https://sourcegraph.example.com",
  // Not redacted by this emulator: must not leak through fleetplane either.
  "email.smtp": { "password": "${OTHER_SECRET}" },
  "executors.accessToken": "${OLD_EXECUTOR_TOKEN}",
}
`;
const NEW_CONTENTS = SITE_CONFIG.replace(OLD_EXECUTOR_TOKEN, NEW_EXECUTOR_TOKEN);
const BROKEN_CONTENTS = NEW_CONTENTS.slice(0, -4);

let sg: SourcegraphEmulator;
let echo: LoopbackServer;
let logged: unknown[];
let errors: unknown[];

const logger: NarrowLogger = {
  info: (...line) => void logged.push(line),
  warn: (...line) => void logged.push(line),
  error: (...line) => void logged.push(line),
};

beforeEach(async () => {
  logged = [];
  errors = [];
  sg = await startSourcegraphEmulator({
    world: createWorld({ clock: Date.now }),
    tokens: [
      { token: ACCESS_TOKEN, siteAdmin: true },
      { token: USER_TOKEN, siteAdmin: false },
    ],
    siteConfig: SITE_CONFIG,
  });
  echo = await startLoopbackServer();
});
afterEach(async () => {
  await sg.close();
  await echo.close();
});

function settings(endpoint: string, overrides: Partial<GraphQLTransportOptions> = {}) {
  return { endpoint, sleep: async () => undefined, random: () => 0, logger, timeoutMs: 200, ...overrides };
}
const siteConfig = (endpoint: string, token = ACCESS_TOKEN, overrides: Partial<GraphQLTransportOptions> = {}) =>
  createSourcegraphSiteConfigStore(createGraphQLTransport({ ...settings(endpoint, overrides), token: () => token }));
const executorAuth = (endpoint: string, overrides: Partial<GraphQLTransportOptions> = {}) =>
  createSourcegraphExecutorAuthCheck(settings(endpoint, overrides));

/** Runs a call that must fail and keeps its error for the scan. */
async function provoke(call: () => Promise<unknown>): Promise<void> {
  const error = await call().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  errors.push(error);
}

/** Everything an error can show: name, message, stack, own properties and the whole cause chain. */
const everything = (value: unknown) => inspect(value, { depth: 10, showHidden: false });

function expectNoSecretAnywhere(): void {
  const texts = [...errors.map(everything), ...logged.map((line) => JSON.stringify(line))];
  for (const text of texts) {
    for (const secret of SECRETS) {
      // Its first 12 characters: a secret cut short where a quote was truncated must not show either.
      expect(text).not.toContain(secret.slice(0, 12));
    }
    expect(text).not.toContain(NEW_CONTENTS.trim());
  }
}

describe('no token or site configuration text in any error or log line', () => {
  it('on every error path of the site configuration adapter', async () => {
    // Prepare
    const { id } = await siteConfig(sg.url).read();
    sg.setExecutorToken('changed-elsewhere-0000000000000000000000');
    const current = sg.siteConfig().id;

    // Act: stale lastID, refused text, wrong token, not an admin, outage, timeout, deadline, network
    await provoke(() => siteConfig(sg.url).update(id, NEW_CONTENTS));
    await provoke(() => siteConfig(sg.url).update(current, BROKEN_CONTENTS));
    await provoke(() => siteConfig(sg.url).update(current, '   '));
    await provoke(() => siteConfig(sg.url, 'sgp_not_a_known_token_000000000000').update(current, NEW_CONTENTS));
    await provoke(() => siteConfig(sg.url, USER_TOKEN).update(current, NEW_CONTENTS));
    await provoke(() => siteConfig(sg.url, USER_TOKEN).read());
    sg.emulator.injectFault({ kind: 'error', status: 502, operation: 'UpdateSiteConfiguration', times: 3 });
    await provoke(() => siteConfig(sg.url).update(current, NEW_CONTENTS));
    sg.emulator.injectFault({ kind: 'timeout', operation: 'UpdateSiteConfiguration', times: 1 });
    await provoke(() => siteConfig(sg.url, ACCESS_TOKEN, { maxAttempts: 1 }).update(current, NEW_CONTENTS));
    await provoke(() => siteConfig(sg.url).update(current, NEW_CONTENTS, { signal: AbortSignal.abort() }));
    sg.setEditsAllowed(false);
    await provoke(() => siteConfig(sg.url).update(current, NEW_CONTENTS));
    const closed = await startLoopbackServer();
    await closed.close();
    await provoke(() => siteConfig(closed.url).update(current, NEW_CONTENTS));

    // Assess
    expect(errors.map((error) => (error instanceof Error ? error.name : ''))).toEqual([
      'SiteConfigConflictError',
      'SiteConfigRejectedError',
      'SiteConfigRejectedError',
      'SourcegraphAuthError',
      'SourcegraphPermissionError',
      'SourcegraphPermissionError',
      'SourcegraphUnavailableError',
      'SourcegraphTimeoutError',
      'SourcegraphTimeoutError',
      'SiteConfigReadOnlyError',
      'SourcegraphUnavailableError',
    ]);
    expect(logged.length).toBeGreaterThan(0);
    expectNoSecretAnywhere();
  });

  it('when Sourcegraph quotes the text it was sent back in its errors', async () => {
    // Prepare: a server that echoes the request (tokens, text) in each kind of answer the client quotes
    const quoted = `${ACCESS_TOKEN} ${NEW_CONTENTS}`;
    const refusal = (prefix: string) =>
      json({ data: null, errors: [{ message: `${prefix}: ${quoted}`, path: ['updateSiteConfiguration'] }] });
    echo.reply(
      refusal('site config has been modified by another request, write not allowed'),
      refusal('updating site configuration not allowed when using SITE_CONFIG_FILE'),
      refusal('error unredacting secrets'),
      refusal('must be site admin'),
      refusal('pq: something failed'),
      // Cut by the client's 500-character limit for quoted errors a few characters into the new token.
      json({
        data: null,
        errors: [{ message: `${'x'.repeat(490)}${NEW_EXECUTOR_TOKEN}`, path: ['updateSiteConfiguration'] }],
      }),
      { status: 400, headers: { 'content-type': 'text/plain' }, body: quoted },
      { status: 403, headers: { 'content-type': 'text/plain' }, body: quoted },
    );

    // Act
    for (let answer = 0; answer < 8; answer++) {
      await provoke(() => siteConfig(echo.url).update(1, NEW_CONTENTS));
    }

    // Assess
    expect(errors.map((error) => (error instanceof Error ? error.name : ''))).toEqual([
      'SiteConfigConflictError',
      'SiteConfigReadOnlyError',
      'SiteConfigRejectedError',
      'SourcegraphPermissionError',
      'SourcegraphGraphQLError',
      'SourcegraphGraphQLError',
      'SourcegraphResponseError',
      'SourcegraphPermissionError',
    ]);
    expectNoSecretAnywhere();
  });

  it('on every path of the executor auth adapter, answers and errors alike', async () => {
    // Prepare
    const check = (token: string, endpoint = sg.url, overrides: Partial<GraphQLTransportOptions> = {}) =>
      executorAuth(endpoint, overrides).check(new SecretValue(token));
    const answers = [await check(OLD_EXECUTOR_TOKEN), await check(NEW_EXECUTOR_TOKEN)];

    // Act: outage, timeout, deadline, network, a token that cannot be sent, and answers quoting the token
    sg.emulator.injectFault({ kind: 'error', status: 503, operation: '/.executors/test/auth', times: 3 });
    await provoke(() => check(NEW_EXECUTOR_TOKEN));
    sg.emulator.injectFault({ kind: 'timeout', operation: '/.executors/test/auth', times: 1 });
    await provoke(() => check(NEW_EXECUTOR_TOKEN, sg.url, { maxAttempts: 1 }));
    await provoke(() =>
      executorAuth(sg.url).check(new SecretValue(NEW_EXECUTOR_TOKEN), { signal: AbortSignal.abort() }),
    );
    const closed = await startLoopbackServer();
    await closed.close();
    await provoke(() => check(NEW_EXECUTOR_TOKEN, closed.url));
    await provoke(() => check(`${NEW_EXECUTOR_TOKEN} ${OTHER_SECRET}`));
    await provoke(() => check(`${NEW_EXECUTOR_TOKEN}\n`));
    const quoted = `Authorization: token-executor ${NEW_EXECUTOR_TOKEN}`;
    echo.reply(
      { status: 200, body: quoted },
      { status: 404, body: quoted },
      { status: 500, body: quoted },
      { status: 502, body: quoted },
      { status: 503, body: quoted },
    );
    await provoke(() => check(NEW_EXECUTOR_TOKEN, echo.url));
    await provoke(() => check(NEW_EXECUTOR_TOKEN, echo.url));
    await provoke(() => check(NEW_EXECUTOR_TOKEN, echo.url));
    sg.setExecutorToken('');
    const unconfigured = await check(NEW_EXECUTOR_TOKEN);

    // Assess
    expect(answers).toEqual(['accepted', 'rejected']);
    expect(unconfigured).toBe('not-configured');
    expect(errors.map((error) => inspect(error).match(/kind: '([a-z-]+)'/)?.[1])).toEqual([
      'http',
      'timeout',
      'deadline',
      'network',
      'invalid-token',
      'invalid-token',
      'http',
      'http',
      'http',
    ]);
    expect(logged.length).toBeGreaterThan(0);
    expectNoSecretAnywhere();
  });
});
