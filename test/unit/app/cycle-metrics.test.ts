import { describe, expect, it } from 'vitest';
import { cycleSummaryOf } from '../../../shared/app/cycle-summary.ts';
import { runInvocation } from '../../../shared/app/invocation.ts';
import {
  type CycleReport,
  runScalingCycle,
  type ScalingDeps,
  type ScalingSettings,
} from '../../../shared/app/scaling-cycle.ts';
import type { AwsGroupTarget, Fleet } from '../../../shared/domain/fleet.ts';
import { normalizeAllocations } from '../../../shared/domain/queue-metric.ts';
import type { QueueName } from '../../../shared/domain/queues.ts';
import type { DepthReading } from '../../../shared/domain/readings.ts';
import {
  createInMemoryCycleMetrics,
  createInMemoryInstanceGroups,
  createInMemoryQueueMetrics,
} from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import { type CycleSummary, checkCycleSummary } from '../../../shared/ports/cycle-metrics.ts';
import { MetricsPublishError } from '../../../shared/ports/errors.ts';

const START = Date.UTC(2026, 10, 27, 12, 0, 0);
const GROUP: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-codeintel' };
const MISSING: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-gone' };
const FLEET: Fleet = {
  name: 'codeintel',
  queues: ['codeintel'],
  series: 'codeintel',
  mode: 'direct',
  target: GROUP,
  jobsPerInstance: 10,
  minInstances: 1,
  maxInstances: 20,
  scaleInWindowSeconds: 600,
};

function report(overrides: Partial<CycleReport> = {}): CycleReport {
  return {
    startedAt: START,
    durationMs: 420,
    published: { ok: true, series: ['codeintel'], skipped: [] },
    fleets: [],
    values: [],
    allFailed: false,
    ...overrides,
  };
}

describe('cycleSummaryOf', () => {
  it('keeps depths, sizes, reasons, duration and latency, and counts no errors for a clean cycle', () => {
    // Act
    const summary = cycleSummaryOf(
      report({
        sourcegraphLatencyMs: 120,
        values: [{ ok: true, series: 'codeintel', value: 47, depth: 95 }],
        fleets: [
          {
            fleet: 'codeintel',
            mode: 'direct',
            series: 'codeintel',
            status: 'ok',
            action: 'resized',
            reason: 'scale-out',
            detail: '',
            current: 2,
            desired: 10,
          },
          {
            fleet: 'published-only',
            mode: 'metrics',
            series: 'codeintel',
            status: 'ok',
            action: 'none',
            reason: 'published',
            detail: '',
          },
        ],
      }),
      { environment: 'prod' },
    );

    // Assess
    expect(summary).toEqual({
      environment: 'prod',
      at: START,
      succeeded: true,
      durationMs: 420,
      sourcegraphLatencyMs: 120,
      queueDepths: [{ series: 'codeintel', depth: 95 }],
      fleets: [{ fleet: 'codeintel', reason: 'scale-out', current: 2, desired: 10 }],
      errors: { sourcegraph: 0, cloud: 0, metrics: 0 },
    } satisfies CycleSummary);
  });

  it('counts errors by source and says a failed cycle failed', () => {
    // Act
    const base = { mode: 'direct', series: 'codeintel', action: 'none', detail: '' } as const;
    const summary = cycleSummaryOf(
      report({
        allFailed: true,
        published: { ok: false, series: [], skipped: [{ series: 'batches', reason: 'timeout' }], error: 'Boom: x' },
        values: [
          { ok: false, series: 'batches', reason: 'timeout' },
          { ok: true, series: 'codeintel', value: 3, depth: 3 },
        ],
        fleets: [
          { ...base, fleet: 'a', status: 'failed', reason: 'group-unavailable' },
          { ...base, fleet: 'b', status: 'failed', reason: 'scale-out', current: 1, desired: 1 },
          { ...base, fleet: 'c', status: 'failed', reason: 'demand-unknown', current: 4 },
          { ...base, fleet: 'd', mode: 'metrics', status: 'failed', reason: 'publish-failed' },
          { ...base, fleet: 'e', status: 'deferred', reason: 'scale-in', current: 3, desired: 2 },
        ],
      }),
      { environment: 'prod' },
    );

    // Assess
    expect(summary.succeeded).toBe(false);
    expect(summary.sourcegraphLatencyMs).toBeUndefined();
    expect(summary.errors).toEqual({ sourcegraph: 1, cloud: 2, metrics: 1 });
    expect(summary.queueDepths).toEqual([{ series: 'codeintel', depth: 3 }]);
    expect(summary.fleets.map((fleet) => fleet.fleet)).toEqual(['a', 'b', 'c', 'e']);
    expect(summary.fleets[0]).toEqual({ fleet: 'a', reason: 'group-unavailable' });
  });
});

