import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { once } from '../../shared/app/once.ts';
import { invokeRotation } from '../../shared/app/rotation-invocation.ts';
import { createLambdaLogging } from '../../shared/aws/lambda-logging.ts';
import { createAwsRotationRuntime } from '../../shared/aws/rotation-deps.ts';
import { checkRotatedSecret, homeOf, parseRotateEvent } from '../../shared/aws/rotation-events.ts';
import { systemClock, systemSleep } from '../../shared/ports/clock.ts';

// Config and SDK clients once per cold start; started during init so a bad config fails the first invocation loudly.
const logging = createLambdaLogging(process.env, 'rotate');
const runtime = once(() => createAwsRotationRuntime(process.env, systemClock, systemSleep, logging));
runtime().catch(() => {});

/**
 * The executor secret's rotation, three ways: `{}` or `{"rotation": "<id>"}` (manual) and a scheduled event run the
 * whole rotation; Secrets Manager, with this function as the secret's rotation Lambda, invokes one step at a time
 * with its `ClientRequestToken` as the rotation id. A failed step throws, so Secrets Manager retries the rotation.
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const request = parseRotateEvent(event);
  const rotation = await runtime();
  if (request.kind === 'step') {
    checkRotatedSecret(rotation.config, request.secretId, homeOf(context.invokedFunctionArn));
  }
  return invokeRotation(rotation, request, { remainingMs: context.getRemainingTimeInMillis() });
}).use(logging.middleware);
