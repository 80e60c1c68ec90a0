import type { RotationRequest } from '../app/rotation-invocation.ts';
import type { FleetplaneConfig } from '../config/types.ts';
import { isRecord, isString } from '../domain/guards.ts';

/** The request or event names nothing the rotate function does, or another secret; nothing was done. */
export class RotateEventError extends Error {
  override readonly name = 'RotateEventError';
}

/** A rotation id as generated (a UUID) or chosen by an operator: no spaces, nothing that needs escaping. */
const ROTATION_ID = /^[A-Za-z0-9._-]{1,64}$/;
const EXPECTED_BODY = 'expected no body, {} or {"rotation": "<id>"}';

/** The HTTP body of a manual rotation: none, `{}` or `{ "rotation": "<id>" }`. Values are never quoted back. */
export function parseRotateBody(body: unknown): RotationRequest & { readonly kind: 'rotation' } {
  if (body === undefined || body === null || body === '' || (Buffer.isBuffer(body) && body.length === 0)) {
    return { kind: 'rotation' };
  }
  if (!isRecord(body) || Buffer.isBuffer(body)) {
    throw new RotateEventError(`the body is not a JSON object: ${EXPECTED_BODY}`);
  }
  const unknown = Object.keys(body).filter((key) => key !== 'rotation');
  if (unknown.length > 0) {
    throw new RotateEventError(
      `unknown keys ${unknown.map((key) => JSON.stringify(key)).join(', ')}: ${EXPECTED_BODY}`,
    );
  }
  if (body.rotation === undefined) {
    return { kind: 'rotation' };
  }
  if (!isString(body.rotation) || !ROTATION_ID.test(body.rotation)) {
    throw new RotateEventError('rotation must be 1 to 64 letters, digits, dots, underscores or dashes (a UUID, say)');
  }
  return { kind: 'rotation', rotation: body.rotation };
}

/** What a Secret Manager notification asks for: rotate the executor secret, or nothing (another event type). */
export type SecretEvent =
  | { readonly kind: 'rotate'; readonly secret: string }
  | { readonly kind: 'ignore'; readonly eventType: string };

/**
 * The data of a Pub/Sub CloudEvent from a Secret Manager notification topic: `message.attributes.eventType`, and
 * `message.data` the base64 Secret resource JSON. `SECRET_ROTATE` for the configured executor secret rotates; other
 * event types (SECRET_VERSION_ADD, …, including the rotation's own new version) are ignored; SECRET_ROTATE for any
 * other secret is refused.
 */
export function parseSecretEvent(data: unknown, config: FleetplaneConfig): SecretEvent {
  const message = isRecord(data) ? data.message : undefined;
  if (!isRecord(message)) {
    throw new RotateEventError('not a Pub/Sub message: expected data.message');
  }
  const attributes = isRecord(message.attributes) ? message.attributes : {};
  const eventType = isString(attributes.eventType) ? attributes.eventType : '(none)';
  if (eventType !== 'SECRET_ROTATE') {
    return { kind: 'ignore', eventType };
  }
  const secret = secretNameOf(message.data);
  const store = config.executorSecret?.store;
  if (store?.kind !== 'gcp-secret-manager') {
    throw new RotateEventError('the config names no executorSecret.gcpSecretManager to rotate');
  }
  if (!sameSecret(secret, store.name)) {
    throw new RotateEventError(
      `SECRET_ROTATE for ${secret}, but this function rotates only the configured executor secret ${store.name}; ` +
        'nothing was done',
    );
  }
  return { kind: 'rotate', secret };
}

/**
 * Secret Manager names resources by project *number* in what it sends (`projects/123/secrets/s`), while the config
 * names the project by id; the number cannot be known without an extra API call and permission. The secret id must
 * match, and the project be the configured one or a number: the topic takes notifications only from this project's
 * Secret Manager service agent, so a number there is this project's.
 */
function sameSecret(notified: string, configured: string): boolean {
  const [, project, , id] = notified.split('/');
  const [, configuredProject, , configuredId] = configured.split('/');
  return id === configuredId && (project === configuredProject || /^\d+$/.test(project ?? ''));
}

function secretNameOf(data: unknown): string {
  let resource: unknown;
  try {
    resource = isString(data) ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
  } catch {
    resource = undefined;
  }
  // A Secret resource name is projects/<project>/secrets/<id>; anything else is not quoted back.
  if (!isRecord(resource) || !isString(resource.name) || !/^projects\/[^/\s]+\/secrets\/[^/\s]+$/.test(resource.name)) {
    throw new RotateEventError('SECRET_ROTATE without a Secret resource (base64 JSON with a name) as message data');
  }
  return resource.name;
}
