import type { IncomingHttpHeaders } from 'node:http';
import type { WebhookRequest, WebhookResponse } from '../webhook/request.ts';

/** What the webhook reads of the functions framework's (Express) request. */
export interface FrameworkRequest {
  readonly method: string;
  /** The URL path without the query string, as Express parses it from the request line. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * The body bytes as received, which the framework's body parsers keep next to the parsed `body`. Absent when no
   * parser read a body: none was sent (a GET), or one was sent without a `Content-Type`, which no parser takes and so
   * is never read; either way the signature is checked over no bytes, and an empty body is what the handlers get.
   */
  readonly rawBody?: Buffer | undefined;
}

/** What the webhook writes to the framework's (Express) response. */
export interface FrameworkResponse {
  status(code: number): this;
  set(headers: Record<string, string>): this;
  send(body: string): this;
}

const NO_BODY = new Uint8Array(0);

/**
 * The cloud-neutral request. The body is `rawBody`, never the parsed `body`: the signature covers the bytes sent, and
 * JSON parsed and serialised again need not be those bytes.
 */
export function webhookRequestOf(request: FrameworkRequest): WebhookRequest {
  return {
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.rawBody ?? NO_BODY,
  };
}

/** Writes the answer as the router built it: its status, its headers, its body (empty for a HEAD). */
export function writeWebhookResponse(response: FrameworkResponse, answer: WebhookResponse): void {
  response
    .status(answer.status)
    .set({ ...answer.headers })
    .send(answer.body);
}
