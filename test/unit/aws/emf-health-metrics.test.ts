import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmfHealthMetrics } from '../../../shared/aws/emf-health-metrics.ts';
import {
  FLEET_INSTANCES_METRIC,
  FLEETPLANE_NAMESPACE,
  HEALTH_HELD_METRIC,
  HEALTH_REPLACEMENTS_METRIC,
  UNEXPLAINED_EXECUTORS_METRIC,
} from '../../../shared/aws/fleetplane-metrics.ts';
import { HEALTH_CLASSES, type HealthClass } from '../../../shared/domain/health.ts';
import { MetricsPublishError } from '../../../shared/ports/errors.ts';
import {
  type FleetHealthCounts,
  type HealthCounts,
  REPLACEMENT_OUTCOMES,
  type ReplacementOutcome,
} from '../../../shared/ports/health-metrics.ts';
import { defineHealthMetricsContract, type StoredHealthValue } from '../../contract/health-metrics.contract.ts';
import { captureStdout, type EmfDocument, emfDocuments, flattenEmf } from '../../support/emf.ts';

/** Recent, and not a whole second: CloudWatch drops EMF timestamps more than 14 days old, and Powertools warns. */
const AT = Date.now() - 10_123;

let written: string[];

beforeEach(() => {
  written = captureStdout();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const documents = (): EmfDocument[] => emfDocuments(written);

/** Each metric's one dimension set, exactly: an alarm or widget names every dimension or matches nothing. */
const DIMENSIONS: Readonly<Record<string, readonly string[]>> = {
  [FLEET_INSTANCES_METRIC]: ['environment', 'fleet', 'health'],
  [HEALTH_REPLACEMENTS_METRIC]: ['environment', 'fleet', 'outcome'],
  [HEALTH_HELD_METRIC]: ['environment', 'fleet'],
  [UNEXPLAINED_EXECUTORS_METRIC]: ['environment'],
};

const isHealthClass = (value: unknown): value is HealthClass => (HEALTH_CLASSES as readonly unknown[]).includes(value);
const isOutcome = (value: unknown): value is ReplacementOutcome =>
  (REPLACEMENT_OUTCOMES as readonly unknown[]).includes(value);

/**
 * The printed documents as CloudWatch would store them: each metric of each directive at the document's timestamp,
 * under its dimension set's values. Anything else (another namespace, unit, dimension set or metric, a second set)
 * fails the read, so strays are seen.
 */
function storedOf(docs: readonly EmfDocument[]): StoredHealthValue[] {
  return docs.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap(({ Namespace, Dimensions, Metrics }) =>
      Metrics.map(({ Name, Unit }): StoredHealthValue => {
        const unexpected = () => new Error(`unexpected EMF metric ${Name} in ${JSON.stringify(doc)}`);
        const { environment, fleet, health, outcome } = doc;
        const value = doc[Name];
        if (
          Namespace !== FLEETPLANE_NAMESPACE ||
          Unit !== 'Count' ||
          JSON.stringify(Dimensions) !== JSON.stringify([DIMENSIONS[Name]]) ||
          typeof environment !== 'string' ||
          typeof value !== 'number'
        ) {
          throw unexpected();
        }
        const at = doc._aws.Timestamp;
        if (Name === UNEXPLAINED_EXECUTORS_METRIC) {
          return { metric: 'unexplained-executors', environment, value, at };
        }
        if (typeof fleet !== 'string') {
          throw unexpected();
        }
        if (Name === FLEET_INSTANCES_METRIC && isHealthClass(health)) {
          return { metric: 'fleet-instances', environment, fleet, health, value, at };
        }
        if (Name === HEALTH_REPLACEMENTS_METRIC && isOutcome(outcome)) {
          return { metric: 'health-replacements', environment, fleet, outcome, value, at };
        }
        if (Name === HEALTH_HELD_METRIC) {
          return { metric: 'health-held', environment, fleet, value, at };
        }
        throw unexpected();
      }),
    ),
  );
}

// Nothing to fail: EMF is a line on stdout, and Node's console drops errors writing to its stream.
defineHealthMetricsContract(
  'EMF on stdout, read as CloudWatch would',
  () => ({ metrics: createEmfHealthMetrics(), stored: () => storedOf(documents()) }),
  { storeCanFail: false },
);

const none = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
/** 2 healthy and 1 stale, that 1 replaced, not held: 9 values a fleet. */
const fleetCounts = (fleet: string): FleetHealthCounts => ({
  fleet,
  counts: { ...none, healthy: 2, stale: 1 },
  replacements: { replaced: 1, 'would-replace': 0, refused: 0 },
  held: false,
});
const health = (fleets: readonly string[]): HealthCounts => ({
  environment: 'prod',
  at: AT,
  fleets: fleets.map(fleetCounts),
  unexplainedExecutors: 1,
});

describe('createEmfHealthMetrics', () => {
  it('prints each value in fleetplane’s namespace under exactly its dimension set, stamped with the check’s time', async () => {
    // Act
    await createEmfHealthMetrics().publish(health(['codeintel']));

    // Assess
    const docs = documents();
    expect(docs).toHaveLength(10);
    for (const doc of docs) {
      // The check's time to the millisecond, not the print time; no Powertools `service` dimension an alarm would
      // have to name.
      expect(doc._aws.Timestamp).toBe(AT);
      expect(doc).not.toHaveProperty('service');
      expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe('fleetplane');
      expect(directive?.Metrics).toHaveLength(1);
      // Standard resolution: no StorageResolution member.
      expect(directive?.Metrics[0]).toEqual({ Name: expect.any(String), Unit: 'Count' });
    }
    expect(docs.map((doc) => doc._aws.CloudWatchMetrics[0]?.Dimensions)).toEqual([
      ...HEALTH_CLASSES.map(() => [['environment', 'fleet', 'health']]),
      ...REPLACEMENT_OUTCOMES.map(() => [['environment', 'fleet', 'outcome']]),
      [['environment', 'fleet']],
      [['environment']],
    ]);
    expect(flattenEmf(docs)).toEqual([
      'FleetInstances{environment=prod,fleet=codeintel,health=booting} = 0 Count',
      'FleetInstances{environment=prod,fleet=codeintel,health=healthy} = 2 Count',
      'FleetInstances{environment=prod,fleet=codeintel,health=orphan} = 0 Count',
      'FleetInstances{environment=prod,fleet=codeintel,health=stale} = 1 Count',
      'FleetInstances{environment=prod,fleet=codeintel,health=outdated} = 0 Count',
      'HealthReplacements{environment=prod,fleet=codeintel,outcome=replaced} = 1 Count',
      'HealthReplacements{environment=prod,fleet=codeintel,outcome=would-replace} = 0 Count',
      'HealthReplacements{environment=prod,fleet=codeintel,outcome=refused} = 0 Count',
      'HealthHeld{environment=prod,fleet=codeintel} = 0 Count',
      'UnexplainedExecutors{environment=prod} = 1 Count',
    ]);
  });

  it('keeps every document within EMF’s limits however many fleets there are', async () => {
    // Act: 250 fleets × (5 classes + 3 outcomes + held) + 1
    await createEmfHealthMetrics().publish(health(Array.from({ length: 250 }, (_, i) => `fleet-${i}`)));

    // Assess: at most 100 metrics per directive and 30 keys per dimension set
    const docs = documents();
    expect(docs).toHaveLength(2251);
    for (const { Metrics, Dimensions } of docs.flatMap((doc) => doc._aws.CloudWatchMetrics)) {
      expect(Metrics.length).toBeLessThanOrEqual(100);
      for (const set of Dimensions) {
        expect(set.length).toBeLessThanOrEqual(30);
      }
    }
  });

  it('prints nothing for counts it refuses, even when the bad entry comes last', async () => {
    // Prepare
    const valid = health(['codeintel', 'batches']);
    const refused: HealthCounts = {
      ...valid,
      fleets: [
        ...valid.fleets,
        { ...fleetCounts('bad'), replacements: { replaced: 0, 'would-replace': -1, refused: 0 } },
      ],
    };

    // Act
    const publishing = createEmfHealthMetrics().publish(refused);

    // Assess
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    expect(written).toEqual([]);
  });

  it('prints nothing once the signal has aborted, refusing as every metrics adapter does', async () => {
    // Prepare
    const reason = new Error('check budget spent');

    // Act
    const publishing = createEmfHealthMetrics()
      .publish(health(['codeintel']), { signal: AbortSignal.abort(reason) })
      .catch((error: unknown) => error);

    // Assess
    expect(await publishing).toBeInstanceOf(MetricsPublishError);
    expect(await publishing).toMatchObject({ retryable: true, cause: reason });
    expect(written).toEqual([]);
  });
});
