import type { CallOptions } from '../ports/call-options.ts';
import { MetricsPublishError } from '../ports/errors.ts';
import { throwIfAborted } from './abort.ts';

/** What every in-memory metrics fake offers its tests beside the port's `publish`. */
export interface InMemoryPublisher<T> {
  publish(value: T, options?: CallOptions): Promise<void>;
  /** Every accepted value, oldest first, as copies: a caller changing its value later changes nothing here. */
  published(): readonly T[];
  /** The next `times` publishes throw `error` (default: a retryable MetricsPublishError) and store nothing. */
  failPublishes(times?: number, error?: Error): void;
  /** Calls made, failed and refused ones included. */
  readonly calls: { readonly publish: number };
  clear(): void;
}

/**
 * One list behind a metrics port. `check` is the port's own validation, the one its adapters run, so the fake refuses
 * exactly what they refuse, before storing anything.
 */
export function createInMemoryPublisher<T>(check: (value: T, operation: string) => void): InMemoryPublisher<T> {
  const stored: T[] = [];
  const calls = { publish: 0 };
  let failures: { remaining: number; error: Error | undefined } = { remaining: 0, error: undefined };
  return {
    calls,
    async publish(value, options = {}) {
      calls.publish += 1;
      throwIfAborted(options.signal, 'publish');
      if (failures.remaining > 0) {
        failures.remaining -= 1;
        throw failures.error ?? new MetricsPublishError('publish', 'injected failure', { retryable: true });
      }
      check(value, 'publish');
      stored.push(structuredClone(value));
    },
    published: () => stored.map((value) => structuredClone(value)),
    failPublishes(times = 1, error) {
      failures = { remaining: times, error };
    },
    clear() {
      stored.length = 0;
    },
  };
}
