import { toError } from '../domain/guards.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { RotationMetrics } from '../ports/rotation-metrics.ts';
import type { FleetRoll } from './fleet-roll.ts';
import { RotationInProgressError } from './rotation.ts';

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
 * Whether a finished rotation did its whole job: the token is current and every fleet's roll started (or was already
 * started) and did not end failed or cancelled. A fleet left `busy` behind someone else's roll, or whose roll failed,
 * may keep instances that booted with the old token: the rotation has to run again, which the alarm must say.
 */
export function rotationSucceeded(report: { readonly rolls?: readonly FleetRoll[] }): boolean {
  return (report.rolls ?? []).every(
    (roll) =>
      (roll.outcome === 'started' || roll.outcome === 'already-started') &&
      roll.roll.state !== 'failed' &&
      roll.roll.state !== 'cancelled',
  );
}

/**
 * Runs a rotation (or one step of it) and publishes how it ended: a failure, unless another rotation was under way
 * (this one never began: refusing it is the lock working), and whatever `judge` says of a result, `undefined` for a
 * result that does not end a rotation (a middle step of the protocol). The rotation's own result or error is returned
 * unchanged: a token already switched must not look failed because its telemetry did.
 */
export async function recordRotation<T>(
  telemetry: RotationTelemetry | undefined,
  context: { readonly environment: string; readonly logger: Logger },
  judge: (result: T) => boolean | undefined,
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
    if (!(caught instanceof RotationInProgressError)) {
      await publish(false);
    }
    throw caught;
  }
  const succeeded = judge(result);
  if (succeeded !== undefined) {
    await publish(succeeded);
  }
  return result;
}
