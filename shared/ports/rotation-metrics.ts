import type { CallOptions } from './call-options.ts';
import { MetricsPublishError } from './errors.ts';

/** How one rotation (or one step of Secrets Manager's protocol) ended, for fleetplane's dashboards and alarms. */
export interface RotationOutcome {
  /** The deployment's `environment`, a dimension of every series. */
  readonly environment: string;
  /** Epoch ms the rotation ended. */
  readonly at: number;
  readonly succeeded: boolean;
  readonly durationMs: number;
}

/**
 * Where rotation outcomes go. Throws `MetricsPublishError`; the rotation logs it and its own result stands, since a
 * token already switched must not be reported as a failed rotation because its telemetry failed.
 */
export interface RotationMetrics {
  publish(outcome: RotationOutcome, options?: CallOptions): Promise<void>;
}

/** What every `RotationMetrics` refuses before it sends anything. */
export function checkRotationOutcome(outcome: RotationOutcome, operation: string): void {
  const refuse = (message: string): never => {
    throw new MetricsPublishError(operation, message);
  };
  if (outcome.environment.trim() === '') {
    refuse('the environment of a rotation outcome must not be empty');
  }
  if (!Number.isFinite(outcome.at) || outcome.at < 0) {
    refuse(`${outcome.at} is not a time to publish a rotation outcome at`);
  }
  if (!Number.isFinite(outcome.durationMs) || outcome.durationMs < 0) {
    refuse(`rotation duration: ${outcome.durationMs} is not a number of milliseconds >= 0`);
  }
}
