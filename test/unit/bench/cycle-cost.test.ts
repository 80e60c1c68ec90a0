import { describe, expect, it } from 'vitest';
import { benchFleets, describeOutcomes, FLEET_COUNT, peakOverlap } from '../../../bench/cycle-cost.ts';

describe('peakOverlap', () => {
  it.each([
    { name: 'no calls', ends: [], expected: 0 },
    { name: 'one wave of three', ends: [100, 101, 102], expected: 3 },
    { name: 'back-to-back calls', ends: [50, 100, 150], expected: 1 },
    { name: 'waves of two', ends: [50, 52, 102, 104], expected: 2 },
  ])('$name: $expected in flight at most', ({ ends, expected }) => {
    // Act
    const peak = peakOverlap(ends, 50);

    // Assess
    expect(peak).toBe(expected);
  });
});

describe('benchFleets', () => {
  it('makes the issue’s 100 direct-mode fleets, each with its own group, of all three kinds', () => {
    // Act
    const fleets = benchFleets();

    // Assess
    expect(fleets).toHaveLength(FLEET_COUNT);
    expect(new Set(fleets.map((fleet) => fleet.local.group)).size).toBe(FLEET_COUNT);
    expect(fleets.every((fleet) => fleet.local.mode === 'direct')).toBe(true);
    expect(new Set(fleets.map((fleet) => fleet.kind))).toEqual(
      new Set(['scale-out', 'at-target', 'scale-in-candidate']),
    );
  });
});

describe('describeOutcomes', () => {
  it('tallies actions and reasons in order of first appearance', () => {
    // Prepare
    const fleets = [
      { fleet: 'a', status: 'ok', action: 'resized', reason: 'scale-out' },
      { fleet: 'b', status: 'ok', action: 'none', reason: 'at-target' },
      { fleet: 'c', status: 'ok', action: 'resized', reason: 'scale-out' },
    ];

    // Act
    const text = describeOutcomes(fleets);

    // Assess
    expect(text).toBe('actions: resized 2, none 1; reasons: scale-out 2, at-target 1');
  });
});
