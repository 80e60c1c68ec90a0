import { describe, expect, it } from 'vitest';
import { planCycle } from '../../../shared/app/plan.ts';
import type { AwsGroupTarget, Fleet } from '../../../shared/domain/fleet.ts';
import { normalizeAllocations } from '../../../shared/domain/queue-metric.ts';
import { createInMemoryInstanceGroups, createInMemoryQueueMetrics } from '../../../shared/fakes/index.ts';
import { silentLogger } from '../../../shared/observability/logger.ts';

const NOW = Date.UTC(2026, 10, 27, 12);
const GROUP: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors' };
const FLEET: Fleet = {
  name: 'codeintel',
  queues: ['codeintel'],
  series: 'codeintel',
  mode: 'direct',
  target: GROUP,
  jobsPerInstance: 10,
  minInstances: 0,
  maxInstances: 20,
  scaleInWindowSeconds: 600,
};

function setup() {
  const groups = createInMemoryInstanceGroups([{ target: GROUP, desired: 1, min: 0, max: 20 }]);
  const metrics = createInMemoryQueueMetrics({ clock: () => NOW });
  const deps = {
    depths: { read: async () => ({ codeintel: { ok: true as const, depth: 55, observedAt: NOW } }) },
    metrics,
    history: metrics,
    groups,
    clock: () => NOW,
    logger: silentLogger,
  };
  const settings = {
    cloud: 'aws' as const,
    environment: 'prod',
    allocations: normalizeAllocations({}, { aws: true, gcp: false }).allocations,
    series: ['codeintel' as const],
    fleets: [FLEET],
  };
  return { deps, settings, groups, metrics };
}

describe('planCycle', () => {
  it('decides for a direct fleet without resizing it or writing the metric', async () => {
    // Prepare
    const { deps, settings, groups, metrics } = setup();

    // Act
    const report = await planCycle(deps, settings, { publish: false });

    // Assess
    expect(report.fleets[0]).toMatchObject({
      mode: 'direct',
      current: 1,
      desired: 6,
      reason: 'scale-out',
      action: 'would-resize',
    });
    expect(groups.resizeCalls()).toEqual([]);
    expect(metrics.points()).toEqual([]);
  });

  it('writes the metric, and only the metric, with publish', async () => {
    // Prepare
    const { deps, settings, groups, metrics } = setup();

    // Act
    await planCycle(deps, settings, { publish: true });

    // Assess
    expect(metrics.points()).toEqual([expect.objectContaining({ series: 'codeintel', value: 55 })]);
    expect(groups.getGroup(GROUP)?.desired).toBe(1);
  });
});
