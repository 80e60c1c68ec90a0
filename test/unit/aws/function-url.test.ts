import { describe, expect, it } from 'vitest';
import { isFunctionUrlEvent, toFunctionUrlResult, toWebhookRequest } from '../../../shared/aws/function-url.ts';
import { jsonResponse } from '../../../shared/webhook/request.ts';

/** A function URL request as the Lambda developer guide documents payload format 2.0, trimmed to what matters. */
function urlEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/rotate',
    rawQueryString: 'debug=1',
    headers: { 'content-type': 'application/json', 'x-fleetplane-timestamp': '1767225600' },
    requestContext: {
      accountId: 'anonymous',
      http: { method: 'POST', path: '/rotate', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl' },
    },
    body: '{"rotation": "é"}',
    isBase64Encoded: false,
    ...overrides,
  };
}

describe('isFunctionUrlEvent', () => {
  it('recognises a payload 2.0 request, with or without a body', () => {
    // Prepare
    const { body: _body, ...withoutBody } = urlEvent();

    // Act
    const withBody = isFunctionUrlEvent(urlEvent());
    const bodiless = isFunctionUrlEvent(withoutBody);

    // Assess
    expect([withBody, bodiless]).toEqual([true, true]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an EventBridge scheduled event', { source: 'aws.events', 'detail-type': 'Scheduled Event' }],
    ['an API Gateway REST (1.0) event', urlEvent({ version: '1.0' })],
    ['a request without a method', urlEvent({ requestContext: { http: {} } })],
    ['a request without a path', urlEvent({ rawPath: undefined })],
    ['a header that is not text', urlEvent({ headers: { 'x-fleetplane-timestamp': 1767225600 } })],
    ['a body that is not text', urlEvent({ body: { rotation: 'x' } })],
    ['no base64 flag', urlEvent({ isBase64Encoded: undefined })],
  ])('refuses %s', (_name, event) => {
    // Act
    const recognised = isFunctionUrlEvent(event);

    // Assess
    expect(recognised).toBe(false);
  });
});

describe('toWebhookRequest', () => {
  it('passes the method, the raw path (no query) and the headers as sent, and the body as its UTF-8 bytes', () => {
    // Prepare
    const event = urlEvent();
    if (!isFunctionUrlEvent(event)) {
      throw new Error('fixture is not a function URL event');
    }

    // Act
    const request = toWebhookRequest(event);

    // Assess
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/rotate');
    expect(request.headers).toEqual({ 'content-type': 'application/json', 'x-fleetplane-timestamp': '1767225600' });
    expect(Buffer.from(request.body).toString('hex')).toBe(Buffer.from('{"rotation": "é"}', 'utf8').toString('hex'));
  });

  it('decodes a base64 body to the bytes the client sent, invalid UTF-8 included', () => {
    // Prepare: bytes that are not UTF-8 must reach the HMAC check unchanged
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const event = urlEvent({ body: bytes.toString('base64'), isBase64Encoded: true });
    if (!isFunctionUrlEvent(event)) {
      throw new Error('fixture is not a function URL event');
    }

    // Act
    const request = toWebhookRequest(event);

    // Assess
    expect(Buffer.from(request.body).equals(bytes)).toBe(true);
  });

  it('gives an empty body and no headers when Lambda sends none', () => {
    // Prepare
    const { body: _body, headers: _headers, ...bare } = urlEvent();
    if (!isFunctionUrlEvent(bare)) {
      throw new Error('fixture is not a function URL event');
    }

    // Act
    const request = toWebhookRequest(bare);

    // Assess
    expect(request.body.byteLength).toBe(0);
    expect(request.headers).toEqual({});
  });
});

describe('toFunctionUrlResult', () => {
  it('maps status, headers and body, never base64', () => {
    // Prepare
    const response = jsonResponse(503, { sourcegraph: { ok: false } }, { vary: 'accept' });

    // Act
    const result = toFunctionUrlResult(response);

    // Assess
    expect(result).toEqual({
      statusCode: 503,
      headers: response.headers,
      body: '{"sourcegraph":{"ok":false}}',
      isBase64Encoded: false,
    });
  });
});
