import type { BusyReading, BusySignal } from '../ports/busy-signal.ts';
import { type Clock, systemClock } from '../ports/clock.ts';

export interface InMemoryBusySignalOptions {
  /** Stamps `observedAt`. */
  readonly clock?: Clock;
  /** Running jobs per executor name to start with. */
  readonly running?: Readonly<Record<string, number>>;
}

export interface InMemoryBusySignal extends BusySignal {
  /** The executor reports `jobs` running jobs from the next read on. Throws RangeError unless a whole number >= 0. */
  setRunning(executor: string, jobs: number): void;
  /** The executor stops reporting, as one whose instance went away drops out of the worker's store. */
  removeExecutor(executor: string): void;
  /** No executor reports anything. */
  clearExecutors(): void;
  /** Reads answer unknown with `reason`: the next `times` reads, or every read until `makeKnown` when absent. */
  makeUnknown(reason?: string, times?: number): void;
  makeKnown(): void;
  /** Reads made, unknown ones included. */
  readonly calls: { readonly read: number };
}

/**
 * A busy signal held in memory, for tests, the simulator and the local runner. It answers as the Prometheus adapter
 * does: unknown (never a throw) for an aborted call or when no executor reports at all, and a fresh map per reading,
 * so a reading kept by the caller does not change under it.
 */
export function createInMemoryBusySignal(options: InMemoryBusySignalOptions = {}): InMemoryBusySignal {
  const clock = options.clock ?? systemClock;
  const running = new Map<string, number>();
  const calls = { read: 0 };
  let outage: { reason: string; remaining: number } | undefined;

  const fake: InMemoryBusySignal = {
    calls,
    async read(callOptions = {}): Promise<BusyReading> {
      calls.read += 1;
      if (callOptions.signal?.aborted) {
        return { known: false, reason: "aborted: the cycle's time budget ran out before the read" };
      }
      if (outage !== undefined && outage.remaining > 0) {
        outage.remaining -= 1;
        return { known: false, reason: outage.reason };
      }
      if (running.size === 0) {
        // The worker serves an empty body when no executor reports, which the adapter cannot tell from a wrong URL.
        return { known: false, reason: 'no executor series: no executor is reporting' };
      }
      return { known: true, observedAt: clock(), runningJobs: new Map(running) };
    },
    setRunning(executor, jobs) {
      if (!Number.isInteger(jobs) || jobs < 0) {
        throw new RangeError(`running jobs of ${executor} must be a whole number >= 0, got ${jobs}`);
      }
      running.set(executor, jobs);
    },
    removeExecutor: (executor) => void running.delete(executor),
    clearExecutors: () => running.clear(),
    makeUnknown(reason = 'injected: the busy signal is unavailable', times) {
      if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
        throw new RangeError(`times must be a whole number of at least 1, got ${times}`);
      }
      outage = { reason, remaining: times ?? Number.POSITIVE_INFINITY };
    },
    makeKnown() {
      outage = undefined;
    },
  };
  for (const [executor, jobs] of Object.entries(options.running ?? {})) {
    fake.setRunning(executor, jobs);
  }
  return fake;
}
