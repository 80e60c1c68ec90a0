import { describe, expect, it } from 'vitest';
import {
  allocatedSize,
  normalizeAllocations,
  seriesAllocation,
  seriesValue,
} from '../../../shared/domain/queue-metric.ts';
import { queuesOf, seriesNameOf } from '../../../shared/domain/queues.ts';
import type { QueueDepths } from '../../../shared/domain/readings.ts';

const AWS_ONLY = { aws: true, gcp: false };
const BOTH = { aws: true, gcp: true };

describe('normalizeAllocations (the worker rules)', () => {
  it('gives every queue 100% to each configured cloud when nothing is set', () => {
    expect(normalizeAllocations({}, AWS_ONLY).allocations).toEqual({
      batches: { aws: 1, gcp: 0 },
      codeintel: { aws: 1, gcp: 0 },
    });
  });

  it('warns that both clouds get everything when both are configured and nothing is set', () => {
    // Act
    const result = normalizeAllocations({ batches: { aws: 0.25, gcp: 0.75 } }, BOTH);

    // Assess
    expect(result.allocations).toEqual({ batches: { aws: 0.25, gcp: 0.75 }, codeintel: { aws: 1, gcp: 1 } });
    expect(result.warnings).toEqual([expect.stringContaining('codeintel')]);
  });

  it('treats an empty entry like no entry', () => {
    expect(normalizeAllocations({ codeintel: {} }, AWS_ONLY).allocations.codeintel).toEqual({ aws: 1, gcp: 0 });
  });

  it('gives 0 to a cloud an entry does not name', () => {
    expect(normalizeAllocations({ codeintel: { gcp: 1 } }, BOTH).allocations.codeintel).toEqual({ aws: 0, gcp: 1 });
  });

  it('forces an unconfigured cloud to 0, with a warning', () => {
    // Act
    const result = normalizeAllocations({ codeintel: { aws: 0.5, gcp: 0.5 } }, AWS_ONLY);

    // Assess
    expect(result.allocations.codeintel).toEqual({ aws: 0.5, gcp: 0 });
    expect(result.warnings).toEqual([expect.stringContaining('gcp is not configured')]);
  });
});

describe('series values', () => {
  const allocations = normalizeAllocations({ codeintel: { aws: 0.5 }, batches: { aws: 0.3 } }, AWS_ONLY).allocations;
  const depths: QueueDepths = {
    codeintel: { ok: true, depth: 7, observedAt: 1 },
    batches: { ok: true, depth: 10, observedAt: 1 },
  };

  it('truncates count × allocation like the worker', () => {
    expect(allocatedSize(7, 0.5)).toBe(3);
    expect(allocatedSize(10, 0.3)).toBe(3);
    expect(allocatedSize(0, 1)).toBe(0);
  });

  it('reports the multi-queue series as the sum of both queues with the codeintel allocation', () => {
    expect(seriesAllocation('batches_codeintel', allocations, 'aws')).toBe(0.5);
    expect(seriesValue('batches_codeintel', depths, allocations, 'aws')).toEqual({
      ok: true,
      series: 'batches_codeintel',
      depth: 17,
      value: 8,
    });
  });

  it('is unknown when any of its queues is unknown, never a partial sum', () => {
    // Prepare
    const partial: QueueDepths = { ...depths, batches: { ok: false, reason: 'HTTP 502' } };

    // Act
    const multi = seriesValue('batches_codeintel', partial, allocations, 'aws');
    const single = seriesValue('codeintel', partial, allocations, 'aws');

    // Assess
    expect(multi).toEqual({ ok: false, series: 'batches_codeintel', reason: 'queue batches: HTTP 502' });
    expect(single).toMatchObject({ ok: true, value: 3 });
  });

  it('is unknown when a queue was not read at all', () => {
    expect(seriesValue('batches', { codeintel: depths.codeintel }, allocations, 'aws')).toMatchObject({ ok: false });
  });
});

describe('series names', () => {
  it('sorts and joins queue names like Sourcegraph and its Terraform modules', () => {
    expect(seriesNameOf(['codeintel', 'batches'])).toBe('batches_codeintel');
    expect(seriesNameOf(['codeintel', 'codeintel'])).toBe('codeintel');
    expect(queuesOf('batches_codeintel')).toEqual(['batches', 'codeintel']);
    expect(() => seriesNameOf([])).toThrow(RangeError);
  });
});
