import { toError } from '../domain/guards.ts';
import type { PeakDemand } from '../domain/policy.ts';
import type { SeriesName } from '../domain/queues.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { METRIC_PERIOD_MS, periodOf, type QueueSizeHistory, type SeriesPeriods } from '../ports/queue-metrics.ts';

/**
 * Milliseconds: the newest datapoint read back must be at least this recent. CloudWatch can take a minute or two to
 * show what was just written; anything older means nothing was published lately (depth unknown, function down), and
 * a window with a hole at its end says nothing about what the hole held.
 */
export const MAX_HISTORY_LAG_MS = 5 * 60_000;
/**
 * Share of the window's minutes that must hold data. Publishing every cycle fills every minute; CloudWatch's delay
 * may hide the newest one or two. Less than this means depth was unknown (nothing published) for a good part of the
 * window, and the peak of what remains may be far below what the holes held.
 */
export const MIN_WINDOW_COVERAGE = 0.7;

/**
 * Invocation-local knowledge of the window. It only ever makes scale-in more conservative (a higher peak), and every
 * invocation starts with an empty one, so a cold start decides as a warm one does.
 */
export interface InvocationMemory {
  readonly observed: { series: SeriesName; value: number; at: number }[];
  /** One read per window length per invocation, shared by its fleets and cycles, with when it was made. */
  readonly histories: Map<
    number,
    { readonly at: number; readonly read: Promise<ReadonlyMap<SeriesName, SeriesPeriods> | Error> }
  >;
  /** What this invocation removed itself: the ledger's store may not show it yet. */
  readonly removed: { fleet: string; count: number; at: number }[];
  /** One ledger read per window length, as for `histories`. */
  readonly removalReads: Map<number, Promise<ReadonlyMap<string, number> | Error>>;
}

export function createInvocationMemory(): InvocationMemory {
  return { observed: [], histories: new Map(), removed: [], removalReads: new Map() };
}

export interface WindowRequest {
  readonly series: SeriesName;
  readonly windowSeconds: number;
  /** Every series the cycle publishes: read back together in one call. */
  readonly allSeries: readonly SeriesName[];
  readonly environment: string;
  readonly now: number;
}

/**
 * The highest demand within the window `[now - window, now]`: what was published, read back once per window length
 * per invocation, and what this invocation saw itself. Each cycle slides the window over both, so a point leaves it
 * at the same cycle whenever the invocation started. A published period counts while any of its minute lies in the
 * window: where in the minute it was seen is not stored. Unknown unless the window's minutes are mostly covered, and
 * recently.
 */
export async function windowPeak(
  history: QueueSizeHistory,
  memory: InvocationMemory,
  request: WindowRequest,
  options: CallOptions,
): Promise<PeakDemand> {
  const { series, windowSeconds, now } = request;
  const windowMs = windowSeconds * 1000;
  const from = now - windowMs;
  let reading = memory.histories.get(windowSeconds);
  if (reading === undefined) {
    reading = {
      at: now,
      read: history.peaks(request.allSeries, request.environment, from, now, options).catch(toError),
    };
    memory.histories.set(windowSeconds, reading);
  }
  const histories = await reading.read;
  if (histories instanceof Error) {
    return { known: false, reason: `reading the window back failed: ${histories.message}` };
  }
  const periods = [...(histories.get(series) ?? [])];
  if (periods.length === 0) {
    return { known: false, reason: `no ${series} datapoints published in the last ${windowSeconds}s` };
  }
  // Judged at the read: what the invocation saw since fills the minutes after it, not a hole before it.
  const newest = Math.max(...periods.map(([start]) => start));
  if (reading.at - newest > MAX_HISTORY_LAG_MS) {
    const age = Math.round((reading.at - newest) / 1000);
    return { known: false, reason: `the newest ${series} datapoint was ${age}s old: recent minutes are missing` };
  }
  const published = periods.filter(([start]) => start + METRIC_PERIOD_MS > from && start <= now);
  const seen = memory.observed.filter((item) => item.series === series && item.at >= from && item.at <= now);
  const covered = new Set([...published.map(([start]) => start), ...seen.map((item) => periodOf(item.at))]).size;
  const minutes = Math.ceil(windowMs / METRIC_PERIOD_MS);
  const needed = Math.ceil(minutes * MIN_WINDOW_COVERAGE);
  if (covered < needed) {
    return {
      known: false,
      reason: `only ${covered} of the last ${minutes} minutes have ${series} data (need ${needed})`,
    };
  }
  return { known: true, jobs: Math.max(...published.map(([, value]) => value), ...seen.map((item) => item.value)) };
}
