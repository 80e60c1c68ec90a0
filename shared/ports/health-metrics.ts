import { HEALTH_CLASSES, type HealthClass } from '../domain/health.ts';
import type { CallOptions } from './call-options.ts';
import { MetricsPublishError } from './errors.ts';

/** What a check did with a fleet's broken instances: replaced, left alone by the fleet's mode, refused by the cloud. */
export const REPLACEMENT_OUTCOMES = ['replaced', 'would-replace', 'refused'] as const;
export type ReplacementOutcome = (typeof REPLACEMENT_OUTCOMES)[number];

/** One fleet in one check: its instances per class, what became of its broken ones, and whether they were held. */
export interface FleetHealthCounts {
  readonly fleet: string;
  readonly counts: Readonly<Record<HealthClass, number>>;
  readonly replacements: Readonly<Record<ReplacementOutcome, number>>;
  /** Broken instances were left alone because too many broke at once (a shared cause is likelier). */
  readonly held: boolean;
}

/** One health check's counts and outcomes per fleet, and executors no instance explains. */
export interface HealthCounts {
  /** The deployment's `environment`, a dimension of every series. */
  readonly environment: string;
  /** Epoch ms the check judged at. */
  readonly at: number;
  readonly fleets: readonly FleetHealthCounts[];
  readonly unexplainedExecutors: number;
}

/**
 * Where health counts go, beside fleetplane's other metrics, so alarms and dashboards can watch them. Throws
 * `MetricsPublishError`; a check whose counts could not be published still reports and acts.
 */
export interface HealthMetrics {
  publish(counts: HealthCounts, options?: CallOptions): Promise<void>;
}

/**
 * What every `HealthMetrics` refuses before it sends anything, so a bad count never leaves one check half published
 * (some classes current, others from the check before). A count is a whole number from 0 up: 0 is published too, so a
 * class that empties is seen dropping to 0 rather than stopping at its last value.
 */
export function checkHealthCounts(counts: HealthCounts, operation: string): void {
  const refuse = (message: string): never => {
    throw new MetricsPublishError(operation, message);
  };
  if (counts.environment.trim() === '') {
    refuse('the environment of health counts must not be empty');
  }
  if (!Number.isFinite(counts.at) || counts.at < 0) {
    refuse(`${counts.at} is not a time to publish health counts at`);
  }
  if (!isCount(counts.unexplainedExecutors)) {
    refuse(`${counts.unexplainedExecutors} unexplained executors is not a whole number >= 0`);
  }
  const seen = new Set<string>();
  for (const { fleet, counts: perClass, replacements, held } of counts.fleets) {
    if (fleet.trim() === '') {
      refuse('a fleet name in health counts must not be empty');
    }
    // Two entries for one fleet would write one series twice in one request, which Cloud Monitoring refuses.
    if (seen.has(fleet)) {
      refuse(`${fleet}: counted twice in one check`);
    }
    seen.add(fleet);
    for (const health of HEALTH_CLASSES) {
      const count: unknown = perClass[health];
      if (!isCount(count)) {
        refuse(`${fleet}/${health}: ${String(count)} is not a whole number >= 0`);
      }
    }
    for (const outcome of REPLACEMENT_OUTCOMES) {
      const count: unknown = replacements[outcome];
      if (!isCount(count)) {
        refuse(`${fleet}/${outcome}: ${String(count)} is not a whole number >= 0`);
      }
    }
    if (typeof held !== 'boolean') {
      refuse(`${fleet}: held must be true or false`);
    }
  }
}

/** Safe integers only: Cloud Monitoring's INT64 travels as a decimal string, and a larger double would not round-trip. */
function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
