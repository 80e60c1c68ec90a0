import type { SeriesName } from '../domain/queues.ts';
import type { CallOptions } from './call-options.ts';
import { MetricsPublishError } from './errors.ts';

/** Where a cycle's errors came from: reading Sourcegraph, calling the cloud's group APIs, writing the queue metric. */
export const ERROR_SOURCES = ['sourcegraph', 'cloud', 'metrics'] as const;
export type ErrorSource = (typeof ERROR_SOURCES)[number];

/** One scaling cycle in numbers, for fleetplane's own dashboards and alarms. */
export interface CycleSummary {
  /** The deployment's `environment`, a dimension of every series. */
  readonly environment: string;
  /** Epoch ms the cycle started: every value of one cycle carries it. */
  readonly at: number;
  /** The cycle did not fail as a whole (see `cycleSummaryOf`); partial failures show in `errors`. */
  readonly succeeded: boolean;
  readonly durationMs: number;
  /** How long reading the queue depths from Sourcegraph took, when anything was read. */
  readonly sourcegraphLatencyMs?: number;
  /** Jobs queued per series (its queues summed, before any allocation); series that could not be read are absent. */
  readonly queueDepths: readonly { readonly series: SeriesName; readonly depth: number }[];
  /** Every fleet that sizes a group: its decision's reason, and its sizes when its group was described. */
  readonly fleets: readonly {
    readonly fleet: string;
    readonly reason: string;
    readonly current?: number;
    readonly desired?: number;
  }[];
  readonly errors: Readonly<Record<ErrorSource, number>>;
}

/**
 * Where cycle summaries go. Throws `MetricsPublishError`; the scaling cycle logs it and carries on, since a control
 * plane that stops scaling because its own telemetry failed would be worse than one that scales unwatched.
 */
export interface CycleMetrics {
  publish(summary: CycleSummary, options?: CallOptions): Promise<void>;
}

/** What every `CycleMetrics` refuses before it sends anything, so one bad value never leaves a cycle half published. */
export function checkCycleSummary(summary: CycleSummary, operation: string): void {
  const refuse = (message: string): never => {
    throw new MetricsPublishError(operation, message);
  };
  if (summary.environment.trim() === '') {
    refuse('the environment of a cycle summary must not be empty');
  }
  if (!Number.isFinite(summary.at) || summary.at < 0) {
    refuse(`${summary.at} is not a time to publish a cycle at`);
  }
  for (const [what, value] of [
    ['cycle duration', summary.durationMs],
    ['Sourcegraph latency', summary.sourcegraphLatencyMs],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      refuse(`${what}: ${value} is not a number of milliseconds >= 0`);
    }
  }
  for (const source of ERROR_SOURCES) {
    if (!isCount(summary.errors[source])) {
      refuse(`errors from ${source}: ${String(summary.errors[source])} is not a whole number >= 0`);
    }
  }
  // Two entries for one series or fleet would write one series twice in one request, which Cloud Monitoring refuses.
  const series = new Set<string>();
  for (const { series: name, depth } of summary.queueDepths) {
    if (series.has(name)) {
      refuse(`series ${name}: counted twice in one cycle`);
    }
    series.add(name);
    if (!isCount(depth)) {
      refuse(`series ${name}: ${depth} is not a whole number >= 0`);
    }
  }
  const fleets = new Set<string>();
  for (const { fleet, reason, current, desired } of summary.fleets) {
    if (fleet.trim() === '' || reason.trim() === '') {
      refuse('a fleet name or decision reason in a cycle summary must not be empty');
    }
    if (fleets.has(fleet)) {
      refuse(`${fleet}: counted twice in one cycle`);
    }
    fleets.add(fleet);
    for (const size of [current, desired]) {
      if (size !== undefined && !isCount(size)) {
        refuse(`${fleet}: size ${size} is not a whole number >= 0`);
      }
    }
  }
}

/** Safe integers only: Cloud Monitoring's INT64 travels as a decimal string, and a larger double would not round-trip. */
function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
