import { HEALTH_CLASSES } from '../../shared/domain/health.ts';
import { createInMemoryHealthMetrics } from '../../shared/fakes/index.ts';
import { defineHealthMetricsContract, type StoredHealthValue } from './health-metrics.contract.ts';

defineHealthMetricsContract('in-memory fake', () => {
  const metrics = createInMemoryHealthMetrics();
  return {
    metrics,
    stored: () =>
      metrics.published().flatMap(({ environment, at, fleets, unexplainedExecutors }): StoredHealthValue[] => [
        ...fleets.flatMap(({ fleet, counts }) =>
          HEALTH_CLASSES.map(
            (health): StoredHealthValue => ({
              metric: 'fleet-instances',
              environment,
              fleet,
              health,
              value: counts[health],
              at,
            }),
          ),
        ),
        { metric: 'unexplained-executors', environment, value: unexplainedExecutors, at },
      ]),
    failStore: () => metrics.failPublishes(Number.POSITIVE_INFINITY),
  };
});
