import { describe, expect, it } from 'vitest';
import { ReplayGuardFullError } from '../../../shared/webhook/replay-guard.ts';
import { MAX_BODY_BYTES, prefersHtml, problemResponse } from '../../../shared/webhook/request.ts';
import { CURRENT_SECRET, createHarness, NOW_MS, problemOf, signedRequest } from './harness.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';

describe('createWebhookRouter: routing', () => {
  it('answers GET /health with the report as JSON, uncached', async () => {
    // Prepare
    const { router, calls } = createHarness();

    // Act
    const response = await router(signedRequest({ method: 'GET', path: '/health' }));

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      vary: 'accept',
    });
    expect(JSON.parse(response.body)).toEqual({ fleets: [{ name: 'linux', healthy: 2 }] });
    expect(calls.health).toBe(1);
  });

  it('answers a browser with the HTML view under a policy that forbids scripts', async () => {
    // Prepare
    const { router } = createHarness();

    // Act
    const response = await router(
      signedRequest({ method: 'GET', path: '/health', headers: { Accept: BROWSER_ACCEPT } }),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.body).toContain('<p>1 fleet</p>');
  });

  it('answers with the status the health endpoint chooses for its report', async () => {
    // Prepare
    const { router } = createHarness({ healthStatus: 503 });

    // Act
    const response = await router(signedRequest({ method: 'GET', path: '/health' }));

    // Assess
    expect(response.status).toBe(503);
  });

  it('answers HEAD /health with the GET status and headers and no body', async () => {
    // Prepare
    const { router, calls } = createHarness();

    // Act
    const response = await router(signedRequest({ method: 'HEAD', path: '/health' }));

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toBe('');
    expect(calls.health).toBe(1);
  });

  it('hands POST /rotate its parsed JSON body, or undefined for an empty body', async () => {
    // Prepare
    const { router, calls } = createHarness();

    // Act
    const withBody = await router(signedRequest({ body: '{"rotation":"r-1"}' }));
    const withoutBody = await router(signedRequest({ body: '', timestamp: NOW_MS / 1000 - 1 }));

    // Assess
    expect([withBody.status, withoutBody.status]).toEqual([202, 202]);
    expect(calls.rotate).toEqual([{ rotation: 'r-1' }, undefined]);
  });

  it('ignores a query string, which the signature does not cover', async () => {
    // Prepare
    const { router, calls } = createHarness();

    // Act
    const response = await router(signedRequest({ method: 'GET', path: '/health?format=html' }));

    // Assess
    expect(response.status).toBe(200);
    expect(calls.health).toBe(1);
  });

  it('answers an unknown path 404 without echoing it', async () => {
    // Prepare
    const { router } = createHarness();

    // Act
    const response = await router(signedRequest({ method: 'GET', path: '/<script>alert(1)</script>' }));

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(response)).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'there is no endpoint at this path',
    });
  });

  it.each([
    ['DELETE', '/health', 'GET, HEAD'],
    ['POST', '/health', 'GET, HEAD'],
    ['GET', '/rotate', 'POST'],
    ['post', '/rotate', 'POST'],
  ])('answers %s %s 405 with Allow: %s, running nothing', async (method, path, allow) => {
    // Prepare
    const { router, handlerCalls } = createHarness();

    // Act
    const response = await router(signedRequest({ method, path }));

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(problemOf(response)).toMatchObject({ title: 'Method Not Allowed', status: 405 });
    expect(handlerCalls()).toBe(0);
  });

  it.each([
    ['truncated JSON', Buffer.from('{"rotation":')],
    ['a form body', Buffer.from('rotation=r-1')],
    ['whitespace only', Buffer.from('  \n')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
  ])('answers POST /rotate with %s 400, without echoing it or calling the handler', async (_name, body) => {
    // Prepare
    const { router, handlerCalls } = createHarness();

    // Act
    const response = await router(signedRequest({ body }));

    // Assess
    expect(response.status).toBe(400);
    expect(problemOf(response)).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'the request body is not valid JSON',
    });
    expect(handlerCalls()).toBe(0);
  });

  it(`accepts a body of exactly ${MAX_BODY_BYTES} bytes and answers one byte more 413`, async () => {
    // Prepare
    const { router, handlerCalls } = createHarness();
    const json = (size: number) => `"${'x'.repeat(size - 2)}"`;

    // Act
    const atLimit = await router(signedRequest({ body: json(MAX_BODY_BYTES) }));
    const overLimit = await router(signedRequest({ body: json(MAX_BODY_BYTES + 1) }));

    // Assess
    expect(atLimit.status).toBe(202);
    expect(overLimit.status).toBe(413);
    expect(problemOf(overLimit)).toEqual({
      type: 'about:blank',
      title: 'Content Too Large',
      status: 413,
      detail: 'request bodies are limited to 65536 bytes',
    });
    expect(handlerCalls()).toBe(1);
  });

  it('turns a failing handler into a 500 that keeps its message in the logs only', async () => {
    // Prepare
    const { router, logs } = createHarness({
      rotate: async () => {
        throw new Error('internal detail: step 3 of rotation r-9');
      },
    });

    // Act
    const response = await router(signedRequest({ body: '{}' }));

    // Assess
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('internal detail');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'webhook handler failed' }));
  });
});

