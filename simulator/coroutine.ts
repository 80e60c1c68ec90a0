import type { Sleep } from '../shared/ports/clock.ts';
import type { SimWorld } from './model.ts';

/**
 * Runs real async code (the product's invocation loop) on simulated time. The engine awaits each action it runs;
 * here an action resolves only once the task has parked again, in `sleep` (which schedules its own wake-up as a
 * simulated event) or by finishing. So the task sees time pass only through its sleeps, and the world moves on
 * between them exactly as it would between the real function's polls.
 */
export interface SimTask {
  /** Starts `task` now; the returned promise settles when it first sleeps or finishes. */
  start(task: () => Promise<unknown>): Promise<void>;
  /** The `Sleep` to hand the task: simulated, never a real timer. */
  readonly sleep: Sleep;
}

export function createSimTask(world: SimWorld): SimTask {
  let parked: (() => void) | undefined;
  let failure: { readonly error: unknown } | undefined;

  const untilParked = () =>
    new Promise<void>((resolve, reject) => {
      parked = () => (failure === undefined ? resolve() : reject(failure.error));
    });
  const park = () => {
    const resume = parked;
    parked = undefined;
    resume?.();
  };

  return {
    start(task) {
      if (parked !== undefined) {
        // One task at a time, as a scheduled function with reserved concurrency 1 runs.
        return Promise.reject(new Error('the previous invocation is still running'));
      }
      const parkedAgain = untilParked();
      task().then(park, (error: unknown) => {
        failure = { error };
        park();
      });
      return parkedAgain;
    },
    sleep: (ms) =>
      new Promise<void>((wake) => {
        world.at(world.now() + Math.max(0, ms), () => {
          const parkedAgain = untilParked();
          wake();
          return parkedAgain;
        });
        park();
      }),
  };
}
