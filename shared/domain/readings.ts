import type { QueueName } from './queues.ts';

/**
 * One queue's depth as read from Sourcegraph: jobs queued + processing + errored (the worker's count), or the reason
 * it is unknown. An unknown depth is never replaced by a guessed 0.
 */
export type DepthReading =
  | { readonly ok: true; readonly depth: number; readonly observedAt: number }
  | { readonly ok: false; readonly reason: string };

/** Readings for the queues that were asked for; a queue not asked for is absent. */
export type QueueDepths = Readonly<Partial<Record<QueueName, DepthReading>>>;
