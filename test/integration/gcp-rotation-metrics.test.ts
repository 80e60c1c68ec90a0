import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredSeries } from '../../local/gcp/monitoring.ts';
import {
  createCloudMonitoringRotationMetrics,
  ROTATION_DURATION_METRIC_TYPE,
  ROTATION_FAILED_METRIC_TYPE,
  ROTATION_SUCCEEDED_METRIC_TYPE,
} from '../../shared/gcp/monitoring-rotation-metrics.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import type { RotationOutcome } from '../../shared/ports/rotation-metrics.ts';
import { defineRotationMetricsContract, type StoredRotationValue } from '../contract/rotation-metrics.contract.ts';
import { useMonitoringEmulator } from '../support/monitoring-emulator.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const h = useMonitoringEmulator();

/** Each metric type with the kind and value type its series must have. */
const SHAPES = new Map<string, { readonly metric: StoredRotationValue['metric']; readonly valueType: string }>([
  [ROTATION_SUCCEEDED_METRIC_TYPE, { metric: 'succeeded', valueType: 'INT64' }],
  [ROTATION_FAILED_METRIC_TYPE, { metric: 'failed', valueType: 'INT64' }],
  [ROTATION_DURATION_METRIC_TYPE, { metric: 'duration-ms', valueType: 'DOUBLE' }],
]);

/** A series' points in the contract's terms; anything else in the project fails the read, so strays are seen. */
function toValues(series: StoredSeries): StoredRotationValue[] {
  const { environment, ...others } = series.metric.labels;
  const shape = SHAPES.get(series.metric.type);
  if (
    shape === undefined ||
    series.metricKind !== 'GAUGE' ||
    series.valueType !== shape.valueType ||
    series.resource.type !== 'global' ||
    environment === undefined ||
    Object.keys(others).length > 0
  ) {
    throw new Error(`unexpected series ${series.metric.type} ${JSON.stringify(series.metric.labels)}`);
  }
  return series.points.map((point) => ({
    metric: shape.metric,
    environment,
    value: Number(point.value.value),
    at: Number(point.end / 1_000_000n),
  }));
}

/**
 * One project per subject: the emulator keeps every series, so a fresh project stands in for a fresh store. No case
 * writes one series twice within the emulator's 5 s sampling period.
 */
defineRotationMetricsContract('Cloud Monitoring over the Monitoring emulator (real client, REST)', (subjectClock) => {
  h.clock = subjectClock;
  h.monitoring.emulator.clearFaults();
  const projectId = h.freshProject('fleetplane-rotation');
  return {
    metrics: createCloudMonitoringRotationMetrics(h.client, { projectId }),
    stored: () =>
      h.monitoring
        .series()
        .filter((series) => series.project === projectId)
        .flatMap(toValues),
    failStore: () => h.monitoring.emulator.injectFault({ kind: 'error', status: 503, operation: 'createTimeSeries' }),
  };
});

const outcome = (overrides: Partial<RotationOutcome> = {}): RotationOutcome => ({
  environment: 'prod',
  at: T0 + 1_500,
  succeeded: true,
  durationMs: 812.5,
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

describe('Cloud Monitoring rotation metrics, as Cloud Monitoring stores them', () => {
  let projectId: string;
  const writes = () => h.monitoring.emulator.requests.filter((request) => request.operation === 'createTimeSeries');
  const inProject = () => h.monitoring.series().filter((series) => series.project === projectId);
  beforeEach(() => {
    h.clock = () => T0 + 2_000;
    projectId = h.freshProject('fleetplane-rotation');
    h.monitoring.emulator.clearFaults();
    h.monitoring.emulator.clearRequests();
  });

  it('writes the outcome as INT64 and the duration as DOUBLE gauges on the global resource at the rotation’s whole second, in one request', async () => {
    // Act
    await createCloudMonitoringRotationMetrics(h.client, { projectId }).publish(outcome());

    // Assess
    expect(writes()).toHaveLength(1);
    expect(flatten(inProject()).sort()).toEqual(
      [
        'rotation_succeeded{environment=prod} GAUGE/INT64 = 1',
        'rotation_failed{environment=prod} GAUGE/INT64 = 0',
        'rotation_duration_ms{environment=prod} GAUGE/DOUBLE = 812.5',
      ].sort(),
    );
    for (const series of inProject()) {
      expect(series.resource).toEqual({ type: 'global', labels: { project_id: projectId } });
      expect(series.points.map((point) => point.end)).toEqual([BigInt(T0 + 1_000) * 1_000_000n]);
    }
    expect(h.monitoring.descriptors()).toEqual(
      expect.arrayContaining([
        { type: 'custom.googleapis.com/fleetplane/rotation_succeeded', metricKind: 'GAUGE', valueType: 'INT64' },
        { type: 'custom.googleapis.com/fleetplane/rotation_failed', metricKind: 'GAUGE', valueType: 'INT64' },
        { type: 'custom.googleapis.com/fleetplane/rotation_duration_ms', metricKind: 'GAUGE', valueType: 'DOUBLE' },
      ]),
    );
  });

  it('takes series refused as written too recently as current: a failed step moments ago wrote them', async () => {
    // Prepare
    const metrics = createCloudMonitoringRotationMetrics(h.client, { projectId });
    await metrics.publish(outcome({ succeeded: false, durationMs: 40 }));

    // Act: the whole rotation's outcome 2 s later, within the 5 s sampling period
    h.clock = () => T0 + 4_000;
    const again = metrics.publish(outcome({ at: T0 + 3_500, succeeded: false, durationMs: 2_000 }));

    // Assess
    await expect(again).resolves.toBeUndefined();
    expect(inProject().every((series) => series.points.length === 1)).toBe(true);
  });

  it('throws MetricsPublishError saying how far it got when Cloud Monitoring refuses, for the rotation to log', async () => {
    // Prepare
    h.monitoring.emulator.injectFault({ kind: 'error', status: 503, operation: 'createTimeSeries' });

    // Act
    const publishing = createCloudMonitoringRotationMetrics(h.client, { projectId }).publish(outcome());

    // Assess
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    await expect(publishing).rejects.toThrow(/0 of 3 series were written/);
  });

  it('sends nothing for a refused outcome', async () => {
    // Act
    const attempt = createCloudMonitoringRotationMetrics(h.client, { projectId }).publish(outcome({ durationMs: -5 }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MetricsPublishError);
    expect(writes()).toHaveLength(0);
  });

  it('sends nothing once the signal has aborted', async () => {
    // Act
    const attempt = createCloudMonitoringRotationMetrics(h.client, { projectId }).publish(outcome(), {
      signal: AbortSignal.abort(new Error('rotation budget spent')),
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MetricsPublishError);
    expect(writes()).toHaveLength(0);
  });

  it('refuses to be built without a project id', () => {
    // Act
    const build = () => createCloudMonitoringRotationMetrics(h.client, { projectId: ' ' });

    // Assess
    expect(build).toThrow(RangeError);
  });
});
