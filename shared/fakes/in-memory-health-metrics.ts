import { MetricsPublishError } from '../ports/errors.ts';
import { checkHealthCounts, type HealthCounts, type HealthMetrics } from '../ports/health-metrics.ts';
import { throwIfAborted } from './abort.ts';

export interface InMemoryHealthMetrics extends HealthMetrics {
  /** Every accepted publish, oldest first, as copies: a caller changing its counts later changes nothing here. */
  published(): readonly HealthCounts[];
  /** The newest accepted publish for `environment`, if any. */
  latest(environment: string): HealthCounts | undefined;
  /** The next `times` publishes throw `error` (default: a retryable MetricsPublishError) and store nothing. */
  failPublishes(times?: number, error?: Error): void;
  /** Calls made, failed and refused ones included. */
  readonly calls: { readonly publish: number };
  clear(): void;
}

/** Health counts over one list; it refuses what the adapters refuse, before storing any of a publish. */
export function createInMemoryHealthMetrics(): InMemoryHealthMetrics {
  const stored: HealthCounts[] = [];
  const calls = { publish: 0 };
  let failures: { remaining: number; error: Error | undefined } = { remaining: 0, error: undefined };

  return {
    calls,
    async publish(counts, options = {}) {
      calls.publish += 1;
      throwIfAborted(options.signal, 'publish');
      if (failures.remaining > 0) {
        failures.remaining -= 1;
        throw failures.error ?? new MetricsPublishError('publish', 'injected failure', { retryable: true });
      }
      checkHealthCounts(counts, 'publish');
      stored.push(copy(counts));
    },
    published: () => stored.map(copy),
    latest(environment) {
      const found = stored.findLast((counts) => counts.environment === environment);
      return found === undefined ? undefined : copy(found);
    },
    failPublishes(times = 1, error) {
      failures = { remaining: times, error };
    },
    clear() {
      stored.length = 0;
    },
  };
}

function copy(counts: HealthCounts): HealthCounts {
  return {
    ...counts,
    fleets: counts.fleets.map(({ fleet, counts: perClass }) => ({ fleet, counts: { ...perClass } })),
  };
}
