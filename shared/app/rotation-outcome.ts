import { toError } from '../domain/guards.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { RotationMetrics } from '../ports/rotation-metrics.ts';

/** Where a deployed rotation's outcomes go, and the clock that times it. */
export interface RotationTelemetry {
  readonly metrics: RotationMetrics;
  readonly clock: Clock;
}

/**
 * Publishing gets its own deadline: a rotation that failed by running out of time has spent the invocation's signal,
 * and that is exactly the failure the alarm must see. The platform's safety margin leaves room for this.
 */
const PUBLISH_TIMEOUT_MS = 3_000;

/**
 * Runs a rotation (or one step of it) and publishes how it ended: every failure, and a success where `completes` says
 * the result finishes a rotation (a whole one, or the protocol's last step). The rotation's own result or error is
 * returned unchanged: a token already switched must not look failed because its telemetry did.
 */
export async function recordRotation<T>(
  telemetry: RotationTelemetry | undefined,
  context: { readonly environment: string; readonly logger: Logger },
  completes: (result: T) => boolean,
  run: () => Promise<T>,
): Promise<T> {
  if (telemetry === undefined) {
    return run();
  }
  const started = telemetry.clock();
  const publish = async (succeeded: boolean) => {
    const at = telemetry.clock();
    try {
      await telemetry.metrics.publish(
        { environment: context.environment, at, succeeded, durationMs: Math.max(0, at - started) },
        { signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS) },
      );
    } catch (caught) {
      context.logger.warn('rotation metrics not published', { succeeded, error: toError(caught).message });
    }
  };
  let result: T;
  try {
    result = await run();
  } catch (caught) {
    await publish(false);
    throw caught;
  }
  if (completes(result)) {
    await publish(true);
  }
  return result;
}
