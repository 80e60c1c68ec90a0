import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredSeries } from '../../local/gcp/monitoring.ts';
import { createCloudMonitoringCycleMetrics } from '../../shared/gcp/monitoring-cycle-metrics.ts';
import type { CycleSummary } from '../../shared/ports/cycle-metrics.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import { useMonitoringEmulator } from '../support/monitoring-emulator.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const h = useMonitoringEmulator();

const summary = (overrides: Partial<CycleSummary> = {}): CycleSummary => ({
  environment: 'prod',
  at: T0 + 1_500,
  succeeded: true,
  durationMs: 812.5,
  sourcegraphLatencyMs: 140,
  queueDepths: [{ series: 'codeintel', depth: 95 }],
  fleets: [
    { fleet: 'codeintel', reason: 'scale-out', current: 2, desired: 10 },
    { fleet: 'gone', reason: 'group-unavailable' },
  ],
  errors: { sourcegraph: 0, cloud: 1, metrics: 0 },
  ...overrides,
});

/** Each series as `type{labels} kind/valueType = value`, points in order. */
function flatten(series: readonly StoredSeries[]): string[] {
  return series.map((one) => {
    const labels = Object.entries(one.metric.labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    const values = one.points.map((point) => String(point.value.value)).join(' ');
    const type = one.metric.type.replace('custom.googleapis.com/fleetplane/', '');
    return `${type}{${labels}} ${one.metricKind}/${one.valueType} = ${values}`;
  });
}

describe('Cloud Monitoring cycle metrics, as Cloud Monitoring stores them (real client, REST)', () => {
  let projectId: string;
  const writes = () => h.monitoring.emulator.requests.filter((request) => request.operation === 'createTimeSeries');
  const inProject = () => h.monitoring.series().filter((series) => series.project === projectId);
  beforeEach(() => {
    h.clock = () => T0 + 2_000;
    projectId = h.freshProject('fleetplane-cycle');
    h.monitoring.emulator.clearFaults();
    h.monitoring.emulator.clearRequests();
  });

  it('writes every value of a cycle under fleetplane/ on the global resource at the cycle’s whole second', async () => {
    // Act
    await createCloudMonitoringCycleMetrics(h.client, { projectId }).publish(summary());

    // Assess
    expect(writes()).toHaveLength(1);
    expect(flatten(inProject()).sort()).toEqual(
      [
        'cycle_succeeded{environment=prod} GAUGE/INT64 = 1',
        'cycle_failed{environment=prod} GAUGE/INT64 = 0',
        'cycle_duration_ms{environment=prod} GAUGE/DOUBLE = 812.5',
        'sourcegraph_latency_ms{environment=prod} GAUGE/DOUBLE = 140',
        'queue_depth{environment=prod,series=codeintel} GAUGE/INT64 = 95',
        'fleet_current_size{environment=prod,fleet=codeintel} GAUGE/INT64 = 2',
        'fleet_desired_size{environment=prod,fleet=codeintel} GAUGE/INT64 = 10',
        'scale_decisions{environment=prod,fleet=codeintel,reason=scale-out} GAUGE/INT64 = 1',
        'scale_decisions{environment=prod,fleet=gone,reason=group-unavailable} GAUGE/INT64 = 1',
        'errors{environment=prod,source=sourcegraph} GAUGE/INT64 = 0',
        'errors{environment=prod,source=cloud} GAUGE/INT64 = 1',
        'errors{environment=prod,source=metrics} GAUGE/INT64 = 0',
      ].sort(),
    );
    for (const series of inProject()) {
      expect(series.resource).toEqual({ type: 'global', labels: { project_id: projectId } });
      expect(series.points.map((point) => point.end)).toEqual([BigInt(T0 + 1_000) * 1_000_000n]);
    }
  });

  it('writes 200 series per request at most', async () => {
    // Act: 3 + 1 latency + 150 fleets × 3 + 3 errors = 457 series
    const fleets = Array.from({ length: 150 }, (_, i) => ({
      fleet: `f${i}`,
      reason: 'at-target',
      current: 1,
      desired: 1,
    }));
    await createCloudMonitoringCycleMetrics(h.client, { projectId }).publish(summary({ queueDepths: [], fleets }));

    // Assess
    expect(writes()).toHaveLength(3);
    expect(inProject()).toHaveLength(457);
  });

  it('appends the next cycle’s points to the same series', async () => {
    // Prepare
    const metrics = createCloudMonitoringCycleMetrics(h.client, { projectId });
    await metrics.publish(summary());

    // Act: the next poll, 10 s later, failed
    h.clock = () => T0 + 12_000;
    await metrics.publish(summary({ at: T0 + 11_500, succeeded: false }));

    // Assess
    const lines = flatten(inProject());
    expect(lines).toContain('cycle_succeeded{environment=prod} GAUGE/INT64 = 1 0');
    expect(lines).toContain('cycle_failed{environment=prod} GAUGE/INT64 = 0 1');
  });

  it('throws MetricsPublishError when Cloud Monitoring refuses, for the cycle to log', async () => {
    // Prepare
    h.monitoring.emulator.injectFault({ kind: 'error', status: 503, operation: 'createTimeSeries' });

    // Act
    const publishing = createCloudMonitoringCycleMetrics(h.client, { projectId }).publish(summary());

    // Assess
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    await expect(publishing).rejects.toThrow(/0 of 12 series were written/);
  });
});
