/**
 * Loads a built Lambda bundle in this process, as Lambda would, and invokes its handler once per event given, one
 * after another in the same warm container, with a Lambda-like context. The function's own log lines go to stdout;
 * each invocation's outcome goes to stderr as `{"invoker": "result" | "error", …}`.
 *
 *   node test/integration/lambda-invoker.ts --bundle dist/aws/rotate.js --events '[{}]'
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import { isRecord } from '../../shared/domain/guards.ts';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    events: { type: 'string', default: '[{}]' },
    'timeout-seconds': { type: 'string', default: '120' },
    'function-name': { type: 'string', default: 'fleetplane-local-rotate' },
  },
});
if (values.bundle === undefined) {
  throw new Error('--bundle <file> is required');
}
const loaded: unknown = createRequire(import.meta.url)(resolve(values.bundle));
if (!isRecord(loaded) || typeof loaded.handler !== 'function') {
  throw new Error(`${values.bundle} exports no handler`);
}
const handler = loaded.handler;
const events: unknown = JSON.parse(values.events);
if (!Array.isArray(events)) {
  throw new Error('--events must be a JSON array of events');
}
const timeoutMs = Number(values['timeout-seconds']) * 1000;
const name = values['function-name'];

function contextFor(index: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    // The local emulators' account and region, as in their ARNs.
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: `local-${index}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

for (const [index, event] of events.entries()) {
  try {
    const result: unknown = await handler(event, contextFor(index));
    process.stderr.write(`${JSON.stringify({ invoker: 'result', index, result })}\n`);
  } catch (error) {
    // As Lambda reports a failed invocation to its caller: the error's name and message.
    const failure = error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
    process.stderr.write(`${JSON.stringify({ invoker: 'error', index, ...failure })}\n`);
  }
}
