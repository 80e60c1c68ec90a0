import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredSeries } from '../../local/gcp/monitoring.ts';
import { HEALTH_CLASSES, type HealthClass } from '../../shared/domain/health.ts';
import {
  createCloudMonitoringHealthMetrics,
  FLEET_INSTANCES_METRIC_TYPE,
  HEALTH_HELD_METRIC_TYPE,
  HEALTH_REPLACEMENTS_METRIC_TYPE,
  UNEXPLAINED_EXECUTORS_METRIC_TYPE,
} from '../../shared/gcp/monitoring-health-metrics.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import {
  type FleetHealthCounts,
  type HealthCounts,
  REPLACEMENT_OUTCOMES,
  type ReplacementOutcome,
} from '../../shared/ports/health-metrics.ts';
import { defineHealthMetricsContract, type StoredHealthValue } from '../contract/health-metrics.contract.ts';
import { useMonitoringEmulator } from '../support/monitoring-emulator.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const h = useMonitoringEmulator();

const isHealthClass = (value: string | undefined): value is HealthClass =>
  (HEALTH_CLASSES as readonly (string | undefined)[]).includes(value);
const isOutcome = (value: string | undefined): value is ReplacementOutcome =>
  (REPLACEMENT_OUTCOMES as readonly (string | undefined)[]).includes(value);

/** A series' points in the contract's terms; anything else under fleetplane's types fails the read, so strays are seen. */
function toValues(series: StoredSeries): StoredHealthValue[] {
  const { environment, fleet, health, outcome, ...others } = series.metric.labels;
  const shape = series.metricKind === 'GAUGE' && series.valueType === 'INT64' && Object.keys(others).length === 0;
  if (!shape || environment === undefined) {
    throw new Error(`unexpected series ${series.metric.type} ${JSON.stringify(series.metric.labels)}`);
  }
  return series.points.map((point) => {
    const value = Number(point.value.value);
    const at = Number(point.end / 1_000_000n);
    const { type } = series.metric;
    if (type === UNEXPLAINED_EXECUTORS_METRIC_TYPE && [fleet, health, outcome].every((label) => label === undefined)) {
      return { metric: 'unexplained-executors', environment, value, at };
    }
    if (type === FLEET_INSTANCES_METRIC_TYPE && fleet !== undefined && isHealthClass(health) && outcome === undefined) {
      return { metric: 'fleet-instances', environment, fleet, health, value, at };
    }
    if (type === HEALTH_REPLACEMENTS_METRIC_TYPE && fleet !== undefined && isOutcome(outcome) && health === undefined) {
      return { metric: 'health-replacements', environment, fleet, outcome, value, at };
    }
    if (type === HEALTH_HELD_METRIC_TYPE && fleet !== undefined && health === undefined && outcome === undefined) {
      return { metric: 'health-held', environment, fleet, value, at };
    }
    throw new Error(`unexpected series ${series.metric.type} ${JSON.stringify(series.metric.labels)}`);
  });
}

/**
 * One project per subject: the emulator keeps every series, and each case starts at the same instant, so a fresh
 * project stands in for a fresh store. No case writes one series twice within the emulator's 5 s sampling period.
 */
defineHealthMetricsContract('Cloud Monitoring over the Monitoring emulator (real client, REST)', (subjectClock) => {
  h.clock = subjectClock;
  h.monitoring.emulator.clearFaults();
  const projectId = h.freshProject('fleetplane-health');
  return {
    metrics: createCloudMonitoringHealthMetrics(h.client, { projectId }),
    stored: () =>
      h.monitoring
        .series()
        .filter((series) => series.project === projectId)
        .flatMap(toValues),
    failStore: () => h.monitoring.emulator.injectFault({ kind: 'error', status: 503, operation: 'createTimeSeries' }),
  };
});

const none = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
/** Each fleet: 2 healthy and 1 stale, that 1 refused, held; 9 series a fleet, and 1 more for the check. */
const fleetCounts = (fleet: string): FleetHealthCounts => ({
  fleet,
  counts: { ...none, healthy: 2, stale: 1 },
  replacements: { replaced: 0, 'would-replace': 0, refused: 1 },
  held: true,
});
const health = (fleets: readonly string[], at = T0 + 1_500): HealthCounts => ({
  environment: 'prod',
  at,
  fleets: fleets.map(fleetCounts),
  unexplainedExecutors: 1,
});
const fleets = (n: number) => Array.from({ length: n }, (_, i) => `fleet-${i}`);

