import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What ties one invocation's log lines together: `id`, chosen by the platform (a request id, a trace, an event id),
 * and `callerId`, the id a caller sent along. The caller's is logged beside ours, never instead of it: a webhook
 * caller is not yet authenticated when the id is read, and must not be able to pass its lines off as another request's.
 */
export interface Correlation {
  readonly id: string;
  readonly callerId?: string;
}

/**
 * Held in async-local storage rather than in the logger, so a function instance serving requests concurrently (Cloud
 * Functions 2nd gen may) still stamps each line with its own request.
 */
const invocation = new AsyncLocalStorage<Correlation>();

/** Runs `work` as one invocation: every line it logs, however deep, carries its `correlation_id`. */
export function withCorrelation<T>(correlation: Correlation, work: () => T): T {
  return invocation.run(correlation, work);
}

/** The running invocation's correlation, if any. */
export function currentCorrelation(): Correlation | undefined {
  return invocation.getStore();
}

/** The log fields of a correlation, named as Powertools names its own, so one query serves both clouds. */
export function correlationFields(correlation: Correlation | undefined): Record<string, string> {
  if (correlation === undefined) {
    return {};
  }
  return {
    correlation_id: correlation.id,
    ...(correlation.callerId === undefined ? {} : { caller_correlation_id: correlation.callerId }),
  };
}

/**
 * An id taken from outside (a caller's header, an event's id) only when it is short and plain: it lands in every log
 * line, so a caller must not be able to inject structure or flood the logs through it.
 */
export function correlationIdFrom(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._:/-]{1,128}$/.test(value) ? value : undefined;
}

/** The headers an HTTP-triggered Cloud Function may see, lower-cased as Node gives them. */
type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One HTTP request to a Cloud Function: the trace Google's front end started for it (`traceparent`, or the older
 * `X-Cloud-Trace-Context`), which Cloud Logging also shows on the request log; else the platform's execution id; else a
 * fresh id. A plain `X-Correlation-Id` from the caller is kept beside it.
 */
export function httpCorrelation(headers: Headers): Correlation {
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const traceparent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(header('traceparent') ?? '')?.[1];
  const cloudTrace = /^([0-9a-f]{32})\//.exec(header('x-cloud-trace-context') ?? '')?.[1];
  const callerId = correlationIdFrom(header('x-correlation-id'));
  return {
    id: traceparent ?? cloudTrace ?? correlationIdFrom(header('function-execution-id')) ?? randomUUID(),
    ...(callerId === undefined ? {} : { callerId }),
  };
}
