import { randomUUID } from 'node:crypto';
import { type CloudEvent, cloudEvent, type HttpFunction, http } from '@google-cloud/functions-framework';
import { correlationIdFrom, httpCorrelationId, withCorrelationId } from '../observability/correlation.ts';

/**
 * Registers an HTTP function whose every log line carries the request's `correlation_id` (the caller's
 * `X-Correlation-Id`, else the trace Google started for the request; see `httpCorrelationId`).
 */
export function correlatedHttp(name: string, handler: HttpFunction): void {
  http(name, (request, response) =>
    withCorrelationId(httpCorrelationId(request.headers), () => handler(request, response)),
  );
}

/** Registers a CloudEvent function whose every log line carries the event's id (a Pub/Sub message id). */
export function correlatedCloudEvent<T>(name: string, handler: (event: CloudEvent<T>) => Promise<unknown>): void {
  cloudEvent<T>(name, (event: CloudEvent<T>) =>
    withCorrelationId(correlationIdFrom(event.id) ?? randomUUID(), () => handler(event)),
  );
}
