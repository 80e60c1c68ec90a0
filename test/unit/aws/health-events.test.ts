import { describe, expect, it } from 'vitest';
import { HealthEventError, parseHealthEvent, parseWebhookRotateBody } from '../../../shared/aws/health-events.ts';
import { RotateEventError } from '../../../shared/aws/rotation-events.ts';

const ID = '4c1f2a6e-8a1b-4d0e-9f3a-0b1c2d3e4f50';
const SCHEDULED = { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', resources: [], detail: {} };

describe('parseHealthEvent', () => {
  it('reads an EventBridge scheduled event as the check', () => {
    // Act
    const event = parseHealthEvent(SCHEDULED);

    // Assess
    expect(event).toEqual({ kind: 'schedule' });
  });

  it('reads a function URL request as the webhook request', () => {
    // Prepare
    const request = {
      version: '2.0',
      rawPath: '/health',
      headers: { accept: 'text/html' },
      requestContext: { http: { method: 'GET' } },
      isBase64Encoded: false,
    };

    // Act
    const event = parseHealthEvent(request);

    // Assess
    expect(event).toMatchObject({
      kind: 'webhook',
      request: { method: 'GET', path: '/health', headers: { accept: 'text/html' } },
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['{} (a manual invoke)', {}, /\(object\) is not one this function handles/],
    ['null', null, /\(null\)/],
    ['an array', [SCHEDULED], /\(an array\)/],
    ['another EventBridge event', { source: 'aws.events', 'detail-type': 'EC2 Instance State-change' }, /object/],
  ])('refuses %s, naming what it expects', (_name, event, message) => {
    // Act
    const parse = () => parseHealthEvent(event);

    // Assess
    expect(parse).toThrow(HealthEventError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/expected an EventBridge scheduled event .* or a Lambda function URL request/);
  });

  it('never quotes the event it refuses', () => {
    // Prepare: a malformed request carrying a signature
    const event = { rawPath: '/rotate', headers: { 'x-fleetplane-signature': 'sha256=secret-looking-value' } };

    // Act
    const error = (() => {
      try {
        parseHealthEvent(event);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(HealthEventError);
    expect(String(error)).not.toContain('secret-looking-value');
  });
});

describe('parseWebhookRotateBody', () => {
  it.each<[string, unknown, object]>([
    ['no body', undefined, {}],
    ['{}', {}, {}],
    ['a rotation id', { rotation: ID }, { rotation: ID }],
  ])('reads %s as a manual rotation', (_name, body, expected) => {
    // Act
    const request = parseWebhookRotateBody(body);

    // Assess
    expect(request).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['an id Secrets Manager would refuse', { rotation: 'short' }],
    ['an unknown key', { rotation: ID, force: true }],
    ['a JSON array', []],
    ['a Secrets Manager step', { Step: 'createSecret', SecretId: 'fleetplane/executor-token', ClientRequestToken: ID }],
    ['a scheduled event', SCHEDULED],
  ])('refuses %s', (_name, body) => {
    // Act
    const parse = () => parseWebhookRotateBody(body);

    // Assess
    expect(parse).toThrow(RotateEventError);
  });
});
