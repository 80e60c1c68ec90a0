/**
 * Runs the real AWS scale function in this process the way Lambda and EventBridge would: one invocation per schedule
 * tick with a Lambda-like context, the next tick waiting for the schedule even when an invocation ends early. The
 * local stack starts it as a child process with the emulators' endpoints in its environment, so the function, its
 * SDK clients and its logs are exactly what runs in the cloud. Stops after `--ticks` invocations or on SIGTERM.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import { isRecord } from '../shared/domain/guards.ts';

const { values } = parseArgs({
  options: {
    'tick-seconds': { type: 'string', default: '60' },
    'timeout-seconds': { type: 'string', default: '60' },
    ticks: { type: 'string', default: '0' },
    // A built bundle (dist/aws/scale.js) instead of the TypeScript source: what Lambda would run.
    bundle: { type: 'string' },
    // Send `{"once": true}`, a manual invocation, instead of the scheduled event.
    once: { type: 'boolean', default: false },
  },
});
const tickMs = Number(values['tick-seconds']) * 1000;
const timeoutMs = Number(values['timeout-seconds']) * 1000;
const maxTicks = Number(values.ticks);

let stopping = false;
process.on('SIGTERM', () => {
  // The parent is done with the demo: stop at once rather than finish a 50-second invocation nobody watches.
  stopping = true;
  process.exit(0);
});

type Handler = (event: unknown, context: Context) => Promise<unknown>;

async function loadHandler(bundle: string | undefined): Promise<Handler> {
  if (bundle === undefined) {
    return (await import('../functions/aws/scale.ts')).handler;
  }
  const loaded: unknown = createRequire(import.meta.url)(resolve(bundle));
  if (!isRecord(loaded) || typeof loaded.handler !== 'function') {
    throw new Error(`${bundle} exports no handler`);
  }
  const exported = loaded.handler;
  return async (event, context) => exported(event, context);
}

const handler = await loadHandler(values.bundle);

function contextFor(invocation: number, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fleetplane-local-scale',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fleetplane-local-scale',
    memoryLimitInMB: '256',
    awsRequestId: `local-${invocation}`,
    logGroupName: '/aws/lambda/fleetplane-local-scale',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const event = values.once ? { once: true } : { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
const started = Date.now();
for (let tick = 0; !stopping && (maxTicks === 0 || tick < maxTicks); tick++) {
  const at = started + tick * tickMs;
  const wait = at - Date.now();
  if (wait > 0) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  if (stopping) {
    break;
  }
  try {
    const result = await handler(event, contextFor(tick, Date.now() + timeoutMs));
    // Lambda hands the result to the caller; here it goes to stderr so stdout stays the function's own log lines.
    process.stderr.write(`${JSON.stringify({ harness: 'result', tick, result })}\n`);
  } catch (error) {
    // The function logged its own failure; Lambda records an error and the next tick runs anyway.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${JSON.stringify({ harness: 'error', tick, message })}\n`);
    process.exitCode = 1;
  }
}
