import type { BusyReading, BusySignal } from '../ports/busy-signal.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { type Exposition, ExpositionFormatError, parseExposition } from './exposition.ts';
import { describeFailure, excerpt } from './http-text.ts';

/** The executors' gauge of active job handlers, one series per executor and queue: busy if > 0. */
export const HANDLERS_METRIC = 'src_executor_processor_handlers';
/** The `sg_job` label Sourcegraph's frontend puts on every series an executor pushes. */
export const EXECUTORS_JOB = 'sourcegraph-executors';
/** Prometheus text format 0.0.4, the one format the worker's `promhttp` handler serves without OpenMetrics. */
export const EXPOSITION_ACCEPT = 'text/plain;version=0.0.4';

/**
 * The worker's body grows with the fleet: node_exporter and Go runtime series come with every executor, very roughly
 * 100-250 KB each, so 32 MiB leaves room for well over a hundred executors.
 */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Most of an error body read to quote it, in bytes. */
const ERROR_BODY_BYTES = 4 * 1024;
/** Longest excerpt of an error body in a reason, in characters. */
const USER_AGENT = 'fleetplane';

export interface PrometheusBusySignalOptions {
  /**
   * The worker's `executors-metricsserver` (port 6996), e.g. `http://worker:6996/metrics`. It may carry basic-auth
   * credentials (`http://user:pass@host/…`): they are sent as an `Authorization` header and never appear in a reason or
   * a log line.
   */
  readonly url: string;
  /** The whole read, connection to last byte, in milliseconds. */
  readonly timeoutMs: number;
  /** Stamps `observedAt`. */
  readonly clock: Clock;
  readonly fetch?: typeof fetch;
  readonly logger?: NarrowLogger;
  /** A larger body is refused (unknown) rather than parsed; bytes. */
  readonly maxBodyBytes?: number;
}

export const BUSY_SIGNAL_FAILURES = ['deadline', 'timeout', 'network', 'http', 'body', 'format', 'content'] as const;
/**
 * `deadline`: the cycle's budget ran out. `timeout`: no complete answer in time. `network`: no HTTP answer. `http`:
 * not a 200. `body`: too large, not UTF-8 or not text/plain 0.0.4. `format`: not well-formed exposition text.
 * `content`: well-formed, but the handler series cannot be read as running jobs per executor.
 */
export type BusySignalFailure = (typeof BUSY_SIGNAL_FAILURES)[number];

/** Why a read gave no reading. Messages name the URL with its credentials and query redacted. */
export class BusySignalReadError extends Error {
  override readonly name = 'BusySignalReadError';
  readonly kind: BusySignalFailure;
  readonly status?: number;

  constructor(kind: BusySignalFailure, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    if (options.status !== undefined) {
      this.status = options.status;
    }
  }
}

export type RunningJobsResult =
  | { readonly ok: true; readonly runningJobs: ReadonlyMap<string, number> }
  | { readonly ok: false; readonly reason: string };

/**
 * Running jobs per executor from a parsed body: the `src_executor_processor_handlers` series of each `sg_instance`,
 * summed over their `queue` (and any other) labels. Only executors with a handler series are in the map: one that
 * pushes other series but no handler gauge cannot be vouched for (the gauge exists from an executor's start, so its
 * absence means a version or a relabelling this code does not know), and the policy counts a missing executor as busy.
 *
 * Unknown: a handler series that cannot be attributed (no `sg_instance`, another `sg_job`), a value that is not a
 * whole number >= 0 (NaN, ±Inf, negative, fractional), a family declared as anything but a gauge, and a body with no
 * executor series at all. The last is what the worker serves when no executor has pushed metrics in the store's 30 s
 * expiry, and also what a wrong URL serves; it cannot tell them apart, so it does not guess. A body whose handler
 * family is declared (or whose executors push other series) but holds no handler sample is a known, empty reading.
 */
