import type { Sleep } from '../shared/ports/clock.ts';
import type { SimWorld } from './model.ts';

/**
 * Runs real async code (the product's invocation loop) on simulated time. The engine awaits each action it runs;
 * here an action resolves only once the task has parked again, in `sleep` (which schedules its own wake-up as a
 * simulated event) or by finishing. So the task sees time pass only through its sleeps, and the world moves on
 * between them exactly as it would between the real function's polls.
 */
export interface SimTask {
  /**
   * Starts `task` now; the returned promise settles when it first sleeps or finishes. While an earlier task is still
   * running, nothing starts and `false` is returned: a function with reserved concurrency 1 throttles that tick.
   */
  start(task: () => Promise<unknown>): Promise<boolean>;
  /** The `Sleep` to hand the task: simulated, never a real timer. */
  readonly sleep: Sleep;
}

/** The task awaited something other than its sleep that never settles: the simulation cannot go on. */
export class SimTaskStalledError extends Error {
  override readonly name = 'SimTaskStalledError';
}

export function createSimTask(world: SimWorld): SimTask {
  let parked: (() => void) | undefined;
  let running = false;
  let failure: { readonly error: unknown } | undefined;

  // Every call the task makes here is an in-memory fake that settles in microtasks; a macrotask later, a task that
  // has neither slept nor finished is waiting on something that will never come.
  const untilParked = () =>
    new Promise<void>((resolve, reject) => {
      const stalled = setImmediate(() => {
        parked = undefined;
        reject(new SimTaskStalledError('the simulated task neither slept nor finished'));
      });
      parked = () => {
        clearImmediate(stalled);
        if (failure === undefined) {
          resolve();
        } else {
          reject(failure.error);
        }
      };
    });
  const park = () => {
    const resume = parked;
    parked = undefined;
    resume?.();
  };

  return {
    async start(task) {
      if (running) {
        return false;
      }
      running = true;
      const parkedAgain = untilParked();
      task().then(
        () => {
          running = false;
          park();
        },
        (error: unknown) => {
          running = false;
          failure = { error };
          park();
        },
      );
      await parkedAgain;
      return true;
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
