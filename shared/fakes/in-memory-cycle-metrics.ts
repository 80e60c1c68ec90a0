import { type CycleMetrics, type CycleSummary, checkCycleSummary } from '../ports/cycle-metrics.ts';
import { createInMemoryPublisher, type InMemoryPublisher } from './in-memory-publisher.ts';

export type InMemoryCycleMetrics = CycleMetrics & InMemoryPublisher<CycleSummary>;

/** Cycle summaries over one list; it refuses what the adapters refuse. */
export function createInMemoryCycleMetrics(): InMemoryCycleMetrics {
  return createInMemoryPublisher(checkCycleSummary);
}
