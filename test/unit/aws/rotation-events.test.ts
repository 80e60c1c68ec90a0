import { describe, expect, it } from 'vitest';
import {
  checkRotatedSecret,
  homeOf,
  parseRotateEvent,
  RotateEventError,
  sameSecret,
} from '../../../shared/aws/rotation-events.ts';
import { parseConfigText } from '../../../shared/config/index.ts';

const ID = '4c1f2a6e-8a1b-4d0e-9f3a-0b1c2d3e4f50';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleetplane/executor-token-AbC123';
const HOME = { region: 'us-east-1', account: '123456789012' };

describe('parseRotateEvent', () => {
  it.each<[string, unknown, object]>([
    ['{} (a manual invoke)', {}, { kind: 'rotation', trigger: 'manual' }],
    ['a manual invoke naming its rotation', { rotation: ID }, { kind: 'rotation', trigger: 'manual', rotation: ID }],
    [
      'an EventBridge scheduled event',
      { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', resources: [], detail: {} },
      { kind: 'rotation', trigger: 'schedule' },
    ],
    ...(['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const).map((step): [string, unknown, object] => [
      `a Secrets Manager ${step} step`,
      { Step: step, SecretId: ARN, ClientRequestToken: ID, RotationToken: 'opaque' },
      { kind: 'step', step, secretId: ARN, rotation: ID },
    ]),
  ])('reads %s', (_name, event, expected) => {
    // Act
    const request = parseRotateEvent(event);

    // Assess
    expect(request).toEqual(expected);
  });

  it.each([
    ['null', null, /the event is null/],
    ['a string', 'rotate', /the event is string/],
    ['an array', [], /the event is object/],
    ['a scale invoke sent here by mistake', { once: true }, /unknown keys "once"/],
    ['a rotation id too short for a version id', { rotation: 'r1' }, /rotation must be 32 to 64/],
    ['a rotation id that is not a string', { rotation: 42 }, /rotation must be 32 to 64/],
    ['another EventBridge event', { source: 'aws.events', 'detail-type': 'EC2 Instance State-change' }, /unknown keys/],
    ['an unknown step', { Step: 'rollback', SecretId: ARN, ClientRequestToken: ID }, /Step must be one of create/],
    ['a step without its secret', { Step: 'createSecret', ClientRequestToken: ID }, /SecretId must be/],
    ['a step without its token', { Step: 'setSecret', SecretId: ARN }, /ClientRequestToken must be 32 to 64/],
  ])('refuses %s with a clear error', (_name, event, message) => {
    // Act
    const parse = () => parseRotateEvent(event);

    // Assess
    expect(parse).toThrow(RotateEventError);
    expect(parse).toThrow(message);
  });

  it('lists every problem of a step event at once and quotes none of its values', () => {
    // Prepare
    const event = { Step: 'sgp_looks_like_a_token', SecretId: '', ClientRequestToken: 'sgp_token value' };

    // Act
    const parse = () => parseRotateEvent(event);

    // Assess
    expect(parse).toThrow(/Step must be one of.*; SecretId must be.*; ClientRequestToken must be/);
    expect(parse).not.toThrow(/sgp_/);
  });
});

describe('sameSecret', () => {
  it.each([
    ['a name and its ARN', 'fleetplane/executor-token', ARN, true],
    ['the same ARN', ARN, ARN, true],
    ['a partial ARN and the full one', ARN.slice(0, -7), ARN, true],
    ['the same name', 'fleetplane/executor-token', 'fleetplane/executor-token', true],
    ['a full ARN and its name', ARN, 'fleetplane/executor-token', true],
    ['another name', 'fleetplane/other', ARN, false],
    ['a name that only starts alike', 'fleetplane/executor', ARN, false],
    ['a name in another region', 'fleetplane/executor-token', ARN.replace('us-east-1', 'eu-west-1'), false],
    ['a name in another account', 'fleetplane/executor-token', ARN.replace('123456789012', '210987654321'), false],
    ['another partition', ARN, ARN.replace('arn:aws:', 'arn:aws-cn:'), false],
    ['two names, one with a suffix-like tail', 'fleetplane/executor-token', 'fleetplane/executor-token-AbC123', false],
    [
      "the ARN of a secret whose name extends the configured one's ARN",
      ARN,
      `${ARN}-XyZ789`,
      // A partial ARN cannot be told from a full one: Secrets Manager documents this ambiguity for names ending in
      // `-` and six characters, so both read as the same secret.
      true,
    ],
  ])('%s: %s', (_name, configured, requested, same) => {
    // Act
    const result = sameSecret(configured, requested, HOME);

    // Assess
    expect(result).toBe(same);
  });
});

describe('checkRotatedSecret', () => {
  const config = (executorSecret?: object) =>
    parseConfigText(
      JSON.stringify({
        sourcegraph: {
          endpoint: 'https://sourcegraph.example.com',
          token: 'sgp_0123456789abcdef0123456789abcdef01234567',
        },
        metrics: { cloudwatch: { namespace: 'sourcegraph-executor' } },
        fleets: [{ name: 'codeintel', queues: ['codeintel'], mode: 'metrics', jobsPerInstance: 4, maxInstances: 5 }],
        ...(executorSecret === undefined ? {} : { executorSecret }),
      }),
      'test',
      { AWS_REGION: 'us-east-1' },
    );

  it('accepts the configured secret, named by the event with its full ARN', () => {
    // Prepare
    const home = homeOf('arn:aws:lambda:us-east-1:123456789012:function:fleetplane-prod-rotate');

    // Act
    const check = () => checkRotatedSecret(config({ awsSecretsManager: 'fleetplane/executor-token' }), ARN, home);

    // Assess
    expect(home).toEqual(HOME);
    expect(check).not.toThrow();
  });

  it('refuses another secret, naming both and saying nothing was done', () => {
    // Act
    const check = () =>
      checkRotatedSecret(config({ awsSecretsManager: 'fleetplane/executor-token' }), 'db/password', HOME);

    // Assess
    expect(check).toThrow(RotateEventError);
    expect(check).toThrow(/db\/password.*only the configured executor secret fleetplane\/executor-token; nothing/);
  });

  it('refuses every step when the config names no executor secret in Secrets Manager', () => {
    // Act
    const check = () => checkRotatedSecret(config(), ARN, HOME);

    // Assess
    expect(check).toThrow(/names no executorSecret\.awsSecretsManager/);
  });
});
