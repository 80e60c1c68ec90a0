import { describe, expect, it } from 'vitest';
import {
  type FleetVerdicts,
  type HealthClass,
  type HealthInstance,
  type HealthSettings,
  type Heartbeat,
  heartbeatsByHost,
  judgeInstances,
  planReplacements,
  unexplainedHeartbeats,
} from '../../../shared/domain/health.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const MINUTE = 60_000;
const SETTINGS: HealthSettings = {
  graceMs: 10 * MINUTE,
  staleMs: 5 * MINUTE,
  maxReplacementsPerRun: 2,
  maxReplacementFraction: 0.5,
};

const instance = (id: string, launchedMinutesAgo: number, extra: Partial<HealthInstance> = {}): HealthInstance => ({
  id,
  hostname: `host-${id}`,
  lifecycle: 'in-service',
  launchedAt: NOW - launchedMinutesAgo * MINUTE,
  ...extra,
});

const heartbeat = (id: string, seenMinutesAgo: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  name: `host-${id}-0f8e3c52-1b2a-4c3d-9e8f-0123456789ab`,
  host: `host-${id}`,
  lastSeenAt: NOW - seenMinutesAgo * MINUTE,
  ...extra,
});

describe('judgeInstances', () => {
  it('classifies booting, healthy, orphan, stale and outdated instances, and skips those leaving', () => {
    // Prepare
    const instances = [
      instance('young', 3),
      instance('fine', 60),
      instance('orphan', 30),
      instance('stale', 60),
      instance('old-version', 60),
      instance('leaving', 60, { lifecycle: 'leaving' }),
      instance('parked', 60, { lifecycle: 'standby' }),
    ];
    const beats = [
      heartbeat('fine', 0),
      heartbeat('stale', 20),
      heartbeat('old-version', 0, { compatibility: 'OUTDATED' }),
      heartbeat('leaving', 30),
    ];

    // Act
    const verdicts = judgeInstances(instances, heartbeatsByHost(beats), NOW, SETTINGS);

    // Assess
    expect(verdicts.instances.map((verdict) => [verdict.id, verdict.health])).toEqual([
      ['young', 'booting'],
      ['fine', 'healthy'],
      ['orphan', 'orphan'],
      ['stale', 'stale'],
      ['old-version', 'outdated'],
    ]);
    expect(verdicts.counts).toEqual({ booting: 1, healthy: 1, orphan: 1, stale: 1, outdated: 1 });
  });

  it('judges an instance by its newest executor: one restarted under a new name is healthy', () => {
    // Prepare
    const beats = [
      heartbeat('fine', 40),
      { ...heartbeat('fine', 0), name: 'host-fine-11111111-2222-4333-8444-555555555555' },
    ];

    // Act
    const verdicts = judgeInstances([instance('fine', 60)], heartbeatsByHost(beats), NOW, SETTINGS);

    // Assess
    expect(verdicts.instances).toEqual([
      expect.objectContaining({
        health: 'healthy',
        executor: 'host-fine-11111111-2222-4333-8444-555555555555',
        lastSeenAt: NOW,
      }),
    ]);
  });

  it('never calls an instance broken when its host name or launch time is unknown', () => {
    // Act
    const verdicts = judgeInstances(
      [
        instance('nameless', 60, { hostname: undefined }),
        { id: 'ageless', hostname: 'host-ageless', lifecycle: 'in-service' },
      ],
      new Map(),
      NOW,
      SETTINGS,
    );

    // Assess
    expect(verdicts.counts.booting).toBe(2);
  });

  it('lets a heartbeat exactly at the threshold and an instance exactly at the grace period count as fine', () => {
    // Act
    const verdicts = judgeInstances(
      [instance('edge', 10), instance('beat', 60)],
      heartbeatsByHost([heartbeat('beat', 5)]),
      NOW,
      SETTINGS,
    );

    // Assess
    expect(verdicts.instances.map((verdict) => verdict.health)).toEqual(['booting', 'healthy']);
  });
});

describe('unexplainedHeartbeats', () => {
  it('names executors heartbeating from hosts no instance explains, not those long gone', () => {
    // Act
    const unexplained = unexplainedHeartbeats(
      [heartbeat('known', 0), heartbeat('stray', 1), heartbeat('gone', 30)],
      new Set(['host-known']),
      NOW,
      SETTINGS.staleMs,
    );

    // Assess
    expect(unexplained.map((beat) => beat.host)).toEqual(['host-stray']);
  });
});

describe('planReplacements', () => {
  const judged = (healths: readonly HealthClass[]): FleetVerdicts => {
    const instances = healths.map((health, index) => ({
      id: `i-${index}`,
      health,
      launchedAt: NOW - (100 - index) * MINUTE,
    }));
    return { instances, counts: { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 } };
  };

  it('replaces the broken ones, longest broken first, within the per-run count', () => {
    // Act
    const plan = planReplacements(
      judged(['healthy', 'orphan', 'healthy', 'stale', 'healthy', 'orphan', 'healthy', 'healthy']),
      SETTINGS,
    );

    // Assess
    expect(plan).toEqual({ replace: ['i-1', 'i-3'], broken: 3 });
  });

  it('keeps to the fraction of the fleet, but may always replace one', () => {
    // Act
    const small = planReplacements(judged(['orphan', 'healthy']), { ...SETTINGS, maxReplacementFraction: 0.1 });
    const capped = planReplacements(judged(['orphan', 'healthy', 'healthy', 'stale', 'healthy', 'healthy']), {
      ...SETTINGS,
      maxReplacementFraction: 0.2,
    });

    // Assess
    expect(small.replace).toEqual(['i-0']);
    expect(capped.replace).toEqual(['i-0']);
  });

  it('replaces nothing when most of a fleet is broken at once, and says why', () => {
    // Act
    const plan = planReplacements(judged(['stale', 'stale', 'healthy']), SETTINGS);

    // Assess
    expect(plan).toMatchObject({ replace: [], broken: 2, held: expect.stringContaining('shared cause') });
  });

  it('never replaces booting, healthy or outdated instances', () => {
    // Act
    const plan = planReplacements(judged(['booting', 'healthy', 'outdated']), SETTINGS);

    // Assess
    expect(plan).toEqual({ replace: [], broken: 0 });
  });
});
