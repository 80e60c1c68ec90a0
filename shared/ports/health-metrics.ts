import type { HealthClass } from '../domain/health.ts';
import type { CallOptions } from './call-options.ts';

/** One health check's counts: instances per class per fleet, and executors no instance explains. */
export interface HealthCounts {
  /** The deployment's `environment`, a dimension of every series. */
  readonly environment: string;
  /** Epoch ms the check judged at. */
  readonly at: number;
  readonly fleets: readonly { readonly fleet: string; readonly counts: Readonly<Record<HealthClass, number>> }[];
  readonly unexplainedExecutors: number;
}

/**
 * Where health counts go, beside fleetplane's other metrics, so alarms and dashboards can watch them. Throws
 * `MetricsPublishError`; a check whose counts could not be published still reports and acts.
 */
export interface HealthMetrics {
  publish(counts: HealthCounts, options?: CallOptions): Promise<void>;
}
