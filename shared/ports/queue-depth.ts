import type { QueueName } from '../domain/queues.ts';
import type { QueueDepths } from '../domain/readings.ts';
import type { CallOptions } from './call-options.ts';

/**
 * Reads queue depth (queued + processing + errored jobs) for the given queues in one round of requests. Never throws
 * for a failed read: each queue's reading says whether it is known, so one queue's failure does not hide another's.
 */
export interface QueueDepthSource {
  read(queues: ReadonlySet<QueueName>, options?: CallOptions): Promise<QueueDepths>;
}
