import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { runInvocation } from '../../shared/app/invocation.ts';
import { once } from '../../shared/app/once.ts';
import { summarizeInvocation } from '../../shared/app/summary.ts';
import { createAwsScaleRuntime } from '../../shared/aws/deps.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { logErrors } from '../../shared/observability/middy.ts';
import { systemSleep } from '../../shared/ports/clock.ts';

/** Milliseconds kept free before Lambda's own timeout, so the last cycle's logs are flushed. */
const SAFETY_MARGIN_MS = 5_000;

// Config and SDK clients once per cold start; started during init so a bad config fails the first invocation loudly.
const runtime = once(() => createAwsScaleRuntime(process.env));
runtime().catch(() => {});

/** Scheduled every minute; `{"once": true}` (a manual invoke) runs a single cycle. */
export const handler = middy(async (event: unknown, context: Context) => {
  const { config, deps, settings } = await runtime();
  const now = deps.clock();
  const report = await runInvocation(deps, settings, {
    once: isRecord(event) && event.once === true,
    until: now + config.invocationSeconds * 1000,
    hardDeadline: now + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    sleep: systemSleep,
  });
  return summarizeInvocation(report);
}).use(logErrors(() => runtime.value()?.deps.logger));
