import { checkRotationOutcome, type RotationMetrics, type RotationOutcome } from '../ports/rotation-metrics.ts';
import { createInMemoryPublisher, type InMemoryPublisher } from './in-memory-publisher.ts';

export type InMemoryRotationMetrics = RotationMetrics & InMemoryPublisher<RotationOutcome>;

/** Rotation outcomes over one list; it refuses what the adapters refuse. */
export function createInMemoryRotationMetrics(): InMemoryRotationMetrics {
  return createInMemoryPublisher(checkRotationOutcome);
}
