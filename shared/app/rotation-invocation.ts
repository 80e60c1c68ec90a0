import {
  createSecret,
  finishSecret,
  type RotationReport,
  type RotationRuntime,
  type RotationStep,
  rotateExecutorSecret,
  setSecret,
  testSecret,
} from './rotation.ts';
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
}

const STEPS = { createSecret, setSecret, testSecret, finishSecret } as const satisfies Record<RotationStep, unknown>;

/**
 * One invocation of the rotation use case. Every call carries the invocation's deadline, so a hung call fails with a
 * logged error before the platform kills the function; every step is idempotent, so running it again resumes.
 */
export async function invokeRotation(
  runtime: RotationRuntime,
  request: RotationRequest,
  trigger: { readonly remainingMs: number },
): Promise<RotationReport | StepReport> {
  const { deps, tokenLength } = runtime;
  const options = { tokenLength, signal: AbortSignal.timeout(Math.max(1, trigger.remainingMs - SAFETY_MARGIN_MS)) };
  if (request.kind === 'rotation') {
    return rotateExecutorSecret(deps, request.rotation === undefined ? {} : { rotation: request.rotation }, options);
  }
  const { step, rotation } = request;
  const { outcome } = await STEPS[step](deps, rotation, options);
  deps.logger.child({ module: 'rotation', rotation }).info('rotation step', { step, outcome });
  return { rotation, step, outcome };
}
