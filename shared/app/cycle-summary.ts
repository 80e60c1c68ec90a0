import { Reason } from '../domain/policy.ts';
import type { CycleSummary } from '../ports/cycle-metrics.ts';
import type { CycleReport } from './scaling-cycle.ts';

/**
 * A cycle's report in the numbers fleetplane publishes about itself. A cycle succeeded unless it failed as a whole
 * (the same test that fails an invocation), so "no successful cycle" alarms on what pages today; one fleet's or one
 * series' trouble is counted in `errors` by where it came from:
 * - `sourcegraph`: series whose depth could not be read;
 * - `metrics`: the queue metric write failed;
 * - `cloud`: fleets failed for a reason other than unknown demand or that write (their group could not be described
 *   or resized).
 */
export function cycleSummaryOf(report: CycleReport, options: { readonly environment: string }): CycleSummary {
  const managed = report.fleets.filter((fleet) => fleet.mode !== 'metrics');
  return {
    environment: options.environment,
    at: report.startedAt,
    succeeded: !report.allFailed,
    durationMs: report.durationMs,
    ...(report.sourcegraphLatencyMs === undefined ? {} : { sourcegraphLatencyMs: report.sourcegraphLatencyMs }),
    queueDepths: report.values.flatMap((value) => (value.ok ? [{ series: value.series, depth: value.depth }] : [])),
    fleets: managed.map(({ fleet, reason, current, desired }) => ({
      fleet,
      reason,
      ...(current === undefined ? {} : { current }),
      ...(desired === undefined ? {} : { desired }),
    })),
    errors: {
      sourcegraph: report.values.filter((value) => !value.ok).length,
      cloud: report.fleets.filter(
        (fleet) =>
          fleet.status === 'failed' && fleet.reason !== Reason.DemandUnknown && fleet.reason !== PUBLISH_FAILED,
      ).length,
      metrics: report.published.error === undefined ? 0 : 1,
    },
  };
}

/** A metrics-only fleet's reason when the queue metric write failed (counted under `metrics`, not `cloud`). */
const PUBLISH_FAILED = 'publish-failed';
