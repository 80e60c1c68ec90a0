import { toError } from '../domain/guards.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { ReplayGuardFullError } from './replay-guard.ts';
import {
  headerValue,
  htmlResponse,
  jsonResponse,
  MAX_BODY_BYTES,
  pathOf,
  prefersHtml,
  problemResponse,
  type RequestAuthenticator,
  type WebhookRequest,
  type WebhookResponse,
} from './request.ts';

/**
 * `'iam'`: the platform has already authenticated the caller (an AWS function URL with `AWS_IAM`, a GCP function
 * without `allUsers` invoker) and every request that reaches the code is trusted. Only for such deployments: behind a
 * public URL it would let anyone in. Otherwise an authenticator, e.g. `createHmacAuthenticator(…)`.
 */
export type WebhookAuth = 'iam' | RequestAuthenticator;

/** `GET /health`: the report as JSON, or as HTML when the `Accept` header prefers it (a browser). */
export interface HealthEndpoint<Report> {
  /** Builds the report; called once per GET or HEAD. */
  report(): Promise<Report>;
  /** The report as a complete HTML document; the renderer escapes every value it prints. */
  renderHtml(report: Report): string;
  /** The status to answer with, e.g. 503 when Sourcegraph could not be reached; 200 when omitted. */
  status?(report: Report): number;
}

export interface WebhookRouterOptions<Report> {
  readonly auth: WebhookAuth;
  readonly health: HealthEndpoint<Report>;
  /**
   * `POST /rotate`: starts a rotation. `body` is the parsed JSON, or `undefined` for an empty body; the handler
   * validates it and answers its own outcomes (e.g. a 409 problem while a rotation runs).
   */
  readonly rotate: (body: unknown) => Promise<WebhookResponse>;
  readonly logger: NarrowLogger;
}

export type WebhookHandler = (request: WebhookRequest) => Promise<WebhookResponse>;

interface Route {
  readonly methods: readonly string[];
  /** The body must be JSON (or empty) and is parsed before the handler runs. */
  readonly json: boolean;
  run(request: WebhookRequest, body: unknown): Promise<WebhookResponse>;
}

/**
 * The webhook's one entry: body limit, authentication, routing, JSON parsing, then exactly one handler. The order is
 * the point. The size check comes first so an unauthenticated caller cannot make the function hash megabytes, and
 * 413 reveals only a documented limit. Authentication comes before routing, so a caller without credentials learns
 * nothing, not even which paths exist: every refusal is the same 401 document, and no handler runs.
 */
export function createWebhookRouter<Report>(options: WebhookRouterOptions<Report>): WebhookHandler {
  const { auth, health, logger } = options;

  const routes = new Map<string, Route>([
    [
      '/health',
      {
        methods: ['GET', 'HEAD'],
        json: false,
        async run(request) {
          const report = await health.report();
          const status = health.status?.(report) ?? 200;
          const vary = { vary: 'accept' };
          return prefersHtml(headerValue(request.headers, 'accept'))
            ? htmlResponse(status, health.renderHtml(report), vary)
            : jsonResponse(status, report, vary);
        },
      },
    ],
    ['/rotate', { methods: ['POST'], json: true, run: (_request, body) => options.rotate(body) }],
  ]);

  const route = async (request: WebhookRequest): Promise<WebhookResponse> => {
    if (request.body.byteLength > MAX_BODY_BYTES) {
      logger.warn('webhook request refused', { reason: 'body-too-large', bytes: request.body.byteLength });
      return problemResponse(413, `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    }
    if (auth !== 'iam') {
      try {
        const verdict = await auth.authenticate(request);
        if (!verdict.accepted) {
          // The reason stays in the logs: telling the caller which check failed would guide a forger.
          logger.warn('webhook request refused', { reason: verdict.reason });
          return problemResponse(401, 'the request is not authenticated', { 'www-authenticate': auth.challenge });
        }
      } catch (caught) {
        // Fail closed: when secrets or the replay guard cannot be read, no request can be told genuine.
        const error = toError(caught);
        logger.error('webhook authentication unavailable', { error });
        const retry =
          error instanceof ReplayGuardFullError ? { 'retry-after': String(error.retryAfterSeconds) } : undefined;
        return problemResponse(503, 'request authentication is unavailable; try again later', retry);
      }
    }
    const path = pathOf(request.path);
    const target = routes.get(path);
    if (target === undefined) {
      logger.warn('webhook request refused', { reason: 'no-such-path' });
      return problemResponse(404, 'there is no endpoint at this path');
    }
    if (!target.methods.includes(request.method)) {
      const allow = target.methods.join(', ');
      logger.warn('webhook request refused', { reason: 'method-not-allowed', path });
      return problemResponse(405, `this endpoint accepts ${allow}`, { allow });
    }
    let body: unknown;
    if (target.json) {
      const parsed = parseJsonBody(request.body);
      if (!parsed.ok) {
        logger.warn('webhook request refused', { reason: 'invalid-json', path });
        return problemResponse(400, 'the request body is not valid JSON');
      }
      body = parsed.value;
    }
    try {
      const response = await target.run(request, body);
      logger.info('webhook request handled', { method: request.method, path, status: response.status });
      return response;
    } catch (caught) {
      // The message may name internals; it goes to the logs, and the caller gets a fixed text.
      logger.error('webhook handler failed', { method: request.method, path, error: toError(caught) });
      return problemResponse(500, 'the request failed; the function logs say why');
    }
  };

  return async (request) => {
    const response = await route(request);
    // A HEAD answer carries the GET answer's status and headers but never a body (RFC 9110).
    return request.method === 'HEAD' ? { ...response, body: '' } : response;
  };
}

type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** Empty means "no body" (`undefined`); otherwise strict UTF-8 and JSON, or nothing. */
function parseJsonBody(bytes: Uint8Array): Parsed {
  if (bytes.byteLength === 0) {
    return { ok: true, value: undefined };
  }
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}
