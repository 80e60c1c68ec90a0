import { type Clock, systemClock } from '../ports/clock.ts';
import { MetricsPublishError, MetricsReadError } from '../ports/errors.ts';
import { checkRemoval, checkWindow, type Removal, type RemovalLedger } from '../ports/removal-ledger.ts';
import { throwIfAborted } from './abort.ts';

export interface RecordedRemoval extends Removal {
  /** Epoch milliseconds the store received it. */
  readonly at: number;
}

export interface InMemoryRemovalLedger extends RemovalLedger {
  /** Everything recorded so far, oldest first. */
  entries(): readonly RecordedRemoval[];
  /** The next `times` records throw (a retryable MetricsPublishError) and store nothing. */
  failRecords(times?: number): void;
  /** The next `times` reads throw a retryable MetricsReadError. */
  failReads(times?: number): void;
}

/** The ledger over one list, stamped by the clock; it refuses what the adapters refuse. */
export function createInMemoryRemovalLedger(options: { readonly clock?: Clock } = {}): InMemoryRemovalLedger {
  const clock = options.clock ?? systemClock;
  const stored: RecordedRemoval[] = [];
  const failures = { records: 0, reads: 0 };
  return {
    async record(removal, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'record');
      if (failures.records > 0) {
        failures.records -= 1;
        throw new MetricsPublishError('record', 'injected failure', { retryable: true });
      }
      checkRemoval(removal, 'record');
      stored.push({ ...removal, at: clock() });
    },
    async removed(fleets, environment, from, to, callOptions = {}) {
      throwIfAborted(callOptions.signal, 'removed');
      if (failures.reads > 0) {
        failures.reads -= 1;
        throw new MetricsReadError('removed', 'injected failure', { retryable: true });
      }
      checkWindow(from, to, 'removed');
      const counts = new Map(fleets.map((fleet) => [fleet, 0]));
      for (const entry of stored) {
        const sum = counts.get(entry.fleet);
        if (sum !== undefined && entry.environment === environment && entry.at >= from && entry.at <= to) {
          counts.set(entry.fleet, sum + entry.count);
        }
      }
      return counts;
    },
    entries: () => [...stored],
    failRecords(times = 1) {
      failures.records = times;
    },
    failReads(times = 1) {
      failures.reads = times;
    },
  };
}
