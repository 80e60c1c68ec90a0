import { type Sleep, systemSleep } from '../ports/clock.ts';
import { runInvocation } from './invocation.ts';
import type { ScalingDeps, ScalingSettings } from './scaling-cycle.ts';
import { summarizeInvocation } from './summary.ts';

/** Milliseconds kept free before the platform's own timeout, so the last cycle's logs are flushed. */
export const SAFETY_MARGIN_MS = 5_000;

/** What a cloud's composition root hands its scale entrypoint (`C`: the config it was built from). */
export interface ScaleRuntime<
  C extends { readonly invocationSeconds: number; readonly pollIntervalSeconds: number } = {
    readonly invocationSeconds: number;
    readonly pollIntervalSeconds: number;
  },
> {
  readonly config: C;
  readonly deps: ScalingDeps;
  readonly settings: ScalingSettings;
}

export interface ScaleTrigger {
  /** A manual invocation: exactly one cycle. */
  readonly once: boolean;
  /** Milliseconds the platform lets this invocation run. */
  readonly remainingMs: number;
  readonly sleep?: Sleep;
}

/** One scheduled (or manual) invocation of the scale use case, the same on every cloud. */
export async function invokeScale(runtime: ScaleRuntime, trigger: ScaleTrigger) {
  const { config, deps, settings } = runtime;
  const now = deps.clock();
  const report = await runInvocation(deps, settings, {
    once: trigger.once,
    until: now + config.invocationSeconds * 1000,
    hardDeadline: now + trigger.remainingMs - SAFETY_MARGIN_MS,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    sleep: trigger.sleep ?? systemSleep,
  });
  return summarizeInvocation(report);
}
