/**
 * The scaling decision for one fleet. Pure: every input, the clock included, is a parameter, so a cold start given the
 * same inputs decides exactly what a warm one does.
 */

export const Direction = { Up: 'up', Down: 'down', Hold: 'hold' } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export const Reason = {
  /** Demand needs more instances than the group has: applied at once. */
  ScaleOut: 'scale-out',
  /** Demand and the stabilization window both allow fewer instances. */
  ScaleIn: 'scale-in',
  /** The group already has what demand needs. */
  AtTarget: 'at-target',
  /** Below the lower bound: raised whatever the data says, since adding capacity is always safe. */
  RaiseToMin: 'raise-to-min',
  /** Depth could not be read: hold, never lower capacity on missing data. */
  DemandUnknown: 'demand-unknown',
  /** The last good depth is older than allowed: treated like a failed read. */
  DemandStale: 'demand-stale',
  /** Fewer instances would do, but some are still booting: their effect on the queue is not visible yet. */
  BootingHoldsScaleIn: 'booting-holds-scale-in',
  /** Fewer instances would do, but the window's peak demand could not be read. */
  WindowUnknown: 'window-unknown',
  /** Fewer instances would do now, but demand seen within the stabilization window still needs the current size. */
  Stabilizing: 'stabilizing',
  /** The admin paused this direction for the fleet: the size that demand wants is logged, not applied. */
  Paused: 'paused',
  /** Fewer instances would do, but the fleet's removals within the window are spent (or could not be counted). */
  RemovalLimit: 'removal-limit',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Jobs this fleet must serve: the value of its queue-size series, or why it is unknown. */
export type Demand =
  | { readonly known: true; readonly jobs: number; readonly observedAt: number }
  | { readonly known: false; readonly reason: string };

/** Highest demand over the stabilization window (the current demand included), or why it is unknown. */
export type PeakDemand =
  | { readonly known: true; readonly jobs: number }
  | { readonly known: false; readonly reason: string };

export interface Bounds {
  readonly min: number;
  readonly max: number;
}

export const PAUSES = ['none', 'scale-in', 'scale-out', 'both'] as const;
export type Pause = (typeof PAUSES)[number];

/** A fleet's own limits on how the policy moves: all optional, all only ever make a move smaller or later. */
export interface CapacityControls {
  readonly pause?: Pause;
  /** At most this many instances added in one decision. */
  readonly maxScaleOutStep?: number;
  /** At most this many instances removed in one decision. */
  readonly maxScaleInStep?: number;
  /** At most this many instances removed within one stabilization window (needs `removedInWindow`). */
  readonly maxScaleInPerWindow?: number;
  /** Extra instances kept warm while any job exists (queued or running). */
  readonly idleBuffer?: number;
}

export interface CapacityInputs {
  /** Epoch milliseconds. */
  readonly now: number;
  readonly demand: Demand;
  readonly recentPeak: PeakDemand;
  /** The group's desired capacity now. */
  readonly current: number;
  /** Instances launched but not yet serving jobs. */
  readonly booting: number;
  readonly jobsPerInstance: number;
  /** The fleet's configured bounds. */
  readonly fleet: Bounds;
  /** The cloud group's own bounds: a size outside them would be refused by the cloud API. */
  readonly group: Bounds;
  /** Depth older than this (milliseconds) is stale. */
  readonly maxDemandAgeMs: number;
  readonly controls?: CapacityControls;
  /** Instances fleetplane removed from this fleet within the stabilization window; read only when limited. */
  readonly removedInWindow?: RecentRemovals;
}

/** How many instances fleetplane removed from a fleet lately, or why that is unknown. */
export type RecentRemovals =
  | { readonly known: true; readonly count: number }
  | { readonly known: false; readonly reason: string };

export interface CapacityDecision {
  readonly target: number;
  readonly direction: Direction;
  readonly reason: Reason;
  /** Human-readable account of the numbers behind the reason. */
  readonly detail: string;
  /** The bounds actually applied: the fleet's, narrowed by the group's. */
  readonly bounds: Bounds;
  /** Instances demand needs now (before bounds), when demand is known. */
  readonly needed?: number;
  /** Instances the window's peak needs (within bounds): scale-in never goes below it. */
  readonly floor?: number;
}

export function instancesFor(jobs: number, jobsPerInstance: number): number {
  return Math.ceil(Math.max(0, jobs) / jobsPerInstance);
}

export function clamp(value: number, bounds: Bounds): number {
  return Math.min(bounds.max, Math.max(bounds.min, value));
}

/**
 * The fleet's bounds narrowed by the group's. When they do not overlap the group wins, because the cloud API refuses
 * any size outside the group's own MinSize/MaxSize.
 */
export function effectiveBounds(fleet: Bounds, group: Bounds): Bounds {
  const max = Math.min(fleet.max, group.max);
  const min = Math.min(Math.max(fleet.min, group.min), max);
  return { min, max };
}

export function decideCapacity(inputs: CapacityInputs): CapacityDecision {
  const { demand, current, booting, jobsPerInstance } = inputs;
  const bounds = effectiveBounds(inputs.fleet, inputs.group);
  const decide = (target: number, reason: Reason, detail: string, extra: Partial<CapacityDecision> = {}) => ({
    target,
    direction: target > current ? Direction.Up : target < current ? Direction.Down : Direction.Hold,
    reason,
    detail,
    bounds,
    ...extra,
  });

  // Adding capacity is safe on any data; removing it is not. A pause still holds: the admin asked for no change.
  const pausedOut = inputs.controls?.pause === 'scale-out' || inputs.controls?.pause === 'both';
  const holdOnMissingData = (reason: Reason, detail: string) =>
    current < bounds.min && !pausedOut
      ? decide(bounds.min, Reason.RaiseToMin, `${detail}; raised to the minimum ${bounds.min}`)
      : decide(current, reason, `${detail}; holding ${current}`);
  if (!demand.known) {
    return holdOnMissingData(Reason.DemandUnknown, `queue depth unknown: ${demand.reason}`);
  }
  const ageMs = inputs.now - demand.observedAt;
  if (ageMs > inputs.maxDemandAgeMs) {
    const limit = Math.round(inputs.maxDemandAgeMs / 1000);
    return holdOnMissingData(Reason.DemandStale, `queue depth is ${Math.round(ageMs / 1000)}s old (limit ${limit}s)`);
  }

  const controls = inputs.controls ?? {};
  const buffer = demand.jobs > 0 ? (controls.idleBuffer ?? 0) : 0;
  const needed = instancesFor(demand.jobs, jobsPerInstance) + buffer;
  const wanted = clamp(needed, bounds);
  const withBuffer = buffer > 0 ? ` + ${buffer} warm` : '';
  const numbers = `${demand.jobs} jobs / ${jobsPerInstance} per instance${withBuffer} = ${needed}, bounds [${bounds.min}, ${bounds.max}]`;
  if (wanted > current) {
    if (pausedOut) {
      return decide(current, Reason.Paused, `${numbers}; scale-out paused, holding ${current} (wanted ${wanted})`, {
        needed,
      });
    }
    const step = controls.maxScaleOutStep;
    const target = step === undefined ? wanted : Math.min(wanted, current + step);
    const limited = target < wanted ? ` (step limit ${step}; ${wanted} wanted)` : '';
    const reason = needed >= bounds.min ? Reason.ScaleOut : Reason.RaiseToMin;
    return decide(target, reason, `${numbers}; ${current} → ${target}${limited}`, { needed });
  }
  if (wanted === current) {
    return decide(current, Reason.AtTarget, numbers, { needed });
  }
  if (booting > 0) {
    return decide(current, Reason.BootingHoldsScaleIn, `${numbers}; ${booting} instance(s) still booting`, { needed });
  }
  if (!inputs.recentPeak.known) {
    return decide(current, Reason.WindowUnknown, `${numbers}; window peak unknown: ${inputs.recentPeak.reason}`, {
      needed,
    });
  }
  const peakJobs = Math.max(inputs.recentPeak.jobs, demand.jobs);
  // The window's jobs kept their warm instances too: the floor holds them as long as the peak does.
  const floor = clamp(
    instancesFor(peakJobs, jobsPerInstance) + (peakJobs > 0 ? (controls.idleBuffer ?? 0) : 0),
    bounds,
  );
  const shrinkTo = Math.max(wanted, floor);
  const window = `window peak ${inputs.recentPeak.jobs} jobs needs ${floor}`;
  if (shrinkTo >= current) {
    return decide(current, Reason.Stabilizing, `${numbers}; ${window}`, { needed, floor });
  }
  if (controls.pause === 'scale-in' || controls.pause === 'both') {
    return decide(current, Reason.Paused, `${numbers}; ${window}; scale-in paused, holding ${current}`, {
      needed,
      floor,
    });
  }
  const perWindow = controls.maxScaleInPerWindow;
  let left = Number.POSITIVE_INFINITY;
  if (perWindow !== undefined) {
    const removed = inputs.removedInWindow ?? { known: false, reason: 'not read' };
    if (!removed.known) {
      const detail = `${numbers}; ${window}; removals within the window unknown (${removed.reason}), holding ${current}`;
      return decide(current, Reason.RemovalLimit, detail, { needed, floor });
    }
    left = Math.max(0, perWindow - removed.count);
    if (left === 0) {
      const detail = `${numbers}; ${window}; ${removed.count} removed within the window (limit ${perWindow}), holding ${current}`;
      return decide(current, Reason.RemovalLimit, detail, { needed, floor });
    }
  }
  const step = Math.min(controls.maxScaleInStep ?? Number.POSITIVE_INFINITY, left);
  const target = Math.max(shrinkTo, current - step);
  const limit = step === left ? `window limit ${perWindow}, ${left} left` : `step limit ${step}`;
  const limited = target > shrinkTo ? ` (${limit}; ${shrinkTo} allowed)` : '';
  return decide(target, Reason.ScaleIn, `${numbers}; ${window}; ${current} → ${target}${limited}`, { needed, floor });
}