describe('checkCycleSummary', () => {
  const good: CycleSummary = {
    environment: 'prod',
    at: START,
    succeeded: true,
    durationMs: 1.5,
    queueDepths: [{ series: 'codeintel', depth: 0 }],
    fleets: [{ fleet: 'codeintel', reason: 'at-target', current: 0, desired: 0 }],
    errors: { sourcegraph: 0, cloud: 0, metrics: 0 },
  };

  it.each<[string, Partial<CycleSummary>]>([
    ['an empty environment', { environment: ' ' }],
    ['a negative duration', { durationMs: -1 }],
    ['a latency that is no number', { sourcegraphLatencyMs: Number.NaN }],
    ['a fractional depth', { queueDepths: [{ series: 'codeintel', depth: 1.5 }] }],
    ['a series twice', { queueDepths: [good.queueDepths[0], good.queueDepths[0]].flatMap((d) => (d ? [d] : [])) }],
    ['a fleet twice', { fleets: [...good.fleets, ...good.fleets] }],
    ['a negative size', { fleets: [{ fleet: 'codeintel', reason: 'x', desired: -1 }] }],
    ['a negative error count', { errors: { sourcegraph: -1, cloud: 0, metrics: 0 } }],
  ])('refuses %s', (_, change) => {
    expect(() => checkCycleSummary({ ...good, ...change }, 'op')).toThrow(MetricsPublishError);
  });

  it('accepts zeros and fractional milliseconds', () => {
    expect(() => checkCycleSummary(good, 'op')).not.toThrow();
  });
});

describe('a cycle publishes its own metrics', () => {
  const world = { now: START };

  function setup(fleets: readonly Fleet[] = [FLEET]) {
    world.now = START;
    const clock = () => world.now;
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({ clock, write: (line) => lines.push(JSON.parse(line)) });
    const groups = createInMemoryInstanceGroups([{ target: GROUP, desired: 2, min: 0, max: 50 }], { clock });
    const metrics = createInMemoryQueueMetrics({ clock });
    const cycleMetrics = createInMemoryCycleMetrics();
    const deps: ScalingDeps = {
      depths: {
        // Sourcegraph answers 250 ms later.
        read: async (queues) => {
          world.now += 250;
          const depths: Partial<Record<QueueName, DepthReading>> = {};
          for (const queue of queues) {
            depths[queue] = { ok: true, depth: 95, observedAt: world.now };
          }
          return depths;
        },
      },
      metrics,
      history: metrics,
      groups,
      clock,
      logger,
      cycleMetrics,
    };
    const settings: ScalingSettings = {
      cloud: 'aws',
      environment: 'prod',
      allocations: normalizeAllocations({}, { aws: true, gcp: false }).allocations,
      series: [...new Set(fleets.map((fleet) => fleet.series))],
      fleets,
    };
    return { deps, settings, cycleMetrics, lines, groups };
  }

  it('publishes one summary per cycle, with the measured Sourcegraph latency', async () => {
    // Prepare
    const { deps, settings, cycleMetrics } = setup();

    // Act
    const result = await runScalingCycle(deps, settings);

    // Assess
    expect(result.sourcegraphLatencyMs).toBe(250);
    expect(cycleMetrics.published()).toEqual([
      {
        environment: 'prod',
        at: START,
        succeeded: true,
        durationMs: 250,
        sourcegraphLatencyMs: 250,
        queueDepths: [{ series: 'codeintel', depth: 95 }],
        fleets: [{ fleet: 'codeintel', reason: 'scale-out', current: 2, desired: 10 }],
        errors: { sourcegraph: 0, cloud: 0, metrics: 0 },
      },
    ]);
  });

  it('scales and reports as before when publishing its metrics throws, and logs why', async () => {
    // Prepare
    const { deps, settings, cycleMetrics, lines, groups } = setup();
    cycleMetrics.failPublishes(1, new Error('metrics backend down'));

    // Act
    const result = await runScalingCycle(deps, settings);

    // Assess
    expect(result.allFailed).toBe(false);
    expect(result.fleets[0]).toMatchObject({ status: 'ok', action: 'resized', desired: 10 });
    expect(groups.getGroup(GROUP)?.desired).toBe(10);
    expect(cycleMetrics.calls.publish).toBe(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'publishing cycle metrics failed',
        error: expect.objectContaining({ message: 'metrics backend down' }),
      }),
    );
  });

  it('publishes a failed cycle before the invocation reports the failure', async () => {
    // Prepare
    const { deps, settings, cycleMetrics } = setup([{ ...FLEET, target: MISSING }]);

    // Act
    const invocation = runInvocation(deps, settings, {
      once: true,
      until: START,
      hardDeadline: START + 60_000,
      pollIntervalMs: 10_000,
      sleep: async () => {},
    });

    // Assess
    await expect(invocation).rejects.toThrow('the last cycle failed');
    expect(cycleMetrics.published()).toEqual([
      expect.objectContaining({
        succeeded: false,
        fleets: [{ fleet: 'codeintel', reason: 'group-unavailable' }],
        errors: { sourcegraph: 0, cloud: 1, metrics: 0 },
      }),
    ]);
  });

  it('never lets a publish that throws synchronously or with a non-error escape', async () => {
    // Prepare
    const { deps, settings } = setup();
    const throwing: ScalingDeps = {
      ...deps,
      cycleMetrics: {
        publish: () => {
          throw 'not even an Error';
        },
      },
    };

    // Act
    const result = await runScalingCycle(throwing, settings);

    // Assess
    expect(result.allFailed).toBe(false);
  });
});
