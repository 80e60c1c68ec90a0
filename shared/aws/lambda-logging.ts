import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Env } from '../config/types.ts';
import { isRecord } from '../domain/guards.ts';
import { type Correlation, correlationIdFrom } from '../observability/correlation.ts';
import { type FunctionLogger, logLevelOf } from '../observability/function-logger.ts';
import { loggerOver, sanitize } from '../observability/logger.ts';

/** A Lambda function's logging: the port every component logs through, over one Powertools Logger. */
export interface LambdaLogging extends FunctionLogger {
  /**
   * Middy middleware stamping every line of an invocation with the Lambda context (request id, cold start, ARN) and
   * the invocation's `correlation_id`, clearing both when it ends, and logging a failed invocation as one line.
   */
  readonly middleware: MiddlewareObj[];
}

/**
 * Lambda logs through Powertools Logger: its JSON lines carry the fields CloudWatch Logs Insights and Powertools'
 * tooling expect (`level`, `timestamp`, `service`, `function_request_id`, `xray_trace_id`, `correlation_id`). Every
 * entry is sanitized first, as on GCP: secret-named keys redacted, every secret read at run time scrubbed from every
 * string, the message included. Level from `FLEETPLANE_LOG_LEVEL` (Lambda's own log-level setting, when configured,
 * takes precedence inside Powertools).
 */
export function createLambdaLogging(env: Env, name: string): LambdaLogging {
  const secrets = new Set<string>();
  const powertools = new PowertoolsLogger({
    serviceName: 'fleetplane',
    logLevel: logLevelOf(env),
    persistentKeys: { function: name },
  });
  const scrub = (value: unknown) =>
    sanitize(
      value,
      [...secrets].filter((secret) => secret.length > 0),
    );
  const logger = loggerOver((method, message, context) => {
    const attributes = scrub(context);
    powertools[method](String(scrub(message)), isRecord(attributes) ? attributes : {});
  });
  const correlate: MiddlewareObj<unknown, unknown, Error, Context> = {
    before: (request) => {
      const { id, callerId } = awsCorrelation(request.event, request.context);
      powertools.setCorrelationId(id);
      if (callerId !== undefined) {
        // A temporary key, cleared with the context keys when the invocation ends.
        powertools.appendKeys({ caller_correlation_id: callerId });
      }
    },
    // Middy runs onError hooks last-registered first: this one logs before the context keys are cleared. The error
    // propagates, so Lambda still counts the invocation as failed; a runtime that failed to build (bad config) is
    // logged here too, since that failure is exactly what must be seen.
    onError: (request) => {
      logger.error('invocation failed', { error: request.error, requestId: request.context.awsRequestId });
    },
  };
  return {
    logger,
    secrets,
    // logEvent false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the raw event (headers, bodies) would bypass scrubbing.
    middleware: [injectLambdaContext(powertools, { resetKeys: true, logEvent: false }), correlate as MiddlewareObj],
  };
}

/**
 * What ties one invocation's lines together: the function URL's request id, an EventBridge event's id, or Lambda's
 * request id (a direct invoke, a Secrets Manager step). A function URL caller's plain `X-Correlation-Id` is kept beside
 * it (see `Correlation`).
 */
export function awsCorrelation(event: unknown, context: Pick<Context, 'awsRequestId'>): Correlation {
  if (isRecord(event) && isRecord(event.requestContext)) {
    const headers = isRecord(event.headers) ? event.headers : {};
    const callerId = correlationIdFrom(headers['x-correlation-id']);
    return {
      id: correlationIdFrom(event.requestContext.requestId) ?? context.awsRequestId,
      ...(callerId === undefined ? {} : { callerId }),
    };
  }
  if (isRecord(event) && event.source === 'aws.events') {
    return { id: correlationIdFrom(event.id) ?? context.awsRequestId };
  }
  return { id: context.awsRequestId };
}
