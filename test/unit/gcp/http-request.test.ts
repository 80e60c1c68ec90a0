import { describe, expect, it } from 'vitest';
import { type FrameworkResponse, webhookRequestOf, writeWebhookResponse } from '../../../shared/gcp/http-request.ts';
import { createHmacAuthenticator, webhookSignatureHeaders } from '../../../shared/webhook/hmac.ts';
import { createInMemoryReplayGuard } from '../../../shared/webhook/replay-guard.ts';
import { problemResponse } from '../../../shared/webhook/request.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const KEY = 'webhook-key-0123456789abcdef0123456789abcdef';

/** Records what an Express response would be told, in order. */
function recordingResponse() {
  const calls: unknown[][] = [];
  const response: FrameworkResponse = {
    status(code) {
      calls.push(['status', code]);
      return this;
    },
    set(headers) {
      calls.push(['set', headers]);
      return this;
    },
    send(body) {
      calls.push(['send', body]);
      return this;
    },
  };
  return { response, calls };
}

describe('webhookRequestOf', () => {
  it('passes the raw body bytes, not the parsed body, with method, path and headers as received', async () => {
    // Prepare: JSON whose bytes differ from what serialising the parsed value gives.
    const sent = '{ "rotation" : "r-1" }';
    const headers = { 'content-type': 'application/json', ...webhookSignatureHeaders(KEY, NOW, sent) };
    const auth = createHmacAuthenticator({
      secrets: async () => [KEY],
      replayGuard: createInMemoryReplayGuard({ clock: () => NOW }),
      clock: () => NOW,
    });

    // Act
    const request = webhookRequestOf({ method: 'POST', path: '/rotate', headers, rawBody: Buffer.from(sent) });
    const verdict = await auth.authenticate(request);

    // Assess
    expect(request).toEqual({ method: 'POST', path: '/rotate', headers, body: Buffer.from(sent) });
    expect(verdict).toEqual({ accepted: true });
  });

  it('gives an empty body when no parser read one (a GET, or a body without Content-Type)', () => {
    // Act
    const request = webhookRequestOf({ method: 'GET', path: '/health', headers: { accept: 'text/html' } });

    // Assess
    expect(request.body).toBeInstanceOf(Uint8Array);
    expect(request.body.byteLength).toBe(0);
    expect(request.headers).toEqual({ accept: 'text/html' });
  });

  it('keeps repeated headers as the arrays Node gives', () => {
    // Act
    const request = webhookRequestOf({
      method: 'GET',
      path: '/health',
      headers: { 'x-fleetplane-signature': ['sha256=a', 'sha256=b'] },
    });

    // Assess
    expect(request.headers['x-fleetplane-signature']).toEqual(['sha256=a', 'sha256=b']);
  });
});

describe('writeWebhookResponse', () => {
  it("writes the router's status, headers and body", () => {
    // Prepare
    const { response, calls } = recordingResponse();
    const answer = problemResponse(401, 'the request is not authenticated', { 'www-authenticate': 'Fleetplane' });

    // Act
    writeWebhookResponse(response, answer);

    // Assess
    expect(calls).toEqual([
      ['status', 401],
      ['set', answer.headers],
      ['send', answer.body],
    ]);
  });
});