describe('Cloud Monitoring health metrics, as Cloud Monitoring stores them', () => {
  let projectId: string;
  const writes = () => h.monitoring.emulator.requests.filter((request) => request.operation === 'createTimeSeries');
  const inProject = () => h.monitoring.series().filter((series) => series.project === projectId);
  beforeEach(() => {
    h.clock = () => T0 + 2_000;
    projectId = h.freshProject('fleetplane-health');
    h.monitoring.emulator.clearFaults();
    h.monitoring.emulator.clearRequests();
  });

  it('writes INT64 gauges on the global resource at the check’s whole second, creating every descriptor', async () => {
    // Act
    await createCloudMonitoringHealthMetrics(h.client, { projectId }).publish(health(['codeintel']));

    // Assess
    const gauge = (type: string, labels: Record<string, string>, value: bigint) => ({
      project: projectId,
      metric: { type: `custom.googleapis.com/fleetplane/${type}`, labels: { environment: 'prod', ...labels } },
      resource: { type: 'global', labels: { project_id: projectId } },
      metricKind: 'GAUGE',
      valueType: 'INT64',
      points: [{ end: BigInt(T0 + 1_000) * 1_000_000n, value: { type: 'INT64', value } }],
    });
    expect(inProject()).toHaveLength(10);
    expect(inProject()).toEqual(
      expect.arrayContaining([
        gauge('fleet_instances', { fleet: 'codeintel', health: 'stale' }, 1n),
        gauge('fleet_instances', { fleet: 'codeintel', health: 'orphan' }, 0n),
        gauge('health_replacements', { fleet: 'codeintel', outcome: 'replaced' }, 0n),
        gauge('health_replacements', { fleet: 'codeintel', outcome: 'would-replace' }, 0n),
        gauge('health_replacements', { fleet: 'codeintel', outcome: 'refused' }, 1n),
        gauge('health_held', { fleet: 'codeintel' }, 1n),
        gauge('unexplained_executors', {}, 1n),
      ]),
    );
    expect(h.monitoring.descriptors()).toEqual(
      expect.arrayContaining(
        ['fleet_instances', 'unexplained_executors', 'health_replacements', 'health_held'].map((type) => ({
          type: `custom.googleapis.com/fleetplane/${type}`,
          metricKind: 'GAUGE',
          valueType: 'INT64',
        })),
      ),
    );
  });

  it('writes 200 series per request at most', async () => {
    // Act: 250 fleets × (5 classes + 3 outcomes + held) + 1 = 2251 series
    await createCloudMonitoringHealthMetrics(h.client, { projectId }).publish(health(fleets(250)));

    // Assess
    expect(writes()).toHaveLength(12);
    expect(inProject()).toHaveLength(2251);
  });

  it('takes series refused as written too recently as current: a check moments ago wrote them', async () => {
    // Prepare
    const metrics = createCloudMonitoringHealthMetrics(h.client, { projectId });
    await metrics.publish(health(['codeintel']));

    // Act: another check 2 s later, within the 5 s sampling period
    h.clock = () => T0 + 4_000;
    const again = metrics.publish({ ...health(['codeintel'], T0 + 3_500), unexplainedExecutors: 9 });

    // Assess
    await expect(again).resolves.toBeUndefined();
    expect(inProject().every((series) => series.points.length === 1)).toBe(true);
  });

  it('reports other refusals as a MetricsPublishError saying how far it got', async () => {
    // Prepare: a point more than 5 minutes ahead of the store's clock is refused
    const metrics = createCloudMonitoringHealthMetrics(h.client, { projectId });

    // Act
    const error = await metrics.publish(health(fleets(50), T0 + 10 * 60_000)).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(MetricsPublishError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('0 of 451 series were written') });
    expect(inProject()).toHaveLength(0);
  });

  const many = health(fleets(250));
  const lastFleet = (change: Partial<FleetHealthCounts>): HealthCounts => ({
    ...many,
    fleets: [...many.fleets, { ...fleetCounts('bad'), ...change }],
  });
  it.each<[string, HealthCounts]>([
    ['an empty environment', { ...many, environment: '' }],
    [
      'a fractional replacement count last',
      lastFleet({ replacements: { replaced: 0.5, 'would-replace': 0, refused: 0 } }),
    ],
    // What parsed JSON or plain JavaScript could hand over, outside the type system.
    ['a held that is not a boolean last', lastFleet({ held: 0 as unknown as boolean })],
  ])('sends nothing for %s', async (_, refused) => {
    // Act
    const attempt = createCloudMonitoringHealthMetrics(h.client, { projectId }).publish(refused);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MetricsPublishError);
    expect(writes()).toHaveLength(0);
  });

  it('refuses to be built without a project id', () => {
    // Act
    const build = () => createCloudMonitoringHealthMetrics(h.client, { projectId: ' ' });

    // Assess
    expect(build).toThrow(RangeError);
  });
});
