import { describe, expect, it } from 'vitest';
import { checkFleetHealth, type HealthDeps } from '../../../shared/app/health.ts';
import type { Fleet, GroupTarget } from '../../../shared/domain/fleet.ts';
import { targetKey } from '../../../shared/domain/fleet.ts';
import { DEFAULT_HEALTH } from '../../../shared/domain/health.ts';
import { createInMemoryInstanceGroups, type InMemoryInstanceGroups } from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import type { ExecutorRecord } from '../../../shared/ports/executor-directory.ts';
import type { HealthCounts } from '../../../shared/ports/health-metrics.ts';
import type { GroupInstance } from '../../../shared/ports/instance-groups.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const MINUTE = 60_000;
const TARGET: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'codeintel' };
const OTHER: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'batches' };
const UUID = '0f8e3c52-1b2a-4c3d-9e8f-0123456789ab';

const fleet = (name: string, target: GroupTarget, mode: Fleet['mode'] = 'direct'): Fleet => ({
  name,
  queues: ['codeintel'],
  series: 'codeintel',
  mode,
  target,
  jobsPerInstance: 4,
  minInstances: 0,
  maxInstances: 20,
  scaleInWindowSeconds: 600,
});

const vm = (id: string, launchedMinutesAgo: number): GroupInstance => ({
  id,
  lifecycle: 'in-service',
  state: 'InService',
  hostname: `ip-${id}`,
  launchedAt: NOW - launchedMinutesAgo * MINUTE,
});

const executor = (id: string, seenMinutesAgo: number, extra: Partial<ExecutorRecord> = {}): ExecutorRecord => ({
  name: `ip-${id}-${UUID}`,
  host: `ip-${id}`,
  queueNames: ['codeintel'],
  firstSeenAt: NOW - 60 * MINUTE,
  lastSeenAt: NOW - seenMinutesAgo * MINUTE,
  version: '6.10.0',
  compatibility: 'UP_TO_DATE',
  ...extra,
});

interface Harness {
  readonly deps: HealthDeps;
  readonly groups: InMemoryInstanceGroups;
  readonly published: HealthCounts[];
  readonly lines: Record<string, unknown>[];
}

function harness(records: readonly ExecutorRecord[] | Error, instances: readonly GroupInstance[]): Harness {
  const groups = createInMemoryInstanceGroups([], { clock: () => NOW });
  groups.addGroup({ target: TARGET, desired: instances.length, min: 0, max: 20, instances });
  groups.addGroup({ target: OTHER, desired: 1, min: 0, max: 20, instances: [vm('other', 60)] });
  const published: HealthCounts[] = [];
  const lines: Record<string, unknown>[] = [];
  return {
    groups,
    published,
    lines,
    deps: {
      groups,
      executors: {
        list: async () => {
          if (records instanceof Error) {
            throw records;
          }
          return records;
        },
      },
      metrics: {
        publish: async (counts) => {
          published.push(counts);
        },
      },
      clock: () => NOW,
      logger: createJsonLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    },
  };
}

const CONFIG = {
  environment: 'prod',
  health: { ...DEFAULT_HEALTH, maxReplacementFraction: 1 },
  fleets: [fleet('codeintel', TARGET), fleet('batches', OTHER, 'shadow')],
};

/** Ten instances, two broken: one whose executor never came (30 minutes ago), one whose executor went silent (20). */
const FLEET_WITH_TWO_BROKEN = [
  ...Array.from({ length: 8 }, (_, i) => vm(`10-0-0-${i}`, 60)),
  vm('stale', 60),
  vm('orphan', 30),
];
const BEATS = [
  ...Array.from({ length: 8 }, (_, i) => executor(`10-0-0-${i}`, 0)),
  executor('stale', 20),
  executor('other', 0),
];

