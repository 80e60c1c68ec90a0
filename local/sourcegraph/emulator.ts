import { STATUS_CODES } from 'node:http';
import type { Clock } from '../../shared/ports/clock.ts';
import {
  type Emulator,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultRenderer,
  startEmulator,
} from '../http/emulator.ts';
import { acceptedAt, type ExecutorTokenChange, rejectedSince } from '../world/executor-tokens.ts';
import type { World } from '../world/world.ts';
import { type AccessToken, authenticate, plainText } from './auth.ts';
import { testExecutorAuth } from './executor-auth.ts';
import { createGraphQLEndpoint, graphqlOperationOf } from './graphql-endpoint.ts';
import { createSiteConfigStore, defaultSiteConfig, type SiteConfigSnapshot } from './site-config.ts';

/** The site admin's access token the local stack uses by default (Sourcegraph tokens are long; this one is 40+). */
export const LOCAL_SOURCEGRAPH_TOKEN = 'sgp_local_fleetplane_emulator_site_admin_token';
/** The executors' shared secret in the default site configuration (the schema wants 20+ characters). */
export const LOCAL_EXECUTOR_TOKEN = 'local-fleetplane-executor-shared-secret';
/** The emulated release: executors within one minor release of it are `UP_TO_DATE`. */
export const LOCAL_SOURCEGRAPH_VERSION = '6.10.0';

const GRAPHQL_PATH = '/.api/graphql';
const EXECUTOR_AUTH_PATH = '/.executors/test/auth';

export interface SourcegraphEmulatorOptions {
  readonly world: World;
  /** Default: one site-admin token, `LOCAL_SOURCEGRAPH_TOKEN`. */
  readonly tokens?: readonly AccessToken[];
  /** Sets `executors.accessToken` in the site configuration; `''` leaves executors unconfigured. */
  readonly executorToken?: string;
  /** The site configuration as JSONC text. Default: a small config holding the executor token. */
  readonly siteConfig?: string;
  /** For the request log; default the world's clock. */
  readonly clock?: Clock;
  readonly version?: string;
  readonly port?: number;
}

export interface SourcegraphEmulator {
  readonly emulator: Emulator;
  readonly url: string;
  /** The raw configuration (secrets included) and its id. */
  siteConfig(): SiteConfigSnapshot;
  /** Replaces the configuration as a file change would: a new id, no `lastID` check. Throws on invalid JSONC. */
  setSiteConfig(text: string): void;
  /** Writes `executors.accessToken` (a new id), as an admin editing only that value would. */
  setExecutorToken(token: string): void;
  /** `false` emulates `SITE_CONFIG_FILE` without `SITE_CONFIG_ALLOW_EDITS`: `updateSiteConfiguration` is refused. */
  setEditsAllowed(allowed: boolean): void;
  /** The executor secret in effect now. */
  executorToken(): string;
  /**
   * Every value `executors.accessToken` has had (initial configuration, file changes, `setExecutorToken`,
   * `updateSiteConfiguration`) and the moment, on the world's clock, it took effect; oldest first.
   */
  executorTokenHistory(): readonly ExecutorTokenChange[];
  /** Whether `/.executors/` routes accepted `token` at `at`. */
  executorTokenAcceptedAt(token: string, at: number): boolean;
  /**
   * From when `token` is no longer accepted: undefined while it is; the emulator's start when it never was.
   */
  executorTokenRejectedSince(token: string): number | undefined;
  /**
   * Makes a top-level query field (`preciseIndexes`, `batchSpecs`, `currentUser`, …) fail in its resolver, as a
   * database error or timeout inside Sourcegraph does: HTTP 200, the field null, and an error with its `path`. For
   * `times` requests that select it (default: until cleared).
   */
  injectGraphQLError(fault: GraphQLFault): void;
  clearGraphQLErrors(): void;
  close(): Promise<void>;
}

export interface GraphQLFault {
  readonly field: string;
  /** Default: the error a failed database query gives in Sourcegraph's logs. */
  readonly message?: string;
  readonly times?: number;
}

/**
 * A loopback Sourcegraph for the local stack: the GraphQL API the control plane reads (queue depth, executors, site
 * configuration) backed by the simulated world, and `/.executors/test/auth`. Everything else is 404.
 */
