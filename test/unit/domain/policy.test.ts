import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CapacityInputs,
  Direction,
  decideCapacity,
  effectiveBounds,
  instancesFor,
  Reason,
} from '../../../shared/domain/policy.ts';

const NOW = 1_700_000_000_000;

function inputs(overrides: Partial<CapacityInputs> = {}): CapacityInputs {
  return {
    now: NOW,
    demand: { known: true, jobs: 0, observedAt: NOW },
    recentPeak: { known: true, jobs: 0 },
    current: 2,
    booting: 0,
    jobsPerInstance: 10,
    fleet: { min: 1, max: 20 },
    group: { min: 0, max: 100 },
    maxDemandAgeMs: 600_000,
    ...overrides,
  };
}

describe('decideCapacity', () => {
  it.each([
    // name, overrides, target, reason
    ['scales out at once to ceil(depth / jobsPerInstance)', { demand: known(95) }, 10, Reason.ScaleOut],
    ['clamps scale-out to the fleet maximum', { demand: known(1000) }, 20, Reason.ScaleOut],
    ['clamps scale-out to the group maximum', { demand: known(1000), group: { min: 0, max: 7 } }, 7, Reason.ScaleOut],
    ['holds when the group has what demand needs', { demand: known(20) }, 2, Reason.AtTarget],
    [
      'scales in when demand and window allow',
      { demand: known(0), recentPeak: { known: true, jobs: 0 } },
      1,
      Reason.ScaleIn,
    ],
    [
      'scales in only down to what the window peak needed',
      { current: 8, demand: known(5), recentPeak: { known: true, jobs: 41 } },
      5,
      Reason.ScaleIn,
    ],
    [
      'holds while the window peak still needs the current size',
      { current: 5, demand: known(0), recentPeak: { known: true, jobs: 50 } },
      5,
      Reason.Stabilizing,
    ],
    [
      'holds scale-in while instances are booting',
      { current: 5, booting: 1, demand: known(0) },
      5,
      Reason.BootingHoldsScaleIn,
    ],
    [
      'holds scale-in when the window peak is unknown',
      { current: 5, demand: known(0), recentPeak: { known: false, reason: 'read failed' } },
      5,
      Reason.WindowUnknown,
    ],
    [
      'holds when depth is unknown',
      { current: 5, demand: { known: false, reason: 'HTTP 502' } },
      5,
      Reason.DemandUnknown,
    ],
    ['holds when depth is stale', { current: 5, demand: known(0, NOW - 601_000) }, 5, Reason.DemandStale],
    [
      'raises to the minimum even when depth is unknown',
      { current: 0, fleet: { min: 2, max: 20 }, demand: { known: false, reason: 'timeout' } },
      2,
      Reason.RaiseToMin,
    ],
    ['raises to the minimum when demand needs less', { current: 0, fleet: { min: 3, max: 20 } }, 3, Reason.RaiseToMin],
    ['scales an oversized group in to the maximum', { current: 30, demand: known(1000) }, 20, Reason.ScaleIn],
    [
      'keeps an oversized group when depth is unknown',
      { current: 30, demand: { known: false, reason: 'x' } },
      30,
      Reason.DemandUnknown,
    ],
  ] as const)('%s', (_name, overrides, target, reason) => {
    // Prepare
    const given = inputs(overrides);

    // Act
    const decision = decideCapacity(given);

    // Assess
    expect(decision.target).toBe(target);
    expect(decision.reason).toBe(reason);
    expect(decision.direction).toBe(
      target > given.current ? Direction.Up : target < given.current ? Direction.Down : Direction.Hold,
    );
    expect(decision.detail.length).toBeGreaterThan(0);
  });

  it('narrows the fleet bounds by the group bounds, the group winning when they do not overlap', () => {
    expect(effectiveBounds({ min: 1, max: 20 }, { min: 2, max: 10 })).toEqual({ min: 2, max: 10 });
    expect(effectiveBounds({ min: 5, max: 20 }, { min: 0, max: 3 })).toEqual({ min: 3, max: 3 });
  });

  it('counts a partial instance as a whole one and treats negative depth as none', () => {
    expect(instancesFor(1, 360)).toBe(1);
    expect(instancesFor(360, 360)).toBe(1);
    expect(instancesFor(361, 360)).toBe(2);
    expect(instancesFor(-5, 10)).toBe(0);
  });
});

