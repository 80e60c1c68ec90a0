import { isRecord } from '../domain/guards.ts';
import type { WebhookRequest } from '../webhook/request.ts';
import { isFunctionUrlEvent, toWebhookRequest } from './function-url.ts';
import { parseRotateEvent, RotateEventError } from './rotation-events.ts';

/**
 * The events the health function accepts: its EventBridge schedule (check every fleet and replace broken instances of
 * direct fleets) and a request to its function URL (the webhook: `GET /health`, `POST /rotate`).
 */
export type HealthEvent =
  | { readonly kind: 'schedule' }
  | { readonly kind: 'webhook'; readonly request: WebhookRequest };

/** The event is neither shape; nothing was done. */
export class HealthEventError extends Error {
  override readonly name = 'HealthEventError';
}

const EXPECTED =
  'expected an EventBridge scheduled event (the health check) or a Lambda function URL request, payload format 2.0 ' +
  '(the webhook); a manual check is GET /health on the function URL';

export function parseHealthEvent(event: unknown): HealthEvent {
  if (isRecord(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    return { kind: 'schedule' };
  }
  if (isFunctionUrlEvent(event)) {
    return { kind: 'webhook', request: toWebhookRequest(event) };
  }
  // Never quotes the event: a malformed webhook request may carry a signature or a token.
  const shape = event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event;
  throw new HealthEventError(`the event (${shape}) is not one this function handles: ${EXPECTED}`);
}

/**
 * A `POST /rotate` body, read as the rotate function reads a manual invoke: no body, `{}` or `{"rotation": "<id>"}`,
 * the id following Secrets Manager's `ClientRequestToken` rules. A step or a scheduled event is refused: over HTTP only
 * the whole rotation is offered.
 */
export function parseWebhookRotateBody(body: unknown): { readonly rotation?: string } {
  const request = parseRotateEvent(body ?? {});
  if (request.kind !== 'rotation' || request.trigger !== 'manual') {
    throw new RotateEventError('expected no body, {} or {"rotation": "<id>"}');
  }
  return request.rotation === undefined ? {} : { rotation: request.rotation };
}
