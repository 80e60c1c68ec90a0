import { createInMemoryRotationMetrics } from '../../shared/fakes/index.ts';
import { defineRotationMetricsContract, type StoredRotationValue } from './rotation-metrics.contract.ts';

defineRotationMetricsContract('in-memory fake', () => {
  const metrics = createInMemoryRotationMetrics();
  return {
    metrics,
    stored: () =>
      metrics.published().flatMap(({ environment, at, succeeded, durationMs }): StoredRotationValue[] => [
        { metric: 'succeeded', environment, value: succeeded ? 1 : 0, at },
        { metric: 'failed', environment, value: succeeded ? 0 : 1, at },
        { metric: 'duration-ms', environment, value: durationMs, at },
      ]),
    failStore: () => metrics.failPublishes(Number.POSITIVE_INFINITY),
  };
});
