/** A number of instances, or a percentage (0–100) of the group's desired size. */
export type RollQuantity = { readonly fixed: number } | { readonly percent: number };

/** How hard a fleet's roll may bite: instances out of service at once, and instances launched above its size. */
export interface RollSettings {
  readonly maxUnavailable: RollQuantity;
  readonly maxSurge: RollQuantity;
}

/**
 * Replace everything at once. Once Sourcegraph holds the new token, executors still running with the old one are
 * refused and can do no work, so keeping them up only lengthens the outage; no surge, so the group never exceeds its
 * size.
 */
export const DEFAULT_ROLL: RollSettings = { maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } };

/** `25%` → 25 percent, `3` → 3 instances. */
export function rollQuantityOf(value: number | string): RollQuantity {
  return typeof value === 'number' ? { fixed: value } : { percent: Number(value.slice(0, -1)) };
}

/** How many instances of a group of `size` the quantity stands for (percentages round down, as both clouds do). */
export function instancesOf(quantity: RollQuantity, size: number): number {
  return 'fixed' in quantity ? quantity.fixed : Math.floor((quantity.percent * size) / 100);
}
