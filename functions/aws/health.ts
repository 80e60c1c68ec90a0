import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { checkFleetHealth } from '../../shared/app/health.ts';
import { once } from '../../shared/app/once.ts';
import { SAFETY_MARGIN_MS } from '../../shared/app/scale-invocation.ts';
import { createWebhook } from '../../shared/app/webhook.ts';
import { toFunctionUrlResult } from '../../shared/aws/function-url.ts';
import { createAwsHealthRuntime } from '../../shared/aws/health-deps.ts';
import { parseHealthEvent } from '../../shared/aws/health-events.ts';
import { createLambdaLogging } from '../../shared/aws/lambda-logging.ts';
import { systemClock, systemSleep } from '../../shared/ports/clock.ts';

// Config and SDK clients once per cold start; started during init so a bad config fails the first invocation loudly.
// The webhook's replay guard lives in this runtime too, so it outlives each request.
const logging = createLambdaLogging(process.env, 'health');
const runtime = once(() => createAwsHealthRuntime(process.env, systemClock, systemSleep, logging));
runtime().catch(() => {});

/**
 * Fleet health, two ways: the EventBridge schedule judges every fleet and replaces the broken instances of direct
 * fleets, returning the report; a function URL request is the webhook (`GET /health` reports and changes nothing,
 * `POST /rotate` rotates the executor secret), answered as an HTTP response.
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const request = parseHealthEvent(event);
  const { app } = await runtime();
  const remainingMs = () => context.getRemainingTimeInMillis();
  if (request.kind === 'schedule') {
    const signal = AbortSignal.timeout(Math.max(1, remainingMs() - SAFETY_MARGIN_MS));
    return checkFleetHealth(app.health, app.config, { act: true, signal });
  }
  return toFunctionUrlResult(await createWebhook(app, remainingMs)(request.request));
}).use(logging.middleware);
