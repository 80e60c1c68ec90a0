import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmfCycleMetrics } from '../../../shared/aws/emf-cycle-metrics.ts';
import type { CycleSummary } from '../../../shared/ports/cycle-metrics.ts';
import { MetricsPublishError } from '../../../shared/ports/errors.ts';
import { captureStdout, type EmfDocument, emfDocuments, flattenEmf } from '../../support/emf.ts';

const AT = Date.now() - 10_000;

const SUMMARY: CycleSummary = {
  environment: 'prod',
  at: AT,
  succeeded: true,
  durationMs: 812,
  sourcegraphLatencyMs: 140,
  queueDepths: [
    { series: 'codeintel', depth: 95 },
    { series: 'batches', depth: 0 },
  ],
  fleets: [
    { fleet: 'codeintel', reason: 'scale-out', current: 2, desired: 10 },
    { fleet: 'gone', reason: 'group-unavailable' },
  ],
  errors: { sourcegraph: 0, cloud: 1, metrics: 0 },
};

let written: string[];

beforeEach(() => {
  written = captureStdout();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const documents = (): EmfDocument[] => emfDocuments(written);

describe('createEmfCycleMetrics', () => {
  it('prints one EMF document per dimension set in the fleetplane namespace, stamped with the cycle start', async () => {
    // Act
    await createEmfCycleMetrics().publish(SUMMARY);

    // Assess
    const docs = documents();
    for (const doc of docs) {
      expect(doc._aws.Timestamp).toBe(AT);
      expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
      expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('fleetplane');
      // Exactly one dimension set each, and no Powertools `service` dimension an alarm would have to name.
      expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toHaveLength(1);
      expect(doc).not.toHaveProperty('service');
    }
    expect(flattenEmf(docs)).toEqual([
      'CycleSucceeded{environment=prod} = 1 Count',
      'CycleFailed{environment=prod} = 0 Count',
      'CycleDuration{environment=prod} = 812 Milliseconds',
      'SourcegraphLatency{environment=prod} = 140 Milliseconds',
      'QueueDepth{environment=prod,series=codeintel} = 95 Count',
      'QueueDepth{environment=prod,series=batches} = 0 Count',
      'FleetCurrentSize{environment=prod,fleet=codeintel} = 2 Count',
      'FleetDesiredSize{environment=prod,fleet=codeintel} = 10 Count',
      'ScaleDecisions{environment=prod,fleet=codeintel,reason=scale-out} = 1 Count',
      'ScaleDecisions{environment=prod,fleet=gone,reason=group-unavailable} = 1 Count',
      'Errors{environment=prod,source=sourcegraph} = 0 Count',
      'Errors{environment=prod,source=cloud} = 1 Count',
      'Errors{environment=prod,source=metrics} = 0 Count',
    ]);
  });

  it('says a failed cycle failed and leaves out a latency it does not know', async () => {
    // Act
    const { sourcegraphLatencyMs: _, ...unknown } = SUMMARY;
    await createEmfCycleMetrics().publish({ ...unknown, succeeded: false, queueDepths: [], fleets: [] });

    // Assess
    const lines = flattenEmf(documents());
    expect(lines.slice(0, 3)).toEqual([
      'CycleSucceeded{environment=prod} = 0 Count',
      'CycleFailed{environment=prod} = 1 Count',
      'CycleDuration{environment=prod} = 812 Milliseconds',
    ]);
    expect(lines.some((line) => line.startsWith('SourcegraphLatency'))).toBe(false);
  });

  it('refuses a bad summary before printing anything', async () => {
    // Act
    const publishing = createEmfCycleMetrics().publish({ ...SUMMARY, durationMs: -1 });

    // Assess
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    expect(written).toEqual([]);
  });
});