export async function startSourcegraphEmulator(options: SourcegraphEmulatorOptions): Promise<SourcegraphEmulator> {
  const { world } = options;
  const tokens = options.tokens ?? [{ token: LOCAL_SOURCEGRAPH_TOKEN, siteAdmin: true }];
  // The token's history is on the world's clock (not the request log's), since the world replays it.
  const site =
    options.siteConfig === undefined
      ? createSiteConfigStore(defaultSiteConfig(options.executorToken ?? LOCAL_EXECUTOR_TOKEN), { clock: world.clock })
      : // Both given: the explicit token wins, as part of the initial configuration.
        createSiteConfigStore(options.siteConfig, {
          clock: world.clock,
          ...(options.executorToken === undefined ? {} : { executorToken: options.executorToken }),
        });
  let faults: { readonly field: string; readonly message: string; remaining: number }[] = [];
  const faultOf = (field: string): string | undefined => {
    const fault = faults.find((candidate) => candidate.field === field);
    if (fault === undefined) {
      return undefined;
    }
    fault.remaining -= 1;
    faults = faults.filter((candidate) => candidate.remaining > 0);
    return fault.message;
  };
  const graphqlEndpoint = createGraphQLEndpoint(
    { world, site, version: options.version ?? LOCAL_SOURCEGRAPH_VERSION, executorIds: new Map() },
    faultOf,
  );

  const handle = async (request: EmulatorRequest): Promise<EmulatorResponse> => {
    // Answers reflect simulated time: replay boots, job starts and ends up to the clock's now.
    world.advance();
    if (request.path === GRAPHQL_PATH) {
      if (request.method !== 'POST') {
        return plainText(405, 'Method Not Allowed');
      }
      const auth = authenticate(request.headers.authorization, tokens);
      return auth.ok ? graphqlEndpoint(request, auth.viewer) : auth.response;
    }
    if (request.path === EXECUTOR_AUTH_PATH) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return plainText(405, 'Method Not Allowed');
      }
      return testExecutorAuth(request.headers.authorization, site.executorToken());
    }
    return plainText(404, '404 page not found');
  };

  const emulator = await startEmulator({
    name: 'sourcegraph',
    handle,
    operationOf: (request) =>
      request.path === GRAPHQL_PATH
        ? graphqlOperationOf(request)
        : request.path.startsWith('/.executors/')
          ? request.path
          : undefined,
    faults: sourcegraphFaults,
    clock: options.clock ?? world.clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    url: emulator.url,
    siteConfig: () => site.snapshot(),
    setSiteConfig: (text) => site.replace(text),
    setExecutorToken: (token) => site.setExecutorToken(token),
    setEditsAllowed: (allowed) => site.setEditsAllowed(allowed),
    executorToken: () => site.executorToken(),
    executorTokenHistory: () => site.executorTokenHistory(),
    executorTokenAcceptedAt: (token, at) => acceptedAt(site.executorTokenHistory(), token, at),
    executorTokenRejectedSince: (token) => rejectedSince(site.executorTokenHistory(), token),
    injectGraphQLError(fault) {
      if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times >= 1)) {
        throw new RangeError(`fault times must be a whole number of at least 1, got ${fault.times}`);
      }
      faults.push({
        field: fault.field,
        message: fault.message ?? 'pq: canceling statement due to statement timeout',
        remaining: fault.times ?? Number.POSITIVE_INFINITY,
      });
    },
    clearGraphQLErrors() {
      faults = [];
    },
    close: () => emulator.close(),
  };
}

/**
 * Errors as they reach a client of a real instance: gateway errors (502/503/504) come from the proxy in front of the
 * frontend as HTML, other 5xx from the frontend itself as Go's plain text; throttling is a 429 asking for a second.
 */
export const sourcegraphFaults: FaultRenderer = {
  serverError(status) {
    const reason = STATUS_CODES[status] ?? 'Server Error';
    if (status >= 502 && status <= 504) {
      return {
        status,
        headers: { 'content-type': 'text/html' },
        body: `<html>\n<head><title>${status} ${reason}</title></head>\n<body>\n<h1>${status} ${reason}</h1>\n</body>\n</html>\n`,
      };
    }
    return plainText(status, reason);
  },
  throttled() {
    const response = plainText(429, 'Too Many Requests');
    return { ...response, headers: { ...response.headers, 'retry-after': '1' } };
  },
};
