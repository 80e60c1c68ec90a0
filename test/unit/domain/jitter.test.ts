import { describe, expect, it } from 'vitest';
import { jitterOffsetMs } from '../../../shared/domain/jitter.ts';

describe('jitterOffsetMs', () => {
  it('is the same for a name every time, within the spread, and none without one', () => {
    expect(jitterOffsetMs('codeintel', 5_000)).toBe(jitterOffsetMs('codeintel', 5_000));
    expect(jitterOffsetMs('codeintel', 0)).toBe(0);
    for (const name of ['a', 'codeintel', 'batches', 'fleet-042', 'ünïcode']) {
      const offset = jitterOffsetMs(name, 5_000);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(5_000);
    }
  });

  it('spreads many fleets over the whole range', () => {
    const offsets = Array.from({ length: 200 }, (_, index) => jitterOffsetMs(`fleet-${index}`, 10_000));
    const buckets = new Set(offsets.map((offset) => Math.floor(offset / 1_000)));
    // 200 names land in every one of the ten one-second buckets.
    expect(buckets.size).toBe(10);
  });
});
