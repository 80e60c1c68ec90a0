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
export function planCycle(deps: ScalingDeps, settings: ScalingSettings, options: PlanOptions): Promise<CycleReport> {
  const readOnly: ScalingDeps = {
    ...deps,
    metrics: options.publish ? deps.metrics : { publish: async () => {} },
    groups: {
      describe: (targets, call) => deps.groups.describe(targets, call),
      setDesiredSize: () => Promise.reject(new Error('plan never resizes a group')),
    },
  };
  const fleets = settings.fleets.map((fleet) =>
    fleet.mode === 'direct' ? { ...fleet, mode: 'shadow' as const } : fleet,
  );
  return runScalingCycle(readOnly, { ...settings, fleets });
}
