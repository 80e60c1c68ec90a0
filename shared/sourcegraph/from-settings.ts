import type { BusySignalSettings, SourcegraphSettings } from '../config/types.ts';
import type { BusySignal } from '../ports/busy-signal.ts';
import type { Clock } from '../ports/clock.ts';
import { systemSleep } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueDepthSource } from '../ports/queue-depth.ts';
import { createPrometheusBusySignal } from './busy-signal.ts';
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

/** The busy signal every cloud's function builds when its config names one (only busy-aware scale-in reads it). */
export function busySignalFor(
  settings: BusySignalSettings | undefined,
  options: { readonly clock: Clock; readonly logger: Logger },
): { readonly busy?: BusySignal } {
  if (settings === undefined) {
    return {};
  }
  const logger = options.logger.child({ module: 'busy-signal' });
  return {
    busy: createPrometheusBusySignal({
      url: settings.url,
      timeoutMs: settings.timeoutMs,
      clock: options.clock,
      logger,
    }),
  };
}
