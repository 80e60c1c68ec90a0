import type { EmulatorRequest, EmulatorResponse, FaultRenderer } from '../http/emulator.ts';

/**
 * What the Google REST front end speaks for the JSON-transcoded APIs (Monitoring v3, Secret Manager v1): JSON bodies,
 * errors as `{ "error": { "code", "message", "status" } }`, and, when the client asks with
 * `$alt=json;enum-encoding=int` (every gax client in `fallback` mode does), enums as numbers.
 */

/** The canonical codes a fake needs, by the HTTP status Google maps them to. */
export const GoogleStatus = {
  InvalidArgument: { http: 400, status: 'INVALID_ARGUMENT' },
  FailedPrecondition: { http: 400, status: 'FAILED_PRECONDITION' },
  NotFound: { http: 404, status: 'NOT_FOUND' },
  AlreadyExists: { http: 409, status: 'ALREADY_EXISTS' },
  ResourceExhausted: { http: 429, status: 'RESOURCE_EXHAUSTED' },
  Internal: { http: 500, status: 'INTERNAL' },
  Unimplemented: { http: 501, status: 'UNIMPLEMENTED' },
  Unavailable: { http: 503, status: 'UNAVAILABLE' },
} as const;
export type GoogleStatusCode = (typeof GoogleStatus)[keyof typeof GoogleStatus];

export function json(status: number, body: unknown): EmulatorResponse {
  return { status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(body) };
}

export function googleError(code: GoogleStatusCode, message: string): EmulatorResponse {
  return json(code.http, { error: { code: code.http, message, status: code.status } });
}

/** Faults spelled as the JSON-transcoded APIs spell them; `throttleMessage` names the quota the service meters. */
export function googleFaults(throttleMessage: string): FaultRenderer {
  return {
    serverError: (status) =>
      status === 503
        ? googleError(GoogleStatus.Unavailable, 'The service is currently unavailable.')
        : json(status, { error: { code: status, message: 'Internal error encountered.', status: 'INTERNAL' } }),
    throttled: () => googleError(GoogleStatus.ResourceExhausted, throttleMessage),
  };
}

export function notFoundRoute(request: EmulatorRequest): EmulatorResponse {
  return googleError(GoogleStatus.NotFound, `The requested URL ${request.method} ${request.path} was not found.`);
}

/** The body as JSON, or `undefined` when it is not JSON at all (an empty body reads as `{}`, as Google's front end treats it). */
export function readJson(request: EmulatorRequest): { ok: true; value: unknown } | { ok: false } {
  if (request.text.trim() === '') {
    return { ok: true, value: {} };
  }
  try {
    return { ok: true, value: JSON.parse(request.text) };
  } catch {
    return { ok: false };
  }
}

export const invalidJson = (): EmulatorResponse =>
  googleError(GoogleStatus.InvalidArgument, 'Invalid JSON payload received. Unexpected token.');

/** gax in `fallback` mode sends `$alt=json;enum-encoding=int` and then expects numbers for enums in the answer. */
export function wantsIntEnums(query: URLSearchParams): boolean {
  return (query.get('$alt') ?? '').includes('enum-encoding=int');
}

/** An enum written the way the caller asked for it. `names[i]` is the enum value numbered `i`. */
export function enumOut(names: readonly string[], name: string, asInt: boolean): string | number {
  const index = names.indexOf(name);
  return asInt && index >= 0 ? index : name;
}

/** An enum read from a request: a number (gax) or its name (curl, other clients). */
export function enumIn<T extends string>(names: readonly (T | undefined)[], raw: unknown): T | undefined {
  if (typeof raw === 'number') {
    return names[raw];
  }
  if (typeof raw === 'string') {
    const asNumber = Number(raw);
    return raw !== '' && Number.isInteger(asNumber)
      ? names[asNumber]
      : names.find((name) => name !== undefined && name === raw);
  }
  return undefined;
}

/**
 * The offset a page token stands for: 0 for none, undefined for a token this emulator never issued, which the real
 * APIs refuse with INVALID_ARGUMENT rather than answer with an empty page.
 */
export function tokenOffset(token: string | null, encoding: 'plain' | 'base64url'): number | undefined {
  if (token === null || token === '') {
    return 0;
  }
  const text = encoding === 'base64url' ? Buffer.from(token, 'base64url').toString() : token;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
