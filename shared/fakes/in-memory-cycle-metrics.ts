import { type CycleMetrics, type CycleSummary, checkCycleSummary } from '../ports/cycle-metrics.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import { throwIfAborted } from './abort.ts';

export interface InMemoryCycleMetrics extends CycleMetrics {
  /** Every accepted summary, oldest first. */
  published(): readonly CycleSummary[];
  /** The next `times` publishes throw `error` (default: a retryable MetricsPublishError) and store nothing. */
  failPublishes(times?: number, error?: Error): void;
  /** Calls made, failed and refused ones included. */
  readonly calls: { readonly publish: number };
}

/** Cycle summaries over one list; it refuses what the adapters refuse. */
export function createInMemoryCycleMetrics(): InMemoryCycleMetrics {
  const stored: CycleSummary[] = [];
  const calls = { publish: 0 };
  let failures: { remaining: number; error: Error | undefined } = { remaining: 0, error: undefined };
  return {
    calls,
    async publish(summary, options = {}) {
      calls.publish += 1;
      throwIfAborted(options.signal, 'publish');
      if (failures.remaining > 0) {
        failures.remaining -= 1;
        throw failures.error ?? new MetricsPublishError('publish', 'injected failure', { retryable: true });
      }
      checkCycleSummary(summary, 'publish');
      stored.push(structuredClone(summary));
    },
    published: () => stored.map((summary) => structuredClone(summary)),
    failPublishes(times = 1, error) {
      failures = { remaining: times, error };
    },
  };
}
