import * as z from 'zod';
import type { CallOptions } from '../ports/call-options.ts';
import { type Clock, type Sleep, systemClock } from '../ports/clock.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import {
  type GraphQLErrorEntry,
  SourcegraphAuthError,
  type SourcegraphError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
  SourcegraphTimeoutError,
  SourcegraphUnavailableError,
} from './errors.ts';

export type GraphQLVariables = Readonly<Record<string, unknown>>;

export interface GraphQLTransportOptions {
  /** Sourcegraph's external URL, e.g. `https://sourcegraph.example.com`. */
  readonly endpoint: string;
  /** Read before every request, so a rotated token is picked up without a cold start. */
  readonly token: () => string | Promise<string>;
  readonly sleep: Sleep;
  /** Uniform in [0, 1): the jitter source. */
  readonly random: () => number;
  /** Only used to turn an HTTP-date `Retry-After` into a delay. */
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Per attempt, milliseconds. */
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  /** First backoff ceiling, milliseconds; doubles per attempt up to `maxDelayMs`. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly logger?: NarrowLogger;
}

export type FieldSchemas = Readonly<Record<string, z.ZodType>>;

export type FieldResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SourcegraphError };

/**
 * A GraphQL result read field by field: an error under one top-level field (its `path` starts with the field's name)
 * or invalid data in it fails that field only, so e.g. a failing `batchSpecs` does not lose `preciseIndexes`.
 */
export interface FieldResults<S extends FieldSchemas> {
  field<K extends keyof S & string>(name: K): FieldResult<z.output<S[K]>>;
  /** Every error the server returned (scrubbed), for logs. */
  readonly errors: readonly GraphQLErrorEntry[];
}

export interface GraphQLTransport {
  /** The whole result or a throw: any GraphQL error fails the call. */
  request<T>(
    operationName: string,
    document: string,
    variables: GraphQLVariables,
    schema: z.ZodType<T>,
    options?: CallOptions,
  ): Promise<T>;
  /** Throws only when the request as a whole failed (HTTP, body, errors without a field path, `data: null`). */
  requestFields<S extends FieldSchemas>(
    operationName: string,
    document: string,
    variables: GraphQLVariables,
    fields: S,
    options?: CallOptions,
  ): Promise<FieldResults<S>>;
}

const USER_AGENT = 'fleetplane';
/** Longest excerpt of a response body quoted in an error message, in characters. */
const EXCERPT_CHARS = 200;
/** Sourcegraph's own wording for site-admin-only fields (`auth.ErrMustBeSiteAdmin`) and similar refusals. */
const PERMISSION_MESSAGE =
  /must be (a )?site admin|site admin(istrator)? (only|required)|not (authorized|permitted)|unauthori[sz]ed|permission denied|access denied|forbidden/i;

const envelopeSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z
    .array(z.object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])).optional() }))
    .optional(),
});
type Envelope = z.infer<typeof envelopeSchema>;