describe('checkFleetHealth', () => {
  it('judges each fleet, replaces the broken instances of a direct fleet, and publishes the counts', async () => {
    // Prepare
    const h = harness(BEATS, FLEET_WITH_TWO_BROKEN);

    // Act
    const report = await checkFleetHealth(h.deps, CONFIG);

    // Assess
    const [codeintel, batches] = report.fleets;
    expect(codeintel).toMatchObject({
      counts: { healthy: 8, stale: 1, orphan: 1, booting: 0, outdated: 0 },
      replaced: ['orphan', 'stale'],
      refused: [],
    });
    expect(batches).toMatchObject({ mode: 'shadow', counts: { healthy: 1 }, replaced: [], wouldReplace: [] });
    expect(h.groups.calls.replaceInstances).toBe(1);
    expect(h.published).toEqual([
      {
        environment: 'prod',
        at: NOW,
        fleets: [
          {
            fleet: 'codeintel',
            counts: codeintel?.counts,
            replacements: { replaced: 2, 'would-replace': 0, refused: 0 },
            held: false,
          },
          {
            fleet: 'batches',
            counts: batches?.counts,
            replacements: { replaced: 0, 'would-replace': 0, refused: 0 },
            held: false,
          },
        ],
        unexplainedExecutors: 0,
      },
    ]);
    expect(h.lines.filter((line) => line.message === 'fleet health')).toHaveLength(2);
  });

  it('publishes per fleet how many were replaced, would have been, and were refused, and whether it was held', async () => {
    // Prepare: beside codeintel (direct, two replaced) and batches (shadow), a fleet the cloud refuses and one whose
    // instances broke all at once
    const h = harness([...BEATS, executor('r-ok', 0), executor('h-ok', 0)], FLEET_WITH_TWO_BROKEN);
    const refusing: GroupTarget = { ...TARGET, autoScalingGroup: 'refusing' };
    const holding: GroupTarget = { ...TARGET, autoScalingGroup: 'holding' };
    h.groups.setInstances(OTHER, [vm('other', 60), vm('b-orphan', 30)]);
    h.groups.addGroup({
      target: refusing,
      desired: 2,
      min: 0,
      max: 20,
      instances: [vm('r-ok', 60), vm('r-orphan', 30)],
    });
    h.groups.addGroup({
      target: holding,
      desired: 3,
      min: 0,
      max: 20,
      instances: [vm('h-ok', 60), vm('h-orphan-1', 30), vm('h-orphan-2', 30)],
    });
    const deps: HealthDeps = {
      ...h.deps,
      groups: {
        ...h.groups,
        replaceInstances: (target, ids, options) =>
          targetKey(target) === targetKey(refusing)
            ? Promise.reject(new Error('AccessDenied: not authorized to terminate'))
            : h.groups.replaceInstances(target, ids, options),
      },
    };
    const config = {
      ...CONFIG,
      fleets: [...CONFIG.fleets, fleet('refusing', refusing), fleet('holding', holding)],
    };

    // Act
    const report = await checkFleetHealth(deps, config);

    // Assess: the report says the same, instance by instance
    expect(
      report.fleets.map(({ fleet, replaced, wouldReplace, refused, held }) => ({
        fleet,
        replaced,
        wouldReplace,
        refused: refused.map(({ id }) => id),
        held: held !== undefined,
      })),
    ).toEqual([
      { fleet: 'codeintel', replaced: ['orphan', 'stale'], wouldReplace: [], refused: [], held: false },
      { fleet: 'batches', replaced: [], wouldReplace: ['b-orphan'], refused: [], held: false },
      { fleet: 'refusing', replaced: [], wouldReplace: [], refused: ['r-orphan'], held: false },
      { fleet: 'holding', replaced: [], wouldReplace: [], refused: [], held: true },
    ]);
    expect(h.published[0]?.fleets.map(({ fleet, replacements, held }) => ({ fleet, replacements, held }))).toEqual([
      { fleet: 'codeintel', replacements: { replaced: 2, 'would-replace': 0, refused: 0 }, held: false },
      { fleet: 'batches', replacements: { replaced: 0, 'would-replace': 1, refused: 0 }, held: false },
      { fleet: 'refusing', replacements: { replaced: 0, 'would-replace': 0, refused: 1 }, held: false },
      { fleet: 'holding', replacements: { replaced: 0, 'would-replace': 0, refused: 0 }, held: true },
    ]);
  });

  it('only reports what a shadow fleet would replace', async () => {
    // Prepare
    const h = harness(BEATS, FLEET_WITH_TWO_BROKEN);
    const shadow = { ...CONFIG, fleets: [fleet('codeintel', TARGET, 'shadow')] };

    // Act
    const report = await checkFleetHealth(h.deps, shadow);

    // Assess
    expect(report.fleets[0]).toMatchObject({ replaced: [], wouldReplace: ['orphan', 'stale'] });
    expect(h.groups.calls.replaceInstances).toBe(0);
  });

  it('changes nothing and publishes nothing when asked only to report, as a GET of the health page is', async () => {
    // Prepare
    const h = harness(BEATS, FLEET_WITH_TWO_BROKEN);

    // Act
    const report = await checkFleetHealth(h.deps, CONFIG, { act: false });

    // Assess
    expect(report.fleets[0]).toMatchObject({ replaced: [], wouldReplace: ['orphan', 'stale'] });
    expect(h.groups.calls.replaceInstances).toBe(0);
    expect(h.published).toEqual([]);
  });

  it('replaces nothing, and publishes nothing, when Sourcegraph cannot be read', async () => {
    // Prepare
    const h = harness(new Error('HTTP 502 from Sourcegraph'), FLEET_WITH_TWO_BROKEN);

    // Act
    const report = await checkFleetHealth(h.deps, CONFIG);

    // Assess
    expect(report.sourcegraph).toEqual({ ok: false, error: 'HTTP 502 from Sourcegraph' });
    expect(report.fleets[0]).toMatchObject({ unknown: expect.stringContaining('Sourcegraph could not be read') });
    expect(h.groups.calls.replaceInstances).toBe(0);
    expect(h.published).toEqual([]);
  });

  it('names executors heartbeating from hosts that no fleet explains', async () => {
    // Prepare
    const stray = executor('stray', 1);
    const odd = { ...executor('x', 0), name: 'custom-executor', host: undefined };
    const h = harness([...BEATS, stray, odd, executor('long-gone', 90)], FLEET_WITH_TWO_BROKEN);

    // Act
    const report = await checkFleetHealth(h.deps, CONFIG);

    // Assess
    expect(report.unexplained).toEqual([
      { name: stray.name, host: 'ip-stray', lastSeenAt: stray.lastSeenAt },
      { name: 'custom-executor', lastSeenAt: odd.lastSeenAt },
    ]);
    expect(h.published[0]?.unexplainedExecutors).toBe(2);
  });

  it('reports the cloud’s refusals and keeps going when a group cannot be read', async () => {
    // Prepare
    const h = harness(BEATS, FLEET_WITH_TWO_BROKEN);
    h.groups.failNext('replaceInstances');
    const config = { ...CONFIG, fleets: [...CONFIG.fleets, fleet('ghost', { ...TARGET, autoScalingGroup: 'ghost' })] };

    // Act
    const report = await checkFleetHealth(h.deps, config);

    // Assess
    expect(report.fleets[0]?.refused.map((refusal) => refusal.id)).toEqual(['orphan', 'stale']);
    expect(report.fleets[2]).toMatchObject({ fleet: 'ghost', unknown: expect.any(String), instances: [] });
  });

  it('still reports and replaces when the counts cannot be published', async () => {
    // Prepare
    const h = harness(BEATS, FLEET_WITH_TWO_BROKEN);
    const deps = { ...h.deps, metrics: { publish: () => Promise.reject(new Error('throttled')) } };

    // Act
    const report = await checkFleetHealth(deps, CONFIG);

    // Assess
    expect(report.fleets[0]?.replaced).toEqual(['orphan', 'stale']);
    expect(h.lines.find((line) => line.message === 'health metrics not published')).toBeDefined();
  });
});
