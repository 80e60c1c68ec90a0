import { QUEUE_NAMES, type QueueName, queuesOf, type SeriesName } from './queues.ts';
import type { DepthReading, QueueDepths } from './readings.ts';

export type Cloud = 'aws' | 'gcp';
export const CLOUDS: readonly Cloud[] = ['aws', 'gcp'];

/** Share of a queue's jobs each cloud's metric reports, in [0, 1]. */
export type QueueAllocation = Readonly<Record<Cloud, number>>;
export type Allocations = Readonly<Record<QueueName, QueueAllocation>>;

/** Raw `EXECUTOR_ALLOCATIONS` after shape checks: queue → provider → fraction. */
export type RawAllocations = Readonly<Partial<Record<QueueName, Readonly<Partial<Record<Cloud, number>>>>>>;

export interface AllocationResult {
  readonly allocations: Allocations;
  /** Notes the worker would log: allocations forced to 0 for a cloud that is not configured, 100% to both clouds. */
  readonly warnings: readonly string[];
}

/**
 * The worker's allocation rules: a queue with no entry (or an empty one) sends everything to every configured cloud;
 * an entry sends exactly what it names (an unnamed cloud gets 0); a cloud that is not configured always gets 0.
 */
export function normalizeAllocations(
  raw: RawAllocations,
  configured: Readonly<Record<Cloud, boolean>>,
): AllocationResult {
  const warnings: string[] = [];
  const entries = QUEUE_NAMES.map((queue): [QueueName, QueueAllocation] => {
    const entry = raw[queue] ?? {};
    if (Object.keys(entry).length === 0) {
      if (configured.aws && configured.gcp) {
        warnings.push(`queue ${queue}: no allocation given, so 100% of its size is reported to BOTH aws and gcp`);
      }
      return [queue, { aws: configured.aws ? 1 : 0, gcp: configured.gcp ? 1 : 0 }];
    }
    const allocation = { aws: entry.aws ?? 0, gcp: entry.gcp ?? 0 };
    for (const cloud of CLOUDS) {
      if (!configured[cloud] && allocation[cloud] > 0) {
        warnings.push(`queue ${queue}: ${cloud} is not configured, its allocation is forced to 0`);
        allocation[cloud] = 0;
      }
    }
    return [queue, allocation];
  });
  return { allocations: Object.fromEntries(entries) as Record<QueueName, QueueAllocation>, warnings };
}

/** The worker's `int(float64(count) * allocation)`: truncation toward zero, never rounding up. */
export function allocatedSize(count: number, allocation: number): number {
  return Math.trunc(count * allocation);
}

/**
 * The allocation a series is reported with. A multi-queue series uses the codeintel allocation, as the latest public
 * worker does ("temp fix" upstream), so existing dashboards and alarms see the same numbers.
 */
export function seriesAllocation(series: SeriesName, allocations: Allocations, cloud: Cloud): number {
  const queues = queuesOf(series);
  const queue: QueueName = queues.length > 1 ? 'codeintel' : (queues[0] ?? 'codeintel');
  return allocations[queue][cloud];
}

/**
 * The lowest depth of a fleet's series (before allocation, as the queue-depth metrics carry it) at which the fleet's
 * share on `cloud`, truncated as the worker truncates it, is one instance's worth of jobs: what the "queue deep"
 * alarms fire at. With the default allocation (all of it) this is `jobsPerInstance` itself. A series `cloud` takes none
 * of never needs capacity there: undefined.
 */
export function deepQueueThreshold(
  fleet: { readonly series: SeriesName; readonly jobsPerInstance: number },
  allocations: Allocations,
  cloud: Cloud,
): number | undefined {
  const allocation = seriesAllocation(fleet.series, allocations, cloud);
  if (allocation <= 0) {
    return undefined;
  }
  // Start just below the exact quotient and step up, so floating-point rounding never picks a depth one too low.
  let depth = Math.max(0, Math.floor(fleet.jobsPerInstance / allocation) - 1);
  while (allocatedSize(depth, allocation) < fleet.jobsPerInstance) {
    depth += 1;
  }
  return depth;
}

export type SeriesValue =
  | { readonly ok: true; readonly series: SeriesName; readonly value: number; readonly depth: number }
  | { readonly ok: false; readonly series: SeriesName; readonly reason: string };

/**
 * The value one series reports: the summed depth of its queues times its allocation, truncated. Unknown when any of
 * its queues is unknown: a partial sum would under-report and could shrink a fleet.
 */
export function seriesValue(
  series: SeriesName,
  depths: QueueDepths,
  allocations: Allocations,
  cloud: Cloud,
): SeriesValue {
  let depth = 0;
  for (const queue of queuesOf(series)) {
    const reading: DepthReading | undefined = depths[queue];
    if (reading === undefined) {
      return { ok: false, series, reason: `queue ${queue} was not read` };
    }
    if (!reading.ok) {
      return { ok: false, series, reason: `queue ${queue}: ${reading.reason}` };
    }
    depth += reading.depth;
  }
  return { ok: true, series, depth, value: allocatedSize(depth, seriesAllocation(series, allocations, cloud)) };
}
