import type { CycleReport, ScalingDeps, ScalingSettings } from './scaling-cycle.ts';
import { runScalingCycle } from './scaling-cycle.ts';

export interface PlanOptions {
  /** Write the queue-size metric too; nothing else is ever changed. */
  readonly publish: boolean;
}

/**
 * One read-only cycle: every fleet decides as in `shadow` mode, so no group is resized, and the metric is written
 * only when asked. What an admin runs before trusting a config, against real endpoints or the local stack.
 */
export async function planCycle(
  deps: ScalingDeps,
  settings: ScalingSettings,
  options: PlanOptions,
): Promise<CycleReport> {
  // A plan is not a cycle: fleetplane's own metrics (cycles run, decisions taken) must not count it.
  const { cycleMetrics: _notACycle, ...live } = deps;
  const readOnly: ScalingDeps = {
    ...live,
    metrics: options.publish ? deps.metrics : { publish: async () => {} },
    groups: {
      describe: (targets, call) => deps.groups.describe(targets, call),
      setDesiredSize: () => Promise.reject(new Error('plan never resizes a group')),
      removeInstances: () => Promise.reject(new Error('plan never removes an instance')),
      replaceInstances: () => Promise.reject(new Error('plan never replaces an instance')),
      protectFromScaleIn: () => Promise.reject(new Error('plan never changes an instance')),
    },
  };
  const fleets = settings.fleets.map((fleet) =>
    fleet.mode === 'direct' ? { ...fleet, mode: 'shadow' as const } : fleet,
  );
  const report = await runScalingCycle(readOnly, { ...settings, fleets });
  // Report each fleet under its configured mode: "direct, would resize" is what the admin needs to read.
  const modes = new Map(settings.fleets.map((fleet) => [fleet.name, fleet.mode]));
  return {
    ...report,
    fleets: report.fleets.map((fleet) => ({ ...fleet, mode: modes.get(fleet.fleet) ?? fleet.mode })),
  };
}
