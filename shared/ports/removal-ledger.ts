import type { CallOptions } from './call-options.ts';
import { MetricsPublishError, MetricsReadError } from './errors.ts';

/** Instances fleetplane took out of one fleet at one moment (removed, or desired size lowered by as many). */
export interface Removal {
  readonly fleet: string;
  /** The deployment's `environment`, so two fleetplanes sharing a store never count each other's removals. */
  readonly environment: string;
  /** A whole number above 0. */
  readonly count: number;
}

/**
 * What fleetplane removed, remembered beyond one invocation: the per-window removal limit needs the window's history,
 * and a function keeps nothing between invocations. Stored in the cloud's metric store, beside the queue metric.
 */
export interface RemovalLedger {
  /** Throws `MetricsPublishError`; a count that is not a whole number above 0 is refused before anything is sent. */
  record(removal: Removal, options?: CallOptions): Promise<void>;
  /**
   * Instances removed per fleet between `from` and `to` (epoch ms); a fleet with none maps to 0. A store that keeps
   * whole minutes may count up to a minute before `from`: more, never less, which holds scale-in back, the safe way.
   * Throws `MetricsReadError` when the read fails or is incomplete.
   */
  removed(
    fleets: readonly string[],
    environment: string,
    from: number,
    to: number,
    options?: CallOptions,
  ): Promise<ReadonlyMap<string, number>>;
}

/** What every ledger refuses before it sends anything. */
export function checkRemoval(removal: Removal, operation: string): void {
  if (!Number.isInteger(removal.count) || removal.count <= 0) {
    throw new MetricsPublishError(operation, `${removal.fleet}: ${removal.count} is not a whole number above 0`);
  }
  if (removal.environment === '' || removal.fleet === '') {
    throw new MetricsPublishError(operation, 'the fleet and environment of a removal must not be empty');
  }
}

export function checkWindow(from: number, to: number, operation: string): void {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new MetricsReadError(operation, `invalid window [${from}, ${to}]`);
  }
}
