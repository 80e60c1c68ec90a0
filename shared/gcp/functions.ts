import { randomUUID } from 'node:crypto';
import {
  type CloudEvent,
  cloudEvent,
  type HttpFunction,
  http,
  type Request,
  type Response,
} from '@google-cloud/functions-framework';
import { toError } from '../domain/guards.ts';
import { correlationIdFrom, httpCorrelation, withCorrelation } from '../observability/correlation.ts';
import type { Logger } from '../ports/logger.ts';
import { type ProblemStatus, problemResponse } from '../webhook/request.ts';
import { writeWebhookResponse } from './http-request.ts';

/**
 * Registers an HTTP function whose every log line carries the request's `correlation_id` (the trace Google started for
 * it; see `httpCorrelation`) and any plain `X-Correlation-Id` the caller sent as `caller_correlation_id`.
 */
export function correlatedHttp(name: string, handler: HttpFunction): void {
  http(name, (request, response) =>
    withCorrelation(httpCorrelation(request.headers), () => handler(request, response)),
  );
}

/** Registers a CloudEvent function whose every log line carries the event's id (a Pub/Sub message id). */
export function correlatedCloudEvent<T>(name: string, handler: (event: CloudEvent<T>) => Promise<unknown>): void {
  cloudEvent<T>(name, (event: CloudEvent<T>) =>
    withCorrelation({ id: correlationIdFrom(event.id) ?? randomUUID() }, () => handler(event)),
  );
}

/**
 * Answers an RFC 9457 problem document as the webhook does, headers included. For the functions only IAM-authenticated
 * callers reach (scale, rotate, healthCheck), the detail may carry the failure's message, which names steps, fleets
 * and reasons and never a secret; the webhook, whose caller may be anyone, keeps to fixed text.
 */
export function sendProblem(response: Response, status: ProblemStatus, detail: string): void {
  writeWebhookResponse(response, problemResponse(status, detail));
}

/** Refuses anything but POST with 405 and `Allow`; true when the request may go on. */
export function onlyPost(request: Request, response: Response, detail: string): boolean {
  if (request.method === 'POST') {
    return true;
  }
  writeWebhookResponse(response, problemResponse(405, detail, { allow: 'POST' }));
  return false;
}

/** Logs a failed invocation as one structured line and hands the error back for the caller to answer or rethrow. */
export function logFailure(logger: Logger, caught: unknown): Error {
  const error = toError(caught);
  logger.error('invocation failed', { error });
  return error;
}