/** A failure worth another attempt; turned into the final error only when attempts run out. */
interface Retryable {
  readonly kind: 'timeout' | 'unavailable';
  readonly detail: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/** Every HTTP setting a Sourcegraph call needs, defaults applied: the GraphQL transport's and the auth check's. */
export function httpPolicyOf(options: Omit<GraphQLTransportOptions, 'endpoint' | 'token' | 'sleep' | 'random'>) {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  const maxDelayMs = options.maxDelayMs ?? 4_000;
  return {
    fetchImpl: options.fetch ?? globalThis.fetch,
    clock: options.clock ?? systemClock,
    timeoutMs: options.timeoutMs ?? 10_000,
    maxAttempts,
    baseDelayMs: options.baseDelayMs ?? 250,
    maxDelayMs,
    // A server asking for a longer pause than this is better treated as down for this cycle than waited on.
    retryAfterCapMs: maxDelayMs * 4,
  };
}

export function createGraphQLTransport(options: GraphQLTransportOptions): GraphQLTransport {
  const url = `${options.endpoint.replace(/\/+$/, '')}/.api/graphql`;
  const { fetchImpl, clock, timeoutMs, maxAttempts, baseDelayMs, maxDelayMs, retryAfterCapMs } = httpPolicyOf(options);

  /** `signal` is the caller's deadline: once it aborts, no attempt starts and no backoff is waited out. */
  async function execute(
    operationName: string,
    document: string,
    variables: GraphQLVariables,
    signal: AbortSignal | undefined,
  ): Promise<Envelope> {
    const token = await readToken(options.token);
    const scrub = (text: string) => text.split(token).join('[redacted]');
    const body = JSON.stringify({ query: document, variables, operationName });
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) {
        throw outOfTime(operationName, attempt - 1, signal);
      }
      const outcome = await attemptOnce(operationName, body, token, scrub, signal);
      if (!('kind' in outcome)) {
        return outcome;
      }
      const label = `Sourcegraph ${operationName}`;
      if (attempt >= maxAttempts) {
        const error = { status: outcome.status, cause: outcome.cause };
        throw outcome.kind === 'timeout'
          ? new SourcegraphTimeoutError(`${label}: ${outcome.detail} (attempt ${attempt} of ${maxAttempts})`, error)
          : new SourcegraphUnavailableError(`${label}: ${outcome.detail} (after ${attempt} attempts)`, error);
      }
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > retryAfterCapMs) {
        throw new SourcegraphUnavailableError(
          `${label}: ${outcome.detail}; Retry-After asks for ${outcome.retryAfterMs}ms, more than the ${retryAfterCapMs}ms limit`,
          { status: outcome.status, cause: outcome.cause },
        );
      }
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = outcome.retryAfterMs ?? Math.floor(options.random() * ceiling);
      options.logger?.warn('sourcegraph request failed, retrying', {
        operation: operationName,
        attempt,
        maxAttempts,
        delayMs,
        status: outcome.status,
        reason: outcome.detail,
      });
      await options.sleep(delayMs, signal);
    }
  }

  async function attemptOnce(
    operationName: string,
    body: string,
    token: string,
    scrub: (text: string) => string,
    deadline: AbortSignal | undefined,
  ): Promise<Envelope | Retryable> {
    const label = `Sourcegraph ${operationName}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = deadline === undefined ? timeout : AbortSignal.any([timeout, deadline]);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${url}?${encodeURIComponent(operationName)}`, {
        method: 'POST',
        headers: {
          Authorization: `token ${token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
        },
        body,
        signal,
        // A redirect usually means the endpoint is not the external URL; following it could forward the token.
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      if (deadline?.aborted) {
        throw outOfTime(operationName, 1, deadline);
      }
      if (timeout.aborted) {
        return { kind: 'timeout', detail: `no response within ${timeoutMs}ms`, cause: timeout.reason };
      }
      return { kind: 'unavailable', detail: `network error: ${scrub(describe(error))}`, cause: error };
    }

    const { status } = response;
    if (status === 401) {
      throw new SourcegraphAuthError(`${label}: the access token was rejected (HTTP 401)`, { status });
    }
    if (status === 403) {
      throw new SourcegraphPermissionError(`${label}: access denied (HTTP 403): ${excerpt(text, scrub)}`, { status });
    }
    if (status === 429 || status >= 500) {
      return {
        kind: 'unavailable',
        detail: `HTTP ${status}`,
        status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), clock()),
      };
    }
    if (status >= 300 && status < 400) {
      throw new SourcegraphResponseError(
        `${label}: unexpected redirect (HTTP ${status}); set the endpoint to Sourcegraph's external URL`,
        { status },
      );
    }
    const envelope = parseEnvelope(label, text, response.headers.get('content-type'), status, scrub);
    if (status < 200 || status >= 300) {
      const errors = envelope?.errors ?? [];
      if (errors.length > 0) {
        throw classify(label, errors, status);
      }
      throw new SourcegraphResponseError(`${label}: unexpected HTTP ${status}: ${excerpt(text, scrub)}`, { status });
    }
    if (envelope === undefined) {
      throw new SourcegraphResponseError(
        `${label}: expected a JSON GraphQL result, got ${response.headers.get('content-type') ?? 'no content type'}: ${excerpt(text, scrub)}`,
        { status },
      );
    }
    return envelope;
  }

  return {
    async request(operationName, document, variables, schema, callOptions = {}) {
      const label = `Sourcegraph ${operationName}`;
      const { data, errors = [] } = await execute(operationName, document, variables, callOptions.signal);
      if (errors.length > 0) {
        throw classify(label, errors);
      }
      if (data === undefined || data === null) {
        throw new SourcegraphResponseError(`${label}: the result has no data`);
      }
      const result = schema.safeParse(data);
      if (!result.success) {
        throw new SourcegraphResponseError(`${label}: invalid data: ${formatIssues(result.error, [])}`, {
          cause: result.error,
        });
      }
      return result.data;
    },

    async requestFields(operationName, document, variables, fields, callOptions = {}) {
      const label = `Sourcegraph ${operationName}`;
      const { data, errors = [] } = await execute(operationName, document, variables, callOptions.signal);
      if (data === undefined || data === null) {
        throw errors.length > 0
          ? classify(label, errors)
          : new SourcegraphResponseError(`${label}: the result has no data`);
      }
      const unattributed = errors.filter((error) => !isFieldError(error, fields));
      if (unattributed.length > 0) {
        throw classify(label, errors);
      }
      return {
        errors,
        field(name) {
          const own = errors.filter((error) => error.path?.[0] === name);
          if (own.length > 0) {
            return { ok: false, error: classify(`${label} ${name}`, own) };
          }
          if (!Object.hasOwn(data, name)) {
            return {
              ok: false,
              error: new SourcegraphResponseError(`${label}: field ${name} is missing from the result`),
            };
          }
          return parseField<(typeof fields)[typeof name]>(label, name, fields[name], data[name]);
        },
      };
    },
  };
}

