import type { BurstOutcome, Scenario, Trace } from './model.ts';

/** Arrivals within this many seconds form one burst. */
export const BURST_WINDOW_S = 60;
/** After a burst, arrivals within this many seconds of its start belong to it, not to a new one. */
export const BURST_SEPARATION_S = 600;

export interface Burst {
  /** Seconds from the trace's start: the burst's first arrival. */
  readonly startS: number;
  /** The last arrival counted in the burst: capacity is judged from then on. */
  readonly lastArrivalS: number;
  readonly jobs: number;
}

/**
 * Bursts are what a scaler is judged on: at least two instances' worth of jobs (and at least 10) arriving within a
 * minute. Found from the trace alone, so every policy is timed on the same bursts.
 */
export function findBursts(trace: Trace, scenario: Pick<Scenario, 'jobsPerInstance'>): Burst[] {
  const threshold = Math.max(10, 2 * scenario.jobsPerInstance);
  const arrivals = trace.jobs.map((job) => job.arrivalS);
  const bursts: Burst[] = [];
  let end = 0;
  for (let first = 0; first < arrivals.length; first++) {
    const startS = arrivals[first] as number;
    if (bursts.length > 0 && startS < (bursts.at(-1)?.startS ?? 0) + BURST_SEPARATION_S) {
      continue;
    }
    end = Math.max(end, first);
    while (end + 1 < arrivals.length && (arrivals[end + 1] as number) < startS + BURST_WINDOW_S) {
      end += 1;
    }
    const jobs = end - first + 1;
    if (jobs >= threshold) {
      bursts.push({ startS, lastArrivalS: arrivals[end] as number, jobs });
    }
  }
  return bursts;
}

/**
 * Follows each burst through a run: `observe` is called after every event with the desired size and the instances the
 * queue needs then (bounded by the maximum).
 */
export function createBurstTracker(bursts: readonly Burst[]) {
  const tracked = bursts.map((burst) => ({
    burst,
    /** Since when the desired size has been below need, while it is. */
    shortSince: undefined as number | undefined,
    longestShort: 0,
    coveredAt: undefined as number | undefined,
  }));
  let open = 0;
  return {
    observe(now: number, desired: number, needed: number): void {
      for (let index = open; index < tracked.length; index++) {
        const item = tracked[index] as (typeof tracked)[number];
        if (now < item.burst.startS * 1000) {
          break;
        }
        if (item.coveredAt !== undefined) {
          continue;
        }
        if (desired < needed) {
          item.shortSince ??= now;
          continue;
        }
        if (item.shortSince !== undefined) {
          item.longestShort = Math.max(item.longestShort, now - item.shortSince);
          item.shortSince = undefined;
        }
        if (now >= item.burst.lastArrivalS * 1000) {
          item.coveredAt = now;
        }
      }
      while (open < tracked.length && tracked[open]?.coveredAt !== undefined) {
        open += 1;
      }
    },
    outcomes: (): BurstOutcome[] =>
      tracked.map(({ burst, coveredAt, longestShort }) => ({
        startS: burst.startS,
        jobs: burst.jobs,
        ...(coveredAt === undefined
          ? {}
          : { coveredAfterS: (coveredAt - burst.startS * 1000) / 1000, longestShortfallS: longestShort / 1000 }),
      })),
  };
}
