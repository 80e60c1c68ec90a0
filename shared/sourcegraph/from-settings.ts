import type { BusySignalSettings, SourcegraphSettings } from '../config/types.ts';
import type { BusySignal } from '../ports/busy-signal.ts';
import type { Clock } from '../ports/clock.ts';
import { systemSleep } from '../ports/clock.ts';
import type { ExecutorAuthCheck } from '../ports/executor-auth.ts';
import type { ExecutorDirectory } from '../ports/executor-directory.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueDepthSource } from '../ports/queue-depth.ts';
import type { SiteConfigStore } from '../ports/site-config.ts';
import { createPrometheusBusySignal } from './busy-signal.ts';
import { createSourcegraphExecutorAuthCheck } from './executor-auth.ts';
import { createSourcegraphExecutorDirectory, type SourcegraphExecutorDirectoryOptions } from './executors.ts';
import { createSourcegraphQueueDepthSource } from './queue-depth.ts';
import { createSourcegraphSiteConfigStore } from './site-config.ts';
import { createGraphQLTransport } from './transport.ts';

interface SourcegraphOptions {
  readonly token: () => Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The HTTP settings every Sourcegraph call shares: endpoint, per-attempt timeout, retries with jitter. */
function transportOptions(settings: SourcegraphSettings, options: Omit<SourcegraphOptions, 'token'>) {
  return {
    endpoint: settings.endpoint,
    sleep: systemSleep,
    random: Math.random,
    clock: options.clock,
    timeoutMs: settings.timeoutMs,
    maxAttempts: settings.maxAttempts,
    logger: options.logger.child({ module: 'sourcegraph' }),
  };
}

/** The queue-depth reader every cloud's function builds from its config: one transport, retries and limits as set. */
export function queueDepthSourceFor(settings: SourcegraphSettings, options: SourcegraphOptions): QueueDepthSource {
  const shared = transportOptions(settings, options);
  const { logger } = shared;
  const transport = createGraphQLTransport({ ...shared, token: options.token });
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

/** What a rotation needs of Sourcegraph: its site configuration (site-admin token) and the executor auth check. */
export function rotationSourcegraphFor(
  settings: SourcegraphSettings,
  options: SourcegraphOptions,
): { readonly siteConfig: SiteConfigStore; readonly executorAuth: ExecutorAuthCheck } {
  const shared = transportOptions(settings, options);
  return {
    siteConfig: createSourcegraphSiteConfigStore(createGraphQLTransport({ ...shared, token: options.token })),
    executorAuth: createSourcegraphExecutorAuthCheck(shared),
  };
}

/**
 * The executor directory fleet health reads (site-admin token): every heartbeat row, all pages, on the shared HTTP
 * settings. `limits` overrides the page size and page count (defaults: 500 rows × 20 pages).
 */
export function executorDirectoryFor(
  settings: SourcegraphSettings,
  options: SourcegraphOptions & {
    readonly limits?: Pick<SourcegraphExecutorDirectoryOptions, 'pageSize' | 'maxPages'>;
  },
): ExecutorDirectory {
  const shared = transportOptions(settings, options);
  return createSourcegraphExecutorDirectory(createGraphQLTransport({ ...shared, token: options.token }), {
    ...options.limits,
    logger: shared.logger,
  });
}
