import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { once } from '../../shared/app/once.ts';
import { invokeScale } from '../../shared/app/scale-invocation.ts';
import { createAwsScaleRuntime } from '../../shared/aws/deps.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { logErrors } from '../../shared/observability/middy.ts';

// Config and SDK clients once per cold start; started during init so a bad config fails the first invocation loudly.
const runtime = once(() => createAwsScaleRuntime(process.env));
runtime().catch(() => {});

/** Scheduled every minute; `{"once": true}` (a manual invoke) runs a single cycle. */
export const handler = middy(async (event: unknown, context: Context) =>
  invokeScale(await runtime(), {
    once: isRecord(event) && event.once === true,
    remainingMs: context.getRemainingTimeInMillis(),
  }),
).use(logErrors(() => runtime.value()?.deps.logger));
