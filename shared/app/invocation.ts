import type { Sleep } from '../ports/clock.ts';
import {
  type CycleReport,
  createInvocationMemory,
  runScalingCycle,
  type ScalingDeps,
  type ScalingSettings,
} from './scaling-cycle.ts';

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
 * A cycle that overruns the interval is followed at once by the next; one that might not finish before the hard
 * deadline (budgeted as long as the slowest so far) is not started.
 */
export async function runInvocation(
  deps: ScalingDeps,
  settings: ScalingSettings,
  options: InvocationOptions,
): Promise<InvocationReport> {
  const memory = createInvocationMemory();
  const cycles: CycleReport[] = [];
  for (;;) {
    const report = await runScalingCycle(deps, settings, memory);
    cycles.push(report);
    const next = report.startedAt + options.pollIntervalMs;
    const slowest = Math.max(...cycles.map((cycle) => cycle.durationMs));
    if (options.once || next > options.until || next + slowest > options.hardDeadline) {
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
