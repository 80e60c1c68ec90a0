import { checkHealthCounts, type HealthCounts, type HealthMetrics } from '../ports/health-metrics.ts';
import { createInMemoryPublisher, type InMemoryPublisher } from './in-memory-publisher.ts';

export interface InMemoryHealthMetrics extends HealthMetrics, InMemoryPublisher<HealthCounts> {
  /** The newest accepted publish for `environment`, if any. */
  latest(environment: string): HealthCounts | undefined;
}

/** Health counts over one list; it refuses what the adapters refuse, before storing any of a publish. */
export function createInMemoryHealthMetrics(): InMemoryHealthMetrics {
  const publisher = createInMemoryPublisher(checkHealthCounts);
  return {
    ...publisher,
    latest: (environment) => publisher.published().findLast((counts) => counts.environment === environment),
  };
}
