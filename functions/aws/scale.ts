import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { once } from '../../shared/app/once.ts';
import { invokeScale } from '../../shared/app/scale-invocation.ts';
import { createAwsScaleRuntime } from '../../shared/aws/deps.ts';
import { createLambdaLogging } from '../../shared/aws/lambda-logging.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { systemClock } from '../../shared/ports/clock.ts';

// Config and SDK clients once per cold start; started during init so a bad config fails the first invocation loudly.
const logging = createLambdaLogging(process.env, 'scale');
const runtime = once(() => createAwsScaleRuntime(process.env, systemClock, logging));
runtime().catch(() => {});

/** Scheduled every minute; `{"once": true}` (a manual invoke) runs a single cycle. */
export const handler = middy(async (event: unknown, context: Context) =>
  invokeScale(await runtime(), {
    once: isRecord(event) && event.once === true,
    remainingMs: context.getRemainingTimeInMillis(),
  }),
).use(logging.middleware);
