import type { RotationStep } from '../app/rotation.ts';
import type { RotationRequest } from '../app/rotation-invocation.ts';
import type { FleetplaneConfig } from '../config/types.ts';
import { isRecord, isString } from '../domain/guards.ts';

/**
 * The events the rotate function accepts:
 * - a Secrets Manager rotation step, `{ Step, SecretId, ClientRequestToken, RotationToken? }`;
 * - a manual invoke, `{}` or `{ "rotation": "<id>" }`, and an EventBridge scheduled event: the whole rotation.
 */
export type RotateEvent =
  | (RotationRequest & { readonly kind: 'rotation'; readonly trigger: 'manual' | 'schedule' })
  | (RotationRequest & { readonly kind: 'step'; readonly secretId: string });

/** The event is none of the accepted shapes, or names another secret; nothing was done. */
export class RotateEventError extends Error {
  override readonly name = 'RotateEventError';
}

const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
/** Secrets Manager's `ClientRequestToken` constraint, which the rotation id becomes (a version id). */
const ROTATION_ID = /^[\x21-\x7e]{32,64}$/;
const EXPECTED =
  'expected {} or {"rotation": "<id>"} (a manual rotation), an EventBridge scheduled event, or a Secrets Manager ' +
  'rotation step {"Step", "SecretId", "ClientRequestToken"}';

export function parseRotateEvent(event: unknown): RotateEvent {
  if (!isRecord(event)) {
    throw new RotateEventError(`the event is ${event === null ? 'null' : typeof event}: ${EXPECTED}`);
  }
  if (['Step', 'SecretId', 'ClientRequestToken'].some((key) => key in event)) {
    return parseStep(event);
  }
  if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    return { kind: 'rotation', trigger: 'schedule' };
  }
  const unknown = Object.keys(event).filter((key) => key !== 'rotation');
  if (unknown.length > 0) {
    throw new RotateEventError(`unknown keys ${unknown.map((key) => JSON.stringify(key)).join(', ')}: ${EXPECTED}`);
  }
  if (event.rotation === undefined) {
    return { kind: 'rotation', trigger: 'manual' };
  }
  if (!isString(event.rotation) || !ROTATION_ID.test(event.rotation)) {
    throw new RotateEventError('rotation must be 32 to 64 printable characters without spaces (a UUID, say)');
  }
  return { kind: 'rotation', trigger: 'manual', rotation: event.rotation };
}

function parseStep(event: Readonly<Record<string, unknown>>): RotateEvent {
  // Values are never quoted back: the event might carry a token where an id belongs.
  const problems = [
    ...(STEPS.some((step) => step === event.Step) ? [] : [`Step must be one of ${STEPS.join(', ')}`]),
    ...(isString(event.SecretId) && event.SecretId !== '' ? [] : ['SecretId must be a secret name or ARN']),
    ...(isString(event.ClientRequestToken) && ROTATION_ID.test(event.ClientRequestToken)
      ? []
      : ['ClientRequestToken must be 32 to 64 printable characters without spaces']),
  ];
  const step = STEPS.find((candidate) => candidate === event.Step);
  if (step === undefined || !isString(event.SecretId) || !isString(event.ClientRequestToken) || problems.length > 0) {
    throw new RotateEventError(`not a valid Secrets Manager rotation step: ${problems.join('; ')}`);
  }
  return { kind: 'step', step, secretId: event.SecretId, rotation: event.ClientRequestToken };
}

const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]+):([^:]+):secret:(.+)$/;
const FUNCTION_ARN = /^arn:[^:]+:lambda:([^:]+):([^:]+):function:/;

/** Where the function runs: a secret given by name lives in this region and account. */
export interface FunctionHome {
  readonly region?: string;
  readonly account?: string;
}

/** The region and account from `context.invokedFunctionArn`. */
export function homeOf(invokedFunctionArn: string): FunctionHome {
  const [, region, account] = FUNCTION_ARN.exec(invokedFunctionArn) ?? [];
  return { ...(region === undefined ? {} : { region }), ...(account === undefined ? {} : { account }) };
}

/**
 * Refuses a rotation step for any secret but the configured executor secret: Secrets Manager would otherwise see
 * another secret rotated in its place. A name and an ARN match when the ARN is that name's (Secrets Manager appends
 * `-` and six characters) in the function's region and account.
 */
export function checkRotatedSecret(config: FleetplaneConfig, requested: string, home: FunctionHome): void {
  const store = config.executorSecret?.store;
  if (store?.kind !== 'aws-secrets-manager') {
    throw new RotateEventError('the config names no executorSecret.awsSecretsManager to rotate');
  }
  if (!sameSecret(store.secretId, requested, home)) {
    throw new RotateEventError(
      `asked to rotate ${requested}, but this function rotates only the configured executor secret ` +
        `${store.secretId}; nothing was done`,
    );
  }
}

/**
 * `configured` may be a name, a full ARN or a partial ARN (no suffix); `requested` is what the event names, from
 * Secrets Manager always the full ARN. Two ARNs match when equal, or when the configured one is the other's partial.
 */
export function sameSecret(configured: string, requested: string, home: FunctionHome): boolean {
  const [mine, theirs] = [secretRef(configured, home), secretRef(requested, home)];
  const where = (['partition', 'region', 'account'] as const).every(
    (key) => mine[key] === undefined || theirs[key] === undefined || mine[key] === theirs[key],
  );
  const withoutSuffix = (name: string) => name.replace(/-[A-Za-z0-9]{6}$/, '');
  if (!where) {
    return false;
  }
  if (mine.isArn === theirs.isArn) {
    return mine.name === theirs.name || (mine.isArn && withoutSuffix(theirs.name) === mine.name);
  }
  const [arn, name] = mine.isArn ? [mine.name, theirs.name] : [theirs.name, mine.name];
  return withoutSuffix(arn) === name || arn === name;
}

function secretRef(id: string, home: FunctionHome) {
  const [, partition, region, account, name] = SECRET_ARN.exec(id) ?? [];
  return name === undefined
    ? { isArn: false, partition: undefined, region: home.region, account: home.account, name: id }
    : { isArn: true, partition, region, account, name };
}
