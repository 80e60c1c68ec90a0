import type { InvocationReport } from './invocation.ts';

/** What an invocation returns to its caller (a manual invoke prints it): the last cycle, fleet by fleet. */
export function summarizeInvocation(report: InvocationReport) {
  const last = report.cycles.at(-1);
  return {
    cycles: report.cycles.length,
    published: last?.published.series ?? [],
    fleets: (last?.fleets ?? []).map(({ fleet, mode, status, action, reason, depth, current, desired }) => ({
      fleet,
      mode,
      status,
      action,
      reason,
      depth,
      current,
      desired,
    })),
  };
}
