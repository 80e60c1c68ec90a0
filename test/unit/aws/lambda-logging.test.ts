import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsCorrelation, createLambdaLogging } from '../../../shared/aws/lambda-logging.ts';

const SECRET = 'sgp_0123456789abcdef0123456789abcdef01234567';

let lines: { stream: 'stdout' | 'stderr'; entry: Record<string, unknown> }[];

beforeEach(() => {
  lines = [];
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      for (const line of text.split('\n').filter((l) => l.startsWith('{'))) {
        lines.push({ stream: name, entry: JSON.parse(line) });
      }
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

function contextOf(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fleetplane-prod-scale',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleetplane-prod-scale',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/fleetplane-prod-scale',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A handler wired as the entrypoints wire theirs: the work logs through the port, the middleware stamps each line. */
function handlerWith(work: (logger: ReturnType<typeof createLambdaLogging>['logger']) => unknown, env = {}) {
  const logging = createLambdaLogging(env, 'scale');
  logging.secrets.add(SECRET);
  return middy(async (_event: unknown, _context: Context) => work(logging.logger)).use(logging.middleware);
}

const FUNCTION_URL_EVENT = (headers: Record<string, string>) => ({
  version: '2.0',
  rawPath: '/health',
  headers,
  requestContext: { requestId: 'url-request-7', http: { method: 'GET', path: '/health' } },
  isBase64Encoded: false,
});

describe('createLambdaLogging', () => {
  it('writes Powertools JSON lines carrying the Lambda context, the function and the correlation id', async () => {
    // Prepare
    const handler = handlerWith((logger) =>
      logger.child({ module: 'scaling-cycle' }).info('fleet decision', { fleet: 'codeintel' }),
    );

    // Act
    await handler({ once: true }, contextOf('req-1'));

    // Assess
    expect(lines).toEqual([
      {
        stream: 'stdout',
        entry: expect.objectContaining({
          level: 'INFO',
          message: 'fleet decision',
          service: 'fleetplane',
          function: 'scale',
          module: 'scaling-cycle',
          fleet: 'codeintel',
          function_request_id: 'req-1',
          function_name: 'fleetplane-prod-scale',
          correlation_id: 'req-1',
          cold_start: expect.any(Boolean),
          timestamp: expect.any(String),
        }),
      },
    ]);
  });

  it('gives each invocation its own correlation id and keeps none from the one before', async () => {
    // Prepare
    const handler = handlerWith((logger) => logger.info('tick'));

    // Act
    await handler(FUNCTION_URL_EVENT({ 'x-correlation-id': 'caller-1' }), contextOf('req-0'));
    await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'evt-1' }, contextOf('req-1'));
    await handler({}, contextOf('req-2'));

    // Assess
    const ids = lines.map(({ entry }) => [
      entry.correlation_id,
      entry.caller_correlation_id,
      entry.function_request_id,
    ]);
    expect(ids).toEqual([
      ['url-request-7', 'caller-1', 'req-0'],
      ['evt-1', undefined, 'req-1'],
      ['req-2', undefined, 'req-2'],
    ]);
  });

  it('scrubs every secret read at run time from the message and every value, and redacts secret-named keys', async () => {
    // Prepare
    const handler = handlerWith((logger) =>
      logger.warn(`token ${SECRET} refused`, { detail: `Bearer ${SECRET}`, token: 'anything', nested: { SECRET } }),
    );

    // Act
    await handler({}, contextOf('req-1'));

    // Assess
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(lines[0]).toMatchObject({
      stream: 'stderr',
      entry: { level: 'WARN', message: 'token [redacted] refused', detail: 'Bearer [redacted]', token: '[redacted]' },
    });
  });

  it('logs a failed invocation once, with its correlation id, and lets the error propagate', async () => {
    // Prepare
    const handler = handlerWith(() => {
      throw new Error(`Sourcegraph refused ${SECRET}`);
    });

    // Act
    const attempt = handler(FUNCTION_URL_EVENT({ 'x-correlation-id': 'caller-42' }), contextOf('req-9')).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(await attempt).toBeInstanceOf(Error);
    const failures = lines.filter(({ entry }) => entry.message === 'invocation failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.entry).toMatchObject({
      level: 'ERROR',
      correlation_id: 'url-request-7',
      caller_correlation_id: 'caller-42',
      requestId: 'req-9',
      error: { name: 'Error', message: 'Sourcegraph refused [redacted]' },
    });
  });

  it('takes its level from FLEETPLANE_LOG_LEVEL', async () => {
    // Prepare
    const handler = handlerWith(
      (logger) => {
        logger.info('quiet');
        logger.warn('loud');
      },
      { FLEETPLANE_LOG_LEVEL: 'warn' },
    );

    // Act
    await handler({}, contextOf('req-1'));

    // Assess
    expect(lines.map(({ entry }) => entry.message)).toEqual(['loud']);
  });
});

describe('awsCorrelation', () => {
  it.each([
    [
      'a function URL request, keeping the caller’s plain id beside its own',
      FUNCTION_URL_EVENT({ 'x-correlation-id': 'abc-123' }),
      { id: 'url-request-7', callerId: 'abc-123' },
    ],
    ['a function URL request without one', FUNCTION_URL_EVENT({}), { id: 'url-request-7' }],
    [
      'a function URL request whose header could forge log structure',
      FUNCTION_URL_EVENT({ 'x-correlation-id': 'a"}\n{"level":"ERROR' }),
      { id: 'url-request-7' },
    ],
    [
      'a function URL request with an overlong header',
      FUNCTION_URL_EVENT({ 'x-correlation-id': 'x'.repeat(129) }),
      { id: 'url-request-7' },
    ],
    [
      'an EventBridge scheduled event',
      { source: 'aws.events', id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa' },
      { id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa' },
    ],
    [
      'a Secrets Manager rotation step',
      { Step: 'createSecret', SecretId: 's', ClientRequestToken: 't' },
      { id: 'lambda-req' },
    ],
    ['a manual invoke', { once: true }, { id: 'lambda-req' }],
  ])('identifies %s', (_, event, expected) => {
    // Act
    const correlation = awsCorrelation(event, { awsRequestId: 'lambda-req' });

    // Assess
    expect(correlation).toEqual(expected);
  });
});
