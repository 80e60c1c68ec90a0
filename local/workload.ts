import type { QueueName } from '../shared/domain/queues.ts';
import type { World } from './world/world.ts';

/** Jobs that arrive at one moment of the run. */
export interface WorkloadStep {
  readonly atSeconds: number;
  readonly queue: QueueName;
  readonly count: number;
  /** Each job runs a duration drawn uniformly from this range (seconds). */
  readonly durationSeconds: readonly [number, number];
}

/**
 * The `npm start` workload: a burst on both queues (batch jobs as the workspaces of one batch spec), a small second
 * wave while the fleet is still warm, then a lull. Jobs are short so the queue drains within ~20 s and the rest of the
 * run shows careful scale-in: the stabilization window is counted in whole minutes of the published metric, so
 * scale-in starts 60-120 s after the last demand.
 */
export const BURST_THEN_LULL: readonly WorkloadStep[] = [
  { atSeconds: 2, queue: 'codeintel', count: 40, durationSeconds: [3, 6] },
  { atSeconds: 3, queue: 'batches', count: 12, durationSeconds: [4, 8] },
  { atSeconds: 8, queue: 'codeintel', count: 8, durationSeconds: [3, 6] },
];

/** Feeds the steps into the world as their time comes; `tick` is called as often as the caller likes. */
export function createWorkloadDriver(
  world: World,
  steps: readonly WorkloadStep[],
  options: { readonly startedAt: number; readonly random: () => number },
) {
  const pending = [...steps].sort((a, b) => a.atSeconds - b.atSeconds);
  let specs = 0;
  return {
    tick(now: number): void {
      while (pending.length > 0 && (pending[0]?.atSeconds ?? 0) * 1000 + options.startedAt <= now) {
        const step = pending.shift();
        if (step === undefined) {
          break;
        }
        const [low, high] = step.durationSeconds;
        const batchSpec = step.queue === 'batches' ? `local-spec-${++specs}` : undefined;
        for (let index = 0; index < step.count; index++) {
          const durationMs = Math.round((low + (high - low) * options.random()) * 1000);
          world.enqueue(step.queue, 1, { durationMs, ...(batchSpec ? { batchSpec } : {}) });
        }
      }
    },
    done: () => pending.length === 0,
    /** Seconds of the last step, so a run knows when the workload has fully arrived. */
    lastStepSeconds: () => Math.max(0, ...steps.map((step) => step.atSeconds)),
  };
}
