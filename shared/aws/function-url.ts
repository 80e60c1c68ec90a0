import { isRecord, isString } from '../domain/guards.ts';
import type { WebhookRequest, WebhookResponse } from '../webhook/request.ts';

/**
 * A Lambda function URL request as the handler receives it: payload format 2.0, the API Gateway HTTP API shape. Only
 * what the webhook reads is typed; a header sent more than once arrives comma-joined in one value.
 */
export interface FunctionUrlEvent {
  readonly version: '2.0';
  readonly rawPath: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly requestContext: { readonly http: { readonly method: string } };
  /** Absent when the request had none; base64 when `isBase64Encoded` (Lambda's choice for a binary content type). */
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** What the handler returns for a function URL: Lambda turns it into the HTTP response. */
export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

/** Whether `event` is a function URL request (payload format 2.0). Nothing about it is trusted beyond its shape. */
export function isFunctionUrlEvent(event: unknown): event is FunctionUrlEvent {
  if (!isRecord(event) || event.version !== '2.0' || !isString(event.rawPath)) {
    return false;
  }
  const context = event.requestContext;
  if (!isRecord(context) || !isRecord(context.http) || !isString(context.http.method)) {
    return false;
  }
  const headers = event.headers;
  if (headers !== undefined && !(isRecord(headers) && Object.values(headers).every(isString))) {
    return false;
  }
  return (event.body === undefined || isString(event.body)) && typeof event.isBase64Encoded === 'boolean';
}

/**
 * The cloud-neutral request. The body is the bytes the client sent, decoded from base64 when Lambda encoded them: the
 * HMAC signature covers exactly those bytes, so the text is never re-encoded or parsed here. The query string is
 * dropped with `rawQueryString`: it is not signed, so nothing may act on it.
 */
export function toWebhookRequest(event: FunctionUrlEvent): WebhookRequest {
  const body = event.body ?? '';
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers: event.headers ?? {},
    body: Buffer.from(body, event.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

/** The response as Lambda expects it back from a function URL invocation; every body the webhook writes is text. */
export function toFunctionUrlResult(response: WebhookResponse): FunctionUrlResult {
  return { statusCode: response.status, headers: response.headers, body: response.body, isBase64Encoded: false };
}
