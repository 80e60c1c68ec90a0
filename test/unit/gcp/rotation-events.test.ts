import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../shared/config/index.ts';
import { parseRotateBody, parseSecretEvent, RotateEventError } from '../../../shared/gcp/rotation-events.ts';

const ID = '4c1f2a6e-8a1b-4d0e-9f3a-0b1c2d3e4f50';
const SECRET = 'projects/my-project/secrets/executor-token';

const config = (executorSecret?: object) =>
  parseConfigText(
    JSON.stringify({
      sourcegraph: {
        endpoint: 'https://sourcegraph.example.com',
        token: 'sgp_0123456789abcdef0123456789abcdef01234567',
      },
      metrics: { cloudMonitoring: { projectId: 'my-project' } },
      fleets: [{ name: 'codeintel', queues: ['codeintel'], mode: 'metrics', jobsPerInstance: 4, maxInstances: 5 }],
      ...(executorSecret === undefined ? {} : { executorSecret }),
    }),
    'test',
    {},
  );

/** A Pub/Sub CloudEvent's data as Secret Manager publishes it. */
const message = (eventType: string | undefined, data: unknown) => ({
  message: {
    attributes: eventType === undefined ? {} : { eventType, secretId: SECRET },
    data: typeof data === 'string' ? data : Buffer.from(JSON.stringify(data)).toString('base64'),
    messageId: '1',
  },
  subscription: 'projects/my-project/subscriptions/eventarc',
});

describe('parseRotateBody', () => {
  it.each<[string, unknown, object]>([
    ['no body', undefined, { kind: 'rotation' }],
    ['an empty body', '', { kind: 'rotation' }],
    ['an empty raw body', Buffer.alloc(0), { kind: 'rotation' }],
    ['{}', {}, { kind: 'rotation' }],
    ['a named rotation', { rotation: ID }, { kind: 'rotation', rotation: ID }],
  ])('reads %s', (_name, body, expected) => {
    // Act
    const request = parseRotateBody(body);

    // Assess
    expect(request).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['a string', 'rotate please'],
    ['an array', [ID]],
    ['an unknown key', { rotation: ID, force: true }],
    ['a rotation id with a space', { rotation: 'a b' }],
    ['a rotation id that is not a string', { rotation: 7 }],
  ])('refuses %s without quoting values back', (_name, body) => {
    // Act
    const attempt = () => parseRotateBody(body);

    // Assess
    expect(attempt).toThrow(RotateEventError);
    expect(attempt).not.toThrow(/rotate please|a b/);
  });
});

describe('parseSecretEvent', () => {
  const configured = config({ gcpSecretManager: SECRET });

  it('rotates on SECRET_ROTATE for the configured executor secret', () => {
    // Act
    const parsed = parseSecretEvent(message('SECRET_ROTATE', { name: SECRET, rotation: {} }), configured);

    // Assess
    expect(parsed).toEqual({ kind: 'rotate', secret: SECRET });
  });

  it.each(['SECRET_VERSION_ADD', 'SECRET_UPDATE', undefined])('ignores event type %s', (eventType) => {
    // Act
    const parsed = parseSecretEvent(message(eventType, { name: SECRET }), configured);

    // Assess
    expect(parsed).toEqual({ kind: 'ignore', eventType: eventType ?? '(none)' });
  });

  it('rotates when the notification names the project by number, as Secret Manager does', () => {
    // Prepare
    const byNumber = SECRET.replace(/^projects\/[^/]+\//, 'projects/123456789012/');

    // Act
    const parsed = parseSecretEvent(message('SECRET_ROTATE', { name: byNumber }), configured);

    // Assess
    expect(parsed).toEqual({ kind: 'rotate', secret: byNumber });
  });

  it('refuses SECRET_ROTATE for another secret', () => {
    // Act
    const attempt = () =>
      parseSecretEvent(message('SECRET_ROTATE', { name: 'projects/123456789012/secrets/other' }), configured);

    // Assess
    expect(attempt).toThrow(RotateEventError);
    expect(attempt).toThrow(/rotates only the configured executor secret/);
  });

  it('refuses SECRET_ROTATE when the config names no Secret Manager executor secret', () => {
    // Act
    const attempt = () => parseSecretEvent(message('SECRET_ROTATE', { name: SECRET }), config());

    // Assess
    expect(attempt).toThrow(/executorSecret\.gcpSecretManager/);
  });

  it.each<[string, unknown]>([
    ['not a Pub/Sub message', { name: SECRET }],
    ['data that is not base64 JSON', message('SECRET_ROTATE', '%%%')],
    ['a Secret without a name', message('SECRET_ROTATE', { labels: {} })],
    ['a name that is not a Secret resource name', message('SECRET_ROTATE', { name: 'executor-token' })],
  ])('refuses %s', (_name, data) => {
    // Act
    const attempt = () => parseSecretEvent(data, configured);

    // Assess
    expect(attempt).toThrow(RotateEventError);
  });
});
