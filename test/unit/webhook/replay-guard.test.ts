import { describe, expect, it } from 'vitest';
import { createInMemoryReplayGuard, ReplayGuardFullError } from '../../../shared/webhook/replay-guard.ts';

function guardAt(start: number, capacity?: number) {
  let now = start;
  const guard = createInMemoryReplayGuard({ clock: () => now, ...(capacity === undefined ? {} : { capacity }) });
  return {
    guard,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createInMemoryReplayGuard', () => {
  it('grants a key once, refuses it until it expires, then forgets it', async () => {
    // Prepare
    const { guard, advance } = guardAt(1_000);

    // Act
    const first = await guard.claim('a', 5_000);
    const again = await guard.claim('a', 5_000);
    advance(3_999);
    const lastMoment = await guard.claim('a', 5_000);
    advance(1);
    const afterExpiry = await guard.claim('a', 9_000);

    // Assess
    expect([first, again, lastMoment, afterExpiry]).toEqual([true, false, false, true]);
  });

  it('lets exactly one of many concurrent claims of a key win', async () => {
    // Prepare
    const { guard } = guardAt(0);

    // Act
    const results = await Promise.all(Array.from({ length: 20 }, () => guard.claim('same', 60_000)));

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('drops expired keys, so memory follows the live window rather than all traffic', async () => {
    // Prepare
    const { guard, advance } = guardAt(0);
    for (let index = 0; index < 50; index += 1) {
      await guard.claim(`old-${index}`, 10_000);
    }

    // Act
    advance(10_000);
    await guard.claim('new', 20_000);

    // Assess
    expect(guard.size()).toBe(1);
  });

  it('holds nothing for a key whose window has already closed', async () => {
    // Prepare
    const { guard } = guardAt(10_000);

    // Act
    const granted = await guard.claim('late', 10_000);

    // Assess
    expect(granted).toBe(true);
    expect(guard.size()).toBe(0);
  });

  it('refuses new keys when full, saying when a slot frees, and accepts again once one expires', async () => {
    // Prepare
    const { guard, advance } = guardAt(0, 2);
    await guard.claim('a', 30_500);
    await guard.claim('b', 60_000);

    // Act
    const full = await guard.claim('c', 60_000).catch((error: unknown) => error);
    const stillReplayed = await guard.claim('a', 30_500);
    advance(30_500);
    const freed = await guard.claim('c', 60_000);

    // Assess
    expect(full).toBeInstanceOf(ReplayGuardFullError);
    expect(full).toMatchObject({ retryAfterSeconds: 31 });
    expect(stillReplayed).toBe(false);
    expect(freed).toBe(true);
    expect(guard.size()).toBe(2);
  });

  it('refuses a capacity that is not a positive integer', () => {
    // Act
    const make = (capacity: number) => () => createInMemoryReplayGuard({ clock: () => 0, capacity });

    // Assess
    expect(make(0)).toThrow(RangeError);
    expect(make(1.5)).toThrow(RangeError);
  });
});
