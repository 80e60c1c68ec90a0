import type { FleetRoll } from './fleet-roll.ts';
import {
  createSecret,
  finishSecret,
  type RotationReport,
  type RotationRuntime,
  type RotationStep,
  rotateExecutorSecret,
  setSecret,
  startRolls,
  testSecret,
} from './rotation.ts';
import { recordRotation, rotationSucceeded } from './rotation-outcome.ts';
import { SAFETY_MARGIN_MS } from './scale-invocation.ts';

/** What one invocation of the rotate function was asked to do, whatever the trigger's wire format. */
export type RotationRequest =
  /** The whole rotation: a manual or scheduled run; `rotation` resumes (or names) that rotation. */
  | { readonly kind: 'rotation'; readonly rotation?: string }
  /** One step of a rotation driven from outside (Secrets Manager's protocol), `rotation` its `ClientRequestToken`. */
  | { readonly kind: 'step'; readonly step: RotationStep; readonly rotation: string };

export interface StepReport {
  readonly rotation: string;
  readonly step: RotationStep;
  readonly outcome: 'done' | 'already-done';
  /** After `finishSecret`: each fleet's roll, started and not waited for (the protocol wants the step's answer). */
  readonly rolls?: readonly FleetRoll[];
}

const STEPS = { createSecret, setSecret, testSecret, finishSecret } as const satisfies Record<RotationStep, unknown>;

/**
 * One invocation of the rotation use case. Every call carries the invocation's deadline, so a hung call fails with a
 * logged error before the platform kills the function; every step is idempotent, so running it again resumes. A
 * whole rotation follows the fleets' rolls for as long as the invocation may run; running it again (same id) goes on
 * following them.
 */
export async function invokeRotation(
  runtime: RotationRuntime,
  request: RotationRequest,
  trigger: { readonly remainingMs: number },
): Promise<RotationReport | StepReport> {
  const { deps, tokenLength } = runtime;
  const budgetMs = Math.max(1, trigger.remainingMs - SAFETY_MARGIN_MS);
  const options = { tokenLength, signal: AbortSignal.timeout(budgetMs) };
  const record = { environment: runtime.config.environment, logger: deps.logger };
  if (request.kind === 'rotation') {
    const clock = deps.rolls?.clock;
    return recordRotation(runtime.telemetry, record, rotationSucceeded, () =>
      rotateExecutorSecret(deps, request.rotation === undefined ? {} : { rotation: request.rotation }, {
        ...options,
        // Stop following early enough that the report is still written before the deadline.
        ...(clock === undefined ? {} : { rollUntil: clock() + budgetMs - SAFETY_MARGIN_MS }),
      }),
    );
  }
  const { step, rotation } = request;
  // Secrets Manager's protocol: any failed step fails the rotation; the last step, with its rolls, ends it.
  return recordRotation(
    runtime.telemetry,
    record,
    (report) => (step === 'finishSecret' ? rotationSucceeded(report) : undefined),
    async (): Promise<StepReport> => {
      const { outcome } = await STEPS[step](deps, rotation, options);
      deps.logger.child({ module: 'rotation', rotation }).info('rotation step', { step, outcome });
      if (step === 'finishSecret') {
        return { rotation, step, outcome, rolls: await startRolls(deps, rotation, options) };
      }
      return { rotation, step, outcome };
    },
  );
}
