import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activityOf, chooseVictims, type ScaleInCandidate } from '../../../shared/domain/scale-in.ts';

const instance = (id: string, extra: Partial<ScaleInCandidate> = {}): ScaleInCandidate => ({
  id,
  inService: true,
  hostname: `ip-10-0-0-${id.slice(2)}`,
  launchedAt: 1_000 * Number(id.slice(2)),
  ...extra,
});

describe('activityOf', () => {
  const jobs = new Map([
    ['ip-10-0-0-1-0f3a', 0],
    ['ip-10-0-0-2-77b1', 2],
    ['ip-10-0-0-3-aaaa', 0],
    ['ip-10-0-0-3-bbbb', 1],
    ['ip-10-0-0-11-cccc', 0],
  ]);

  it.each([
    ['an executor with no jobs', instance('i-1'), { idle: true }],
    ['an executor running jobs', instance('i-2'), { idle: false, reason: 'running-jobs' }],
    ['two executors on one host, one busy (a restart)', instance('i-3'), { idle: false, reason: 'running-jobs' }],
    ['no executor on the host', instance('i-4'), { idle: false, reason: 'no-executor' }],
    ['no host name', instance('i-1', { hostname: undefined }), { idle: false, reason: 'no-hostname' }],
    ['an instance not in service', instance('i-1', { inService: false }), { idle: false, reason: 'not-in-service' }],
    ['a stopped VM whose executor exited', instance('i-4', { inService: false, exited: true }), { idle: true }],
    [
      'a VM seen stopped whose host runs a job now (restarted since)',
      instance('i-2', { inService: false, exited: true }),
      { idle: false, reason: 'running-jobs' },
    ],
  ])('%s', (_, candidate, expected) => {
    expect(activityOf(candidate, jobs)).toEqual(expected);
  });

  it('matches the host name and its dash, not a longer host name sharing the prefix', () => {
    // ip-10-0-0-1 must not claim ip-10-0-0-11's executor.
    expect(activityOf(instance('i-1'), new Map([['ip-10-0-0-11-cccc', 0]]))).toEqual({
      idle: false,
      reason: 'no-executor',
    });
  });
});

describe('chooseVictims', () => {
  const candidates = [instance('i-3'), instance('i-1'), instance('i-2'), instance('i-4', { launchedAt: undefined })];
  const allIdle = new Map(['1', '2', '3', '4'].map((n) => [`ip-10-0-0-${n}-x`, 0]));

  it('takes idle instances oldest first by default order, newest first when asked', () => {
    expect(chooseVictims(candidates, allIdle, 2, 'oldest-first')).toEqual(['i-1', 'i-2']);
    expect(chooseVictims(candidates, allIdle, 2, 'newest-first')).toEqual(['i-4', 'i-3']);
  });

  it('takes exited instances before idle ones, whatever the order', () => {
    const candidates = [instance('i-1'), instance('i-9', { inService: false, exited: true })];
    expect(chooseVictims(candidates, new Map([['ip-10-0-0-1-x', 0]]), 1, 'oldest-first')).toEqual(['i-9']);
  });

  it('skips busy instances and never takes more than asked, or than there are', () => {
    const jobs = new Map([...allIdle, ['ip-10-0-0-1-x', 1]]);
    expect(chooseVictims(candidates, jobs, 2, 'oldest-first')).toEqual(['i-2', 'i-3']);
    expect(chooseVictims(candidates, jobs, 10, 'oldest-first')).toEqual(['i-2', 'i-3', 'i-4']);
    expect(chooseVictims(candidates, jobs, 0, 'oldest-first')).toEqual([]);
  });

  it('only ever chooses idle instances, at most the count asked, each once', () => {
    const candidateArb = fc.record({
      n: fc.integer({ min: 1, max: 30 }),
      inService: fc.boolean(),
      hasHostname: fc.boolean(),
      launchedAt: fc.option(fc.integer({ min: 0, max: 1e6 }), { nil: undefined }),
      jobs: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(candidateArb, { selector: (c) => c.n, maxLength: 20 }),
        fc.integer({ min: 0, max: 25 }),
        fc.constantFrom('oldest-first' as const, 'newest-first' as const),
        (specs, count, order) => {
          const list = specs.map((spec) =>
            instance(`i-${spec.n}`, {
              inService: spec.inService,
              hostname: spec.hasHostname ? `ip-10-0-0-${spec.n}` : undefined,
              launchedAt: spec.launchedAt,
            }),
          );
          const jobs = new Map(
            specs.flatMap((spec) => (spec.jobs === undefined ? [] : [[`ip-10-0-0-${spec.n}-x`, spec.jobs] as const])),
          );
          const victims = chooseVictims(list, jobs, count, order);
          expect(victims.length).toBeLessThanOrEqual(count);
          expect(new Set(victims).size).toBe(victims.length);
          for (const id of victims) {
            const spec = specs.find((candidate) => `i-${candidate.n}` === id);
            expect(spec).toMatchObject({ inService: true, hasHostname: true, jobs: 0 });
          }
        },
      ),
    );
  });
});
