import { HEALTH_CLASSES } from '../../shared/domain/health.ts';
import { createInMemoryHealthMetrics } from '../../shared/fakes/index.ts';
import { REPLACEMENT_OUTCOMES } from '../../shared/ports/health-metrics.ts';
import { defineHealthMetricsContract, type StoredHealthValue } from './health-metrics.contract.ts';

defineHealthMetricsContract('in-memory fake', () => {
  const metrics = createInMemoryHealthMetrics();
  return {
    metrics,
    stored: () =>
      metrics.published().flatMap(({ environment, at, fleets, unexplainedExecutors }): StoredHealthValue[] => [
        ...fleets.flatMap(({ fleet, counts, replacements, held }): StoredHealthValue[] => [
          ...HEALTH_CLASSES.map(
            (health): StoredHealthValue => ({
              metric: 'fleet-instances',
              environment,
              fleet,
              health,
              value: counts[health],
              at,
            }),
          ),
          ...REPLACEMENT_OUTCOMES.map(
            (outcome): StoredHealthValue => ({
              metric: 'health-replacements',
              environment,
              fleet,
              outcome,
              value: replacements[outcome],
              at,
            }),
          ),
          { metric: 'health-held', environment, fleet, value: held ? 1 : 0, at },
        ]),
        { metric: 'unexplained-executors', environment, value: unexplainedExecutors, at },
      ]),
    failStore: () => metrics.failPublishes(Number.POSITIVE_INFINITY),
  };
});
