import type { SourcegraphSettings } from '../config/types.ts';
import type { Clock } from '../ports/clock.ts';
import { systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueDepthSource } from '../ports/queue-depth.ts';
import { createSourcegraphQueueDepthSource } from './queue-depth.ts';
import { createGraphQLTransport } from './transport.ts';

/** The queue-depth reader every cloud's function builds from its config: one transport, retries and limits as set. */
export function queueDepthSourceFor(
  settings: SourcegraphSettings,
  options: { readonly token: () => Promise<string>; readonly clock: Clock; readonly logger: Logger },
): QueueDepthSource {
  const logger = options.logger.child({ module: 'sourcegraph' });
  const transport = createGraphQLTransport({
    endpoint: settings.endpoint,
    token: options.token,
    sleep: systemSleep,
    random: Math.random,
    clock: options.clock,
    timeoutMs: settings.timeoutMs,
    maxAttempts: settings.maxAttempts,
    logger,
  });
  return createSourcegraphQueueDepthSource(transport, {
    clock: options.clock,
    maxBatchSpecs: settings.maxBatchSpecs,
    batchSpecPageSize: settings.batchSpecPageSize,
    logger,
  });
}