describe('decideCapacity properties', () => {
  const arbitraryInputs = fc
    .record({
      jobs: fc.nat(100_000),
      peak: fc.nat(100_000),
      current: fc.nat(200),
      booting: fc.nat(5),
      jobsPerInstance: fc.integer({ min: 1, max: 500 }),
      min: fc.nat(50),
      span: fc.nat(100),
      groupMin: fc.nat(20),
      groupSpan: fc.nat(300),
      demandKnown: fc.boolean(),
      peakKnown: fc.boolean(),
      ageMs: fc.nat(1_200_000),
    })
    .map(
      (r): CapacityInputs => ({
        now: NOW,
        demand: r.demandKnown
          ? { known: true, jobs: r.jobs, observedAt: NOW - r.ageMs }
          : { known: false, reason: 'x' },
        recentPeak: r.peakKnown ? { known: true, jobs: r.peak } : { known: false, reason: 'x' },
        current: r.current,
        booting: r.booting,
        jobsPerInstance: r.jobsPerInstance,
        fleet: { min: r.min, max: r.min + r.span },
        group: { min: r.groupMin, max: r.groupMin + r.groupSpan },
        maxDemandAgeMs: 600_000,
      }),
    );

  it('stays within the effective bounds whenever it changes the size', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        const decision = decideCapacity(given);
        const bounds = effectiveBounds(given.fleet, given.group);
        return decision.target === given.current || (decision.target >= bounds.min && decision.target <= bounds.max);
      }),
    );
  });

  it('stays within the effective bounds when the current size is within them', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        const bounds = effectiveBounds(given.fleet, given.group);
        fc.pre(given.current >= bounds.min && given.current <= bounds.max);
        const decision = decideCapacity(given);
        return decision.target >= bounds.min && decision.target <= bounds.max;
      }),
    );
  });

  it('never lowers capacity on missing or stale depth, nor while booting, nor with an unknown window', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        const stale = given.demand.known && NOW - given.demand.observedAt > given.maxDemandAgeMs;
        fc.pre(!given.demand.known || stale || given.booting > 0 || !given.recentPeak.known);
        const decision = decideCapacity(given);
        const bounds = effectiveBounds(given.fleet, given.group);
        // Lowering an oversized group to the configured maximum is the one scale-in allowed without fresh data
        // only when depth is known; with missing depth nothing is lowered at all.
        return decision.target >= Math.min(given.current, given.demand.known && !stale ? bounds.max : given.current);
      }),
    );
  });

  it('never scales in below what the window peak needed', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        const decision = decideCapacity(given);
        fc.pre(decision.direction === Direction.Down && given.recentPeak.known);
        const bounds = effectiveBounds(given.fleet, given.group);
        const peakNeeds = Math.min(
          bounds.max,
          Math.max(bounds.min, instancesFor(given.recentPeak.known ? given.recentPeak.jobs : 0, given.jobsPerInstance)),
        );
        return decision.target >= peakNeeds;
      }),
    );
  });

  it('covers current demand whenever it scales out', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        const decision = decideCapacity(given);
        fc.pre(decision.reason === Reason.ScaleOut && given.demand.known);
        const bounds = effectiveBounds(given.fleet, given.group);
        const jobs = given.demand.known ? given.demand.jobs : 0;
        return decision.target === Math.min(bounds.max, instancesFor(jobs, given.jobsPerInstance));
      }),
    );
  });

  it('is a function of its inputs alone', () => {
    fc.assert(
      fc.property(arbitraryInputs, (given) => {
        expect(decideCapacity(structuredClone(given))).toEqual(decideCapacity(given));
      }),
    );
  });
});

function known(jobs: number, observedAt = NOW) {
  return { known: true as const, jobs, observedAt };
}

