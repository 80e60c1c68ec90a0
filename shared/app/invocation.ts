import type { Sleep } from '../ports/clock.ts';
import { type CycleReport, runScalingCycle, type ScalingDeps, type ScalingSettings } from './scaling-cycle.ts';
import { createInvocationMemory } from './stabilization-window.ts';

/** Milliseconds kept after a cycle's depth read for publishing, describing and resizing. */
const ACT_RESERVE_MS = 3_000;
/** A cycle whose depth read would get less time than this is not started. */
const MIN_READ_MS = 1_000;

export interface InvocationOptions {
  /** Run exactly one cycle (a manual invocation). */
  readonly once: boolean;
  /** Epoch ms after which no cycle starts. */
  readonly until: number;
  /** Epoch ms by which the last cycle must have finished: the platform's timeout less a margin. */
  readonly hardDeadline: number;
  readonly pollIntervalMs: number;
  readonly sleep: Sleep;
}

export interface InvocationReport {
  readonly cycles: readonly CycleReport[];
}

/**
 * Every fleet failed in the invocation's last cycle (with no fleets: nothing was published). Surfaced as a failed
 * invocation so Lambda's error alarms fire.
 */
export class ScalingCycleError extends Error {
  override readonly name = 'ScalingCycleError';
  readonly report: InvocationReport;

  constructor(report: InvocationReport) {
    const last = report.cycles.at(-1);
    const reasons = [
      ...(last?.fleets.map((fleet) => `${fleet.fleet}: ${fleet.reason} (${fleet.detail})`) ?? []),
      ...(last?.published.skipped.map((skip) => `series ${skip.series} not published: ${skip.reason}`) ?? []),
      ...(last?.published.error ? [`publish: ${last.published.error}`] : []),
    ];
    super(`the last cycle failed: ${reasons.join('; ') || 'nothing to publish'}`);
    this.report = report;
  }
}

/**
 * Polls every `pollIntervalMs` until `until`, so one scheduled invocation a minute reacts to a burst within one poll.
 * Each cycle's depth read may take at most one interval and must leave `ACT_RESERVE_MS` before the hard deadline, and
 * every call of the cycle is aborted at the hard deadline, so a hanging dependency fails a cycle with a logged reason
 * instead of letting the platform kill the invocation mid-action.
 */
export async function runInvocation(
  deps: ScalingDeps,
  settings: ScalingSettings,
  options: InvocationOptions,
): Promise<InvocationReport> {
  const memory = createInvocationMemory();
  const cycles: CycleReport[] = [];
  const readBy = (start: number) => Math.min(start + options.pollIntervalMs, options.hardDeadline - ACT_RESERVE_MS);
  for (;;) {
    const start = deps.clock();
    cycles.push(
      await runScalingCycle(deps, settings, memory, { readBy: readBy(start), finishBy: options.hardDeadline }),
    );
    const next = start + options.pollIntervalMs;
    if (options.once || next > options.until || readBy(Math.max(next, deps.clock())) - next < MIN_READ_MS) {
      break;
    }
    const wait = next - deps.clock();
    if (wait > 0) {
      await options.sleep(wait);
    }
  }
  const result = { cycles };
  if (cycles.at(-1)?.allFailed) {
    throw new ScalingCycleError(result);
  }
  return result;
}
