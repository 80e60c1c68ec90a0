import { describe, expect, it, vi } from 'vitest';
import type { GroupTarget } from '../../shared/domain/fleet.ts';
import { createInMemoryInstanceGroups, createInMemoryQueueMetrics } from '../../shared/fakes/index.ts';
import { CloudApiError, MetricsPublishError, MetricsReadError } from '../../shared/ports/errors.ts';

/** The control helpers the contract does not cover: failure injection and what simulators hook into. */
const target: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors' };

describe('createInMemoryInstanceGroups helpers', () => {
  it('fails the next calls of one operation, then recovers', async () => {
    // Prepare
    const groups = createInMemoryInstanceGroups([{ target, desired: 1, min: 0, max: 3 }]);
    groups.failNext('describe', 2);

    // Act
    const first = groups.describe([target]);
    const second = groups.describe([target]);
    const third = await groups.describe([target]);

    // Assess
    await expect(first).rejects.toMatchObject({ name: 'CloudApiError', retryable: true });
    await expect(second).rejects.toBeInstanceOf(CloudApiError);
    expect(third.size).toBe(1);
    expect(groups.calls.describe).toBe(3);
  });

  it('records resizes with their outcome and tells the simulator hook about applied ones', async () => {
    // Prepare
    const onResize = vi.fn();
    const groups = createInMemoryInstanceGroups([{ target, desired: 1, min: 0, max: 3 }], {
      clock: () => 42,
      onResize,
    });
    groups.deferResizes(1);

    // Act
    await groups.setDesiredSize(target, 2);
    await groups.setDesiredSize(target, 2);
    await groups.setDesiredSize(target, 9).catch(() => undefined);

    // Assess
    expect(groups.resizeCalls().map(({ size, at, outcome }) => ({ size, at, outcome }))).toEqual([
      { size: 2, at: 42, outcome: 'deferred' },
      { size: 2, at: 42, outcome: 'applied' },
      { size: 9, at: 42, outcome: 'failed' },
    ]);
    expect(onResize).toHaveBeenCalledExactlyOnceWith(target, 1, 2);
  });

  it('moves an instance to another lifecycle in place', () => {
    // Prepare
    const groups = createInMemoryInstanceGroups();
    groups.addGroup({ target, desired: 2, min: 0, max: 3 });
    groups.setInstances(target, [
      { id: 'i-1', lifecycle: 'booting', state: 'booting' },
      { id: 'i-2', lifecycle: 'booting', state: 'booting' },
    ]);

    // Act
    groups.setLifecycle(target, 'i-1', 'in-service', 'InService');

    // Assess
    expect(groups.getGroup(target)?.instances).toEqual([
      { id: 'i-1', lifecycle: 'in-service', state: 'InService', protectedFromScaleIn: false },
      { id: 'i-2', lifecycle: 'booting', state: 'booting', protectedFromScaleIn: false },
    ]);
  });

  it('refuses a group the cloud could not hold', () => {
    // Act
    const add = () => createInMemoryInstanceGroups([{ target, desired: 5, min: 0, max: 3 }]);

    // Assess
    expect(add).toThrow(RangeError);
  });
});

describe('createInMemoryQueueMetrics helpers', () => {
  it('injects publish and read failures for a number of calls', async () => {
    // Prepare
    const metrics = createInMemoryQueueMetrics({ clock: () => 1_000 });
    metrics.failPublishes(1);
    metrics.failReads(1);

    // Act
    const publish = metrics.publish([{ series: 'codeintel', environment: 'prod', value: 1 }]);
    const read = metrics.peaks(['codeintel'], 'prod', 0, 2_000);

    // Assess
    await expect(publish).rejects.toBeInstanceOf(MetricsPublishError);
    await expect(read).rejects.toBeInstanceOf(MetricsReadError);
    await metrics.publish([{ series: 'codeintel', environment: 'prod', value: 1 }]);
    expect(await metrics.peaks(['codeintel'], 'prod', 0, 2_000)).toEqual(new Map([['codeintel', new Map([[0, 1]])]]));
  });

  it('seeds history at explicit times', async () => {
    // Prepare
    const metrics = createInMemoryQueueMetrics({ clock: () => 10_000 });
    metrics.record({ series: 'batches', environment: 'prod', value: 30 }, 5_000);
    await metrics.publish([{ series: 'batches', environment: 'prod', value: 4 }]);

    // Act
    const early = await metrics.peaks(['batches'], 'prod', 0, 6_000);
    const late = await metrics.peaks(['batches'], 'prod', 6_000, 12_000);

    // Assess
    expect(early.get('batches')).toEqual(new Map([[0, 30]]));
    expect(late.get('batches')).toEqual(new Map([[0, 4]]));
    expect(metrics.points().map((p) => p.at)).toEqual([5_000, 10_000]);
  });
});