function parseField<T extends z.ZodType>(
  label: string,
  name: string,
  schema: T | undefined,
  value: unknown,
): FieldResult<z.output<T>> {
  if (schema === undefined) {
    return { ok: false, error: new SourcegraphResponseError(`${label}: no schema for field ${name}`) };
  }
  const result = schema.safeParse(value);
  if (result.success) {
    return { ok: true, value: result.data };
  }
  const message = `${label}: invalid data: ${formatIssues(result.error, [name])}`;
  return { ok: false, error: new SourcegraphResponseError(message, { cause: result.error }) };
}

async function readToken(token: GraphQLTransportOptions['token']): Promise<string> {
  let value: string;
  try {
    value = await token();
  } catch (error) {
    throw new SourcegraphAuthError('could not read the Sourcegraph access token', { cause: error });
  }
  if (value.trim() === '') {
    throw new SourcegraphAuthError('the Sourcegraph access token is empty');
  }
  return value;
}

/** The body as a GraphQL result, or undefined when it is not one. Error messages are scrubbed of the token. */
function parseEnvelope(
  label: string,
  text: string,
  contentType: string | null,
  status: number,
  scrub: (text: string) => string,
): Envelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The SyntaxError is not kept as a cause: V8 quotes the body in its message.
    return undefined;
  }
  const result = envelopeSchema.safeParse(json);
  if (!result.success) {
    if (status >= 200 && status < 300) {
      throw new SourcegraphResponseError(
        `${label}: not a GraphQL result (${contentType ?? 'no content type'}): ${formatIssues(result.error, [])}`,
        { status, cause: result.error },
      );
    }
    return undefined;
  }
  const errors = result.data.errors?.map((error) => ({ ...error, message: scrub(error.message) }));
  return errors === undefined ? result.data : { ...result.data, errors };
}

function isFieldError(error: GraphQLErrorEntry, fields: FieldSchemas): boolean {
  const head = error.path?.[0];
  return typeof head === 'string' && Object.hasOwn(fields, head);
}

function classify(label: string, errors: readonly GraphQLErrorEntry[], status?: number): SourcegraphError {
  const summary = errors
    .slice(0, 5)
    .map((error) => (error.path ? `${error.message} (at ${error.path.join('.')})` : error.message))
    .join('; ');
  const more = errors.length > 5 ? ` (+${errors.length - 5} more)` : '';
  const message = `${label}: ${truncate(summary, 500)}${more}`;
  if (errors.some((error) => PERMISSION_MESSAGE.test(error.message))) {
    return new SourcegraphPermissionError(message, status === undefined ? {} : { status });
  }
  return new SourcegraphGraphQLError(message, errors, status === undefined ? {} : { status });
}

/** `path: message` for the first few issues; zod 4 issues name the expected type, never the offending value. */
function formatIssues(error: z.ZodError, prefix: readonly PropertyKey[]): string {
  const issues = error.issues.slice(0, 3).map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join('.');
    return `${path || '(root)'}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return `${issues.join('; ')}${more}`;
}

function outOfTime(operationName: string, attempts: number, deadline: AbortSignal): SourcegraphTimeoutError {
  return new SourcegraphTimeoutError(
    `Sourcegraph ${operationName}: the cycle's time budget ran out (after ${attempts} attempt(s))`,
    { cause: deadline.reason },
  );
}

/** Seconds or an HTTP date, as a delay in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') {
    return undefined;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function excerpt(text: string, scrub: (text: string) => string): string {
  const flat = scrub(text).replace(/\s+/g, ' ').trim();
  return flat === '' ? '(empty body)' : JSON.stringify(truncate(flat, EXCERPT_CHARS));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
