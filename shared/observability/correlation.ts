import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The invocation a log line belongs to. Held in async-local storage rather than in the logger, so a function
 * instance serving requests concurrently (Cloud Functions 2nd gen may) still stamps each line with its own request.
 */
const invocation = new AsyncLocalStorage<string>();

/** Runs `work` as one invocation: every line it logs, however deep, carries `id` as its `correlation_id`. */
export function withCorrelationId<T>(id: string, work: () => T): T {
  return invocation.run(id, work);
}

/** The running invocation's correlation id, if any. */
export function currentCorrelationId(): string | undefined {
  return invocation.getStore();
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
 * The id of one HTTP request to a Cloud Function: the caller's `X-Correlation-Id`, else the trace Google's front end
 * started for it (`traceparent`, or the older `X-Cloud-Trace-Context`), which Cloud Logging also shows on the request
 * log; else the platform's execution id; else a fresh one.
 */
export function httpCorrelationId(headers: Headers): string {
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const traceparent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(header('traceparent') ?? '')?.[1];
  const cloudTrace = /^([0-9a-f]{32})\//.exec(header('x-cloud-trace-context') ?? '')?.[1];
  return (
    correlationIdFrom(header('x-correlation-id')) ??
    traceparent ??
    cloudTrace ??
    correlationIdFrom(header('function-execution-id')) ??
    randomUUID()
  );
}
