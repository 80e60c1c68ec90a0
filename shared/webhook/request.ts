/**
 * The cloud-neutral shape of a webhook call. Each cloud's entrypoint adapts its own request (a Lambda function URL
 * event, an Express request from the functions framework) to `WebhookRequest`, hands it to the router, and writes
 * the `WebhookResponse` back. Nothing here knows which cloud it runs on.
 */

/** Largest request body accepted, in bytes (64 KiB). The endpoints take small JSON; a larger body is refused before it
 * is hashed or parsed, so an unauthenticated caller cannot make the function do work in proportion to what it sends. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A header as adapters receive it: Node gives arrays for some repeated headers, Lambda gives comma-joined strings. */
export type HeaderValue = string | readonly string[] | undefined;

export interface WebhookRequest {
  /** As sent, e.g. `GET`. Methods are case-sensitive (RFC 9110), so `get` is not `GET`. */
  readonly method: string;
  /** The URL path, e.g. `/health`. A query string left on it is ignored: it is not signed, so nothing may use it. */
  readonly path: string;
  /** Header names in any case; lookups are case-insensitive (see `headerValue`). */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /**
   * The body exactly as received (a `Buffer` is a `Uint8Array`). The signature covers these bytes, so an adapter
   * must pass the raw bytes (`rawBody` on GCP, the base64-decoded `body` on AWS), never re-serialised parsed JSON.
   */
  readonly body: Uint8Array;
}

export interface WebhookResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Why a request was let through: it passed HMAC verification, or the platform's IAM had already authenticated it. */
export type AuthVerdict = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/**
 * Decides whether a request may reach any handler. Resolves a verdict for every request it can judge; throws only
 * when it cannot judge at all (secrets unreadable, replay store down), and the caller must then refuse the request.
 */
export interface RequestAuthenticator {
  /** The `WWW-Authenticate` challenge sent with every 401 (RFC 9110 requires one). */
  readonly challenge: string;
  authenticate(request: WebhookRequest): Promise<AuthVerdict>;
}

/**
 * The value of header `name` (lower case), looked up case-insensitively. A header sent more than once, under any mix
 * of cases, comes back comma-joined as HTTP defines it; for a single-valued header such as a signature that makes the
 * value malformed, so ambiguity is refused rather than resolved in favour of one copy.
 */
export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  let found: string | undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key.toLowerCase() !== name) {
      continue;
    }
    const joined = typeof value === 'string' ? value : value.join(', ');
    found = found === undefined ? joined : `${found}, ${joined}`;
  }
  return found;
}

/** The path without any query string or fragment. */
export function pathOf(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/** Statuses the webhook answers with a problem document, with their RFC 9110 reason phrases (used as `title`). */
const PROBLEM_TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_TITLES;

/** Nothing a webhook answers may be cached by a proxy or sniffed into another content type by a browser. */
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/**
 * An RFC 9457 problem document. `type` is `about:blank` (the status says it all), so `title` is the status's reason
 * phrase. `detail` must be fixed text chosen by the server: never request content, never a secret or signature.
 */
export function problemResponse(
  status: ProblemStatus,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): WebhookResponse {
  return {
    status,
    headers: { ...COMMON_HEADERS, ...headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title: PROBLEM_TITLES[status], status, detail }),
  };
}

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): WebhookResponse {
  return {
    status,
    headers: { ...COMMON_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(value) ?? 'null',
  };
}

/**
 * A complete HTML document. The policy allows inline styles and nothing else (no scripts, no external resources), so
 * a value the renderer forgot to escape still cannot run in an admin's browser.
 */
export function htmlResponse(
  status: number,
  html: string,
  headers: Readonly<Record<string, string>> = {},
): WebhookResponse {
  return {
    status,
    headers: {
      ...COMMON_HEADERS,
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    },
    body: html,
  };
}

/**
 * Whether an `Accept` header prefers HTML to JSON: true when `text/html` gets a higher quality than
 * `application/json`, each judged by its most specific matching range. A browser (`text/html,…,*\/*;q=0.8`) gets
 * HTML; curl (`*\/*`), a missing header and a tie get JSON, the machine-readable default.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) {
    return false;
  }
  const ranges = accept.split(',').map(parseMediaRange);
  const html = qualityFor(ranges, 'text', 'html');
  return html > 0 && html > qualityFor(ranges, 'application', 'json');
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly quality: number;
}

function parseMediaRange(text: string): MediaRange {
  const [range = '', ...parameters] = text.split(';');
  const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
  let quality = 1;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'q') {
      const parsed = Number(value.trim());
      // A malformed weight counts as "not acceptable": the range then cannot tip the choice towards HTML.
      quality = value.trim() !== '' && Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
    }
  }
  return { type, subtype, quality };
}

function qualityFor(ranges: readonly MediaRange[], type: string, subtype: string): number {
  const exact = ranges.find((range) => range.type === type && range.subtype === subtype);
  const family = ranges.find((range) => range.type === type && range.subtype === '*');
  const any = ranges.find((range) => range.type === '*' && range.subtype === '*');
  return (exact ?? family ?? any)?.quality ?? 0;
}