export function runningJobsOf(exposition: Exposition): RunningJobsResult {
  const type = exposition.types.get(HANDLERS_METRIC);
  if (type !== undefined && type !== 'gauge' && type !== 'untyped') {
    return { ok: false, reason: `${HANDLERS_METRIC} is declared a ${type}, not a gauge` };
  }
  const running = new Map<string, number>();
  let executorSeries = 0;
  for (const sample of exposition.samples) {
    const instance = sample.labels.get('sg_instance');
    const job = sample.labels.get('sg_job');
    if (sample.name !== HANDLERS_METRIC) {
      executorSeries += job === EXECUTORS_JOB && instance !== undefined && instance !== '' ? 1 : 0;
      continue;
    }
    const at = `line ${sample.line}: ${HANDLERS_METRIC}`;
    if (instance === undefined || instance === '') {
      return { ok: false, reason: `${at} has no sg_instance label, so it belongs to no known executor` };
    }
    if (job !== EXECUTORS_JOB) {
      const found = job === undefined ? 'no sg_job label' : `sg_job=${JSON.stringify(job)}`;
      return {
        ok: false,
        reason: `${at} of ${JSON.stringify(instance)} has ${found}, expected sg_job="${EXECUTORS_JOB}"`,
      };
    }
    if (!Number.isInteger(sample.value) || sample.value < 0) {
      return {
        ok: false,
        reason: `${at} of ${JSON.stringify(instance)} is ${sample.value}, not a whole number >= 0`,
      };
    }
    executorSeries += 1;
    running.set(instance, (running.get(instance) ?? 0) + sample.value);
  }
  if (executorSeries === 0 && type === undefined) {
    return {
      ok: false,
      reason:
        `no executor series (${HANDLERS_METRIC} or any sg_job="${EXECUTORS_JOB}"): no executor pushed metrics ` +
        'in the last 30 s, or the URL is not the worker’s executors-metricsserver',
    };
  }
  return { ok: true, runningJobs: running };
}

/**
 * The executors' running jobs read from Sourcegraph's worker (`executors-metricsserver`), one GET per read. No retry:
 * an unknown reading already makes scale-in fall back to attrition, and the next cycle reads again, whereas retrying
 * would spend the cycle's budget on a server that is failing.
 */
