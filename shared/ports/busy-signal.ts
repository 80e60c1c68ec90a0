import type { CallOptions } from './call-options.ts';

/**
 * How many jobs each executor runs now, by executor name (`<hostname>-<uuid>`), or why that is unknown. An executor
 * missing from a known reading is not running anything the signal can see; what that means for its instance is the
 * policy's call (unknown = busy).
 */
export type BusyReading =
  | { readonly known: true; readonly observedAt: number; readonly runningJobs: ReadonlyMap<string, number> }
  | { readonly known: false; readonly reason: string };

/**
 * The executors' running jobs, as Sourcegraph's worker serves them for Prometheus (`src_executor_processor_handlers`
 * per executor). Never throws for a failed read: the reading says it is unknown, and scale-in then falls back to
 * attrition.
 */
export interface BusySignal {
  read(options?: CallOptions): Promise<BusyReading>;
}