describe('decideCapacity with a fleet’s controls', () => {
  it.each([
    // name, overrides, target, reason
    [
      'limits a scale-out to the step, toward what demand wants',
      { demand: known(95), controls: { maxScaleOutStep: 3 } },
      5,
      Reason.ScaleOut,
    ],
    [
      'limits a scale-in to the step',
      { current: 9, demand: known(0), controls: { maxScaleInStep: 2 } },
      7,
      Reason.ScaleIn,
    ],
    [
      'holds a scale-out while scale-out is paused',
      { demand: known(95), controls: { pause: 'scale-out' } },
      2,
      Reason.Paused,
    ],
    [
      'holds a scale-in while scale-in is paused',
      { current: 9, demand: known(0), controls: { pause: 'scale-in' } },
      9,
      Reason.Paused,
    ],
    [
      'still scales out while only scale-in is paused',
      { demand: known(95), controls: { pause: 'scale-in' } },
      10,
      Reason.ScaleOut,
    ],
    [
      'holds below the minimum when both directions are paused, even on unknown demand',
      { current: 0, demand: { known: false, reason: 'down' }, controls: { pause: 'both' } },
      0,
      Reason.DemandUnknown,
    ],
    [
      'keeps the idle buffer warm while jobs exist',
      { demand: known(15), controls: { idleBuffer: 2 } },
      4,
      Reason.ScaleOut,
    ],
    [
      'drops the idle buffer once no job exists (and the window saw none)',
      { current: 4, demand: known(0), controls: { idleBuffer: 2 } },
      1,
      Reason.ScaleIn,
    ],
    [
      'limits a scale-in to what is left of the window’s removals',
      {
        current: 9,
        demand: known(0),
        controls: { maxScaleInPerWindow: 5 },
        removedInWindow: { known: true, count: 2 },
      },
      6,
      Reason.ScaleIn,
    ],
    [
      'takes the smaller of the step and the window’s removals left',
      {
        current: 9,
        demand: known(0),
        controls: { maxScaleInStep: 2, maxScaleInPerWindow: 5 },
        removedInWindow: { known: true, count: 2 },
      },
      7,
      Reason.ScaleIn,
    ],
    [
      'holds a scale-in once the window’s removals are spent',
      {
        current: 9,
        demand: known(0),
        controls: { maxScaleInPerWindow: 3 },
        removedInWindow: { known: true, count: 4 },
      },
      9,
      Reason.RemovalLimit,
    ],
    [
      'holds a limited scale-in while the window’s removals cannot be counted',
      {
        current: 9,
        demand: known(0),
        controls: { maxScaleInPerWindow: 3 },
        removedInWindow: { known: false, reason: 'read failed' },
      },
      9,
      Reason.RemovalLimit,
    ],
    [
      'still scales out when the window’s removals are spent',
      { demand: known(95), controls: { maxScaleInPerWindow: 1 }, removedInWindow: { known: true, count: 1 } },
      10,
      Reason.ScaleOut,
    ],
    [
      'keeps the buffer in the window floor while the window saw jobs',
      { current: 6, demand: known(0), recentPeak: { known: true, jobs: 15 }, controls: { idleBuffer: 2 } },
      4,
      Reason.ScaleIn,
    ],
  ] as const)('%s', (_, overrides, target, reason) => {
    const decision = decideCapacity(inputs(overrides as Partial<CapacityInputs>));
    expect({ target: decision.target, reason: decision.reason }).toEqual({ target, reason });
  });

  it('says when a step limit or a pause shaped the decision', () => {
    expect(decideCapacity(inputs({ demand: known(95), controls: { maxScaleOutStep: 3 } })).detail).toContain(
      'step limit 3; 10 wanted',
    );
    expect(decideCapacity(inputs({ demand: known(95), controls: { pause: 'both' } })).detail).toContain(
      'scale-out paused, holding 2 (wanted 10)',
    );
  });

  it('never moves further, or in another direction, than without controls', () => {
    const controlsArb = fc.record(
      {
        pause: fc.constantFrom('none' as const, 'scale-in' as const, 'scale-out' as const, 'both' as const),
        maxScaleOutStep: fc.integer({ min: 1, max: 10 }),
        maxScaleInStep: fc.integer({ min: 1, max: 10 }),
        maxScaleInPerWindow: fc.integer({ min: 1, max: 10 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        controlsArb,
        fc.integer({ min: 0, max: 12 }),
        (current, jobs, peak, controls, removed) => {
          const base = inputs({
            current,
            demand: known(jobs),
            recentPeak: { known: true, jobs: Math.max(jobs, peak) },
            removedInWindow: { known: true, count: removed },
          });
          const free = decideCapacity(base).target;
          const limited = decideCapacity({ ...base, controls }).target;
          const between = Math.min(current, free) <= limited && limited <= Math.max(current, free);
          const bounds = effectiveBounds(base.fleet, base.group);
          // Below the minimum, an unpaused fleet is raised to it whatever the controls say about steps.
          expect(between || (current < bounds.min && limited >= current)).toBe(true);
          if (controls.maxScaleInPerWindow !== undefined) {
            expect(current - limited).toBeLessThanOrEqual(Math.max(0, controls.maxScaleInPerWindow - removed));
          }
        },
      ),
    );
  });
});