export function createPrometheusBusySignal(options: PrometheusBusySignalOptions): BusySignal {
  const { clock, logger, timeoutMs } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`busy signal timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new RangeError(`busy signal maxBodyBytes must be a positive whole number, got ${maxBodyBytes}`);
  }
  const endpoint = parseEndpoint(options.url);
  const { display, scrub } = endpoint;
  const headers: Record<string, string> = { Accept: EXPOSITION_ACCEPT, 'User-Agent': USER_AGENT };
  if (endpoint.authorization !== undefined) {
    headers.Authorization = endpoint.authorization;
  }

  const fail = (kind: BusySignalFailure, message: string, extra: { cause?: unknown; status?: number } = {}) =>
    new BusySignalReadError(kind, scrub(`GET ${display}: ${message}`), extra);

  async function fetchBody(deadline: AbortSignal | undefined): Promise<string> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = deadline === undefined ? timeout : AbortSignal.any([timeout, deadline]);
    try {
      // A redirect is reported, not followed: it would carry the credentials to wherever it points.
      const response = await fetchImpl(endpoint.target, { method: 'GET', headers, signal, redirect: 'manual' });
      if (response.status !== 200) {
        const text = new TextDecoder().decode(await readBody(response, ERROR_BODY_BYTES, 'truncate'));
        throw fail('http', `HTTP ${response.status}: ${excerpt(text)}`, { status: response.status });
      }
      const contentType = response.headers.get('content-type');
      if (!isTextFormat004(contentType)) {
        // Not read at all: whatever it is, it is not what this parser reads.
        await response.body?.cancel();
        throw fail(
          'body',
          `expected ${EXPOSITION_ACCEPT}, got ${contentType === null ? 'no content type' : excerpt(contentType)}`,
        );
      }
      const bytes = await readBody(response, maxBodyBytes, 'refuse');
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw fail('body', 'the body is not valid UTF-8');
      }
    } catch (error) {
      if (error instanceof BusySignalReadError) {
        throw error;
      }
      if (deadline?.aborted) {
        throw fail('deadline', "the cycle's time budget ran out before the answer was complete", {
          cause: deadline.reason,
        });
      }
      if (timeout.aborted) {
        throw fail('timeout', `no complete answer within ${timeoutMs}ms`, { cause: timeout.reason });
      }
      // Kept as the cause: the request went out without credentials in its URL, so none can be in the error.
      throw fail('network', `network error: ${describeFailure(error)}`, { cause: error });
    }
  }

  /** `refuse` fails a body over the limit; `truncate` keeps its first `limit` bytes (for quoting an error). */
  async function readBody(response: Response, limit: number, over: 'refuse' | 'truncate'): Promise<Uint8Array> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (over === 'refuse' && declared > limit) {
      await response.body?.cancel();
      throw fail('body', `the body is ${declared} bytes, more than the ${limit}-byte limit`);
    }
    if (response.body === null) {
      return new Uint8Array();
    }
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      total += chunk.value.byteLength;
      chunks.push(chunk.value);
      if (total > limit) {
        await reader.cancel();
        if (over === 'refuse') {
          throw fail('body', `the body is more than the ${limit}-byte limit`);
        }
        break;
      }
    }
    return concat(chunks, Math.min(total, limit));
  }

  function unknown(error: BusySignalReadError): BusyReading {
    const reason = `${error.name}: ${error.message}`;
    logger?.warn('busy signal unknown', { module: 'busy-signal', url: display, kind: error.kind, reason });
    return { known: false, reason };
  }

  return {
    async read(callOptions: CallOptions = {}) {
      const deadline = callOptions.signal;
      try {
        if (deadline?.aborted) {
          throw fail('deadline', "the cycle's time budget ran out before the read", { cause: deadline.reason });
        }
        const text = await fetchBody(deadline);
        const observedAt = clock();
        let exposition: Exposition;
        try {
          exposition = parseExposition(text);
        } catch (error) {
          if (!(error instanceof ExpositionFormatError)) {
            throw error;
          }
          const message = `not Prometheus text format 0.0.4: ${error.message}`;
          // The parser quotes the body; keep its error only when the quote held nothing to redact.
          throw fail('format', message, scrub(message) === message ? { cause: error } : {});
        }
        const result = runningJobsOf(exposition);
        if (!result.ok) {
          throw fail('content', result.reason);
        }
        return { known: true, observedAt, runningJobs: result.runningJobs };
      } catch (error) {
        // The port never throws: whatever went wrong is the reading's reason.
        return unknown(
          error instanceof BusySignalReadError
            ? error
            : fail('content', `unexpected failure: ${describeFailure(error)}`),
        );
      }
    },
  } satisfies BusySignal;
}

interface Endpoint {
  /** The URL requested: credentials removed, since fetch refuses a URL that holds them. */
  readonly target: string;
  /** Basic credentials from the URL, when it had some. */
  readonly authorization?: string;
  /** For messages and logs: credentials and query replaced by `[redacted]`. */
  readonly display: string;
  /** Removes every spelling of the credentials from a text. */
  readonly scrub: (text: string) => string;
}

function parseEndpoint(url: string): Endpoint {
  if (!URL.canParse(url)) {
    // The URL itself is not quoted: it may hold a password.
    throw new RangeError('busy signal url is not a valid URL');
  }
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`busy signal url must be http or https, got ${parsed.protocol}`);
  }
  const display = redactedUrl(parsed);
  if (parsed.username === '' && parsed.password === '') {
    return { target: parsed.href, display, scrub: (text) => text };
  }
  const username = safeDecode(parsed.username);
  const password = safeDecode(parsed.password);
  const token = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  const secrets = [parsed.password, password, parsed.username, username, token]
    .filter((secret) => secret !== '')
    // Longest first, so a secret containing another is removed whole.
    .sort((a, b) => b.length - a.length);
  parsed.username = '';
  parsed.password = '';
  return {
    target: parsed.href,
    authorization: `Basic ${token}`,
    display,
    scrub: (text) => secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join('[redacted]'), text),
  };
}

/** Origin and path only: credentials and the query (which may carry a token) are never shown. */
export function redactedUrl(url: URL): string {
  const credentials = url.username === '' && url.password === '' ? '' : '[redacted]@';
  const query = url.search === '' ? '' : '?[redacted]';
  return `${url.protocol}//${credentials}${url.host}${url.pathname}${query}`;
}

/** `text/plain`, with no version or version 0.0.4; charset and escaping parameters as promhttp adds them. */
function isTextFormat004(contentType: string | null): boolean {
  const [media = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  const version = parameters
    .map((parameter) => /^version\s*=\s*"?([^"]*)"?$/i.exec(parameter)?.[1])
    .find((value) => value !== undefined);
  return media.toLowerCase() === 'text/plain' && (version === undefined || version === '0.0.4');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, length - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
