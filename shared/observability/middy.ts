import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '../ports/logger.ts';
import { createJsonLogger } from './logger.ts';

/**
 * Logs a failed invocation as one structured line (error name, message and cause chain) and lets the error propagate,
 * so Lambda still counts it. The logger comes from the runtime when there is one; a runtime that failed to build (bad
 * config) gets a plain logger, since the failure to build it is exactly what must be seen.
 */
export function logErrors(logger: () => Logger | undefined): MiddlewareObj {
  return {
    onError: (request) => {
      const log = logger() ?? createJsonLogger({ bindings: { service: 'fleetplane' } });
      log.error('invocation failed', { error: request.error, requestId: request.context.awsRequestId });
    },
  };
}