describe('createWebhookRouter: authentication', () => {
  it('answers every refusal with one and the same 401 document, whatever the reason', async () => {
    // Prepare
    const { router, handlerCalls, logs } = createHarness();
    const valid = signedRequest({ body: '{}' });
    const refused = [
      { ...valid, headers: {} },
      signedRequest({ body: '{}', secret: 'w'.repeat(64) }),
      signedRequest({ body: '{}', timestamp: NOW_MS / 1000 - 301 }),
      { ...valid, body: Buffer.from('{ }') },
      // An unauthenticated caller does not learn which paths or methods exist either.
      signedRequest({ method: 'GET', path: '/nowhere', secret: 'w'.repeat(64) }),
      signedRequest({ method: 'DELETE', path: '/health', secret: 'w'.repeat(64) }),
    ];

    // Act
    const responses = [];
    for (const request of refused) {
      responses.push(await router(request));
    }
    responses.push(await router(valid), await router(valid));

    // Assess
    const [first, ...rest] = responses.filter((response) => response.status === 401);
    expect(rest).toHaveLength(refused.length);
    expect(first).toEqual(
      problemResponse(401, 'the request is not authenticated', { 'www-authenticate': 'Fleetplane-HMAC-SHA256' }),
    );
    for (const response of rest) {
      expect(response).toEqual(first);
    }
    expect(handlerCalls()).toBe(1);
    expect(logs.filter((entry) => entry.message === 'webhook request refused').map((entry) => entry.context)).toEqual([
      { reason: 'missing-timestamp' },
      { reason: 'signature-mismatch' },
      { reason: 'timestamp-outside-tolerance' },
      { reason: 'signature-mismatch' },
      { reason: 'signature-mismatch' },
      { reason: 'signature-mismatch' },
      { reason: 'replayed' },
    ]);
  });

  it('checks the body limit before authenticating, so an oversize body is never hashed nor a secret read', async () => {
    // Prepare
    const { router, secretReads } = createHarness();

    // Act
    const response = await router({
      method: 'POST',
      path: '/rotate',
      headers: {},
      body: new Uint8Array(MAX_BODY_BYTES + 1),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(secretReads()).toBe(0);
  });

  it('fails closed with 503 when the secrets cannot be used, running nothing', async () => {
    // Prepare
    const { router, handlerCalls, logs } = createHarness({ secrets: [] });

    // Act
    const response = await router(signedRequest({ body: '{}' }));

    // Assess
    expect(response.status).toBe(503);
    expect(problemOf(response)).toMatchObject({ title: 'Service Unavailable', status: 503 });
    expect(response.headers['retry-after']).toBeUndefined();
    expect(handlerCalls()).toBe(0);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'webhook authentication unavailable' }),
    );
  });

  it('fails closed with 503 and Retry-After when the replay guard is full', async () => {
    // Prepare
    const { router, handlerCalls } = createHarness({
      guard: {
        claim: async () => {
          throw new ReplayGuardFullError(1, 42);
        },
      },
    });

    // Act
    const response = await router(signedRequest({ body: '{}' }));

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('42');
    expect(handlerCalls()).toBe(0);
  });

  it("trusts the platform in 'iam' mode: no signature needed, and limits, routing and JSON checks still apply", async () => {
    // Prepare
    const { router, calls } = createHarness({ auth: 'iam' });
    const unsigned = (method: string, path: string, body = '') => ({
      method,
      path,
      headers: {},
      body: Buffer.from(body),
    });

    // Act
    const statuses = [
      (await router(unsigned('GET', '/health'))).status,
      (await router(unsigned('POST', '/rotate', '{}'))).status,
      (await router(unsigned('POST', '/rotate', '{'))).status,
      (await router(unsigned('PUT', '/rotate'))).status,
      (await router(unsigned('GET', '/other'))).status,
    ];

    // Assess
    expect(statuses).toEqual([200, 202, 400, 405, 404]);
    expect(calls).toEqual({ health: 1, rotate: [{}] });
  });

  it('never logs a secret or a signature', async () => {
    // Prepare
    const { router, logs } = createHarness();
    const valid = signedRequest({ body: '{}' });

    // Act
    await router(valid);
    await router(valid);
    await router(signedRequest({ secret: 'w'.repeat(64) }));

    // Assess
    const written = JSON.stringify(logs);
    const signature = String(valid.headers['x-fleetplane-signature']).slice('sha256='.length);
    expect(written).not.toContain(signature);
    expect(written).not.toContain(CURRENT_SECRET);
    expect(written).not.toContain('w'.repeat(32));
  });
});

describe('prefersHtml', () => {
  it.each([
    [BROWSER_ACCEPT, true],
    ['text/html', true],
    ['text/*', true],
    ['text/html, application/json;q=0.9', true],
    [undefined, false],
    ['*/*', false],
    ['application/json', false],
    ['text/html, application/json', false],
    ['application/json, text/html;q=0.5', false],
    ['text/html;q=0', false],
    ['text/html;q=bogus, */*;q=0.1', false],
  ])('%s → %s', (accept, expected) => {
    // Assess
    expect(prefersHtml(accept)).toBe(expected);
  });
});
