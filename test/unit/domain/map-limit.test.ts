import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../../shared/domain/map-limit.ts';

describe('mapLimit', () => {
  it('keeps the order of the input and never runs more than the limit at once', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    const run = async (n: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, (n % 3) * 2));
      running--;
      return n * 10;
    };

    // Act
    const results = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, run);
    const empty = await mapLimit([], 3, run);

    // Assess
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
    expect(empty).toEqual([]);
  });
});
