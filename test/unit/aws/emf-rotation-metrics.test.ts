import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmfRotationMetrics } from '../../../shared/aws/emf-rotation-metrics.ts';
import {
  FLEETPLANE_NAMESPACE,
  ROTATION_DURATION_METRIC,
  ROTATION_FAILED_METRIC,
  ROTATION_SUCCEEDED_METRIC,
} from '../../../shared/aws/fleetplane-metrics.ts';
import { MetricsPublishError } from '../../../shared/ports/errors.ts';
import type { RotationOutcome } from '../../../shared/ports/rotation-metrics.ts';
import { defineRotationMetricsContract, type StoredRotationValue } from '../../contract/rotation-metrics.contract.ts';
import { captureStdout, type EmfDocument, emfDocuments, flattenEmf } from '../../support/emf.ts';

/** Recent: CloudWatch drops EMF timestamps more than 14 days old, and Powertools warns about them. */
const AT = Date.now() - 10_000;

const OUTCOME: RotationOutcome = { environment: 'prod', at: AT, succeeded: true, durationMs: 812 };

let written: string[];

beforeEach(() => {
  written = captureStdout();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const documents = (): EmfDocument[] => emfDocuments(written);

const METRICS: Readonly<Record<string, StoredRotationValue['metric']>> = {
  [ROTATION_SUCCEEDED_METRIC]: 'succeeded',
  [ROTATION_FAILED_METRIC]: 'failed',
  [ROTATION_DURATION_METRIC]: 'duration-ms',
};

/**
 * The printed documents as CloudWatch would store them: each metric of each document at the document's timestamp,
 * under its dimension `environment`. Anything else (another namespace, dimension set or metric) fails the read, so
 * strays are seen.
 */
function storedOf(docs: readonly EmfDocument[]): StoredRotationValue[] {
  return docs.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap(({ Namespace, Dimensions, Metrics }) => {
      const environment = doc.environment;
      if (
        Namespace !== FLEETPLANE_NAMESPACE ||
        JSON.stringify(Dimensions) !== JSON.stringify([['environment']]) ||
        typeof environment !== 'string'
      ) {
        throw new Error(`unexpected EMF document ${JSON.stringify(doc)}`);
      }
      return Metrics.map(({ Name }): StoredRotationValue => {
        const metric = METRICS[Name];
        const value = doc[Name];
        if (metric === undefined || typeof value !== 'number') {
          throw new Error(`unexpected EMF metric ${Name} in ${JSON.stringify(doc)}`);
        }
        return { metric, environment, value, at: doc._aws.Timestamp };
      });
    }),
  );
}

// Nothing to fail: EMF is a line on stdout, and Node's console drops errors writing to its stream.
defineRotationMetricsContract(
  'EMF on stdout, read as CloudWatch would',
  () => ({ metrics: createEmfRotationMetrics(), stored: () => storedOf(documents()) }),
  { storeCanFail: false },
);

describe('createEmfRotationMetrics', () => {
  it('prints one EMF document in the fleetplane namespace, dimension environment only, stamped with the rotation’s end', async () => {
    // Act
    await createEmfRotationMetrics().publish(OUTCOME);

    // Assess
    const docs = documents();
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc?._aws.Timestamp).toBe(AT);
    expect(doc?._aws.CloudWatchMetrics).toHaveLength(1);
    expect(doc?._aws.CloudWatchMetrics[0]?.Namespace).toBe('fleetplane');
    // Exactly {environment}, and no Powertools `service` dimension an alarm would have to name.
    expect(doc?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['environment']]);
    expect(doc).not.toHaveProperty('service');
    expect(flattenEmf(docs)).toEqual([
      'RotationSucceeded{environment=prod} = 1 Count',
      'RotationFailed{environment=prod} = 0 Count',
      'RotationDuration{environment=prod} = 812 Milliseconds',
    ]);
  });

  it('says a failed rotation failed, with both outcomes written so neither series has gaps', async () => {
    // Act
    await createEmfRotationMetrics().publish({ ...OUTCOME, environment: 'staging', succeeded: false, durationMs: 0 });

    // Assess
    expect(flattenEmf(documents())).toEqual([
      'RotationSucceeded{environment=staging} = 0 Count',
      'RotationFailed{environment=staging} = 1 Count',
      'RotationDuration{environment=staging} = 0 Milliseconds',
    ]);
  });

  it.each<[string, RotationOutcome]>([
    ['an empty environment', { ...OUTCOME, environment: '' }],
    ['an invalid time', { ...OUTCOME, at: Number.NaN }],
    ['a negative duration', { ...OUTCOME, durationMs: -1 }],
    ['an infinite duration', { ...OUTCOME, durationMs: Number.POSITIVE_INFINITY }],
  ])('refuses %s before printing anything', async (_, refused) => {
    // Act
    const publishing = createEmfRotationMetrics().publish(refused);

    // Assess
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    expect(written).toEqual([]);
  });

  it('prints nothing once the signal has aborted, refusing as every metrics adapter does', async () => {
    // Prepare
    const reason = new Error('rotation budget spent');

    // Act
    const publishing = createEmfRotationMetrics()
      .publish(OUTCOME, { signal: AbortSignal.abort(reason) })
      .catch((error: unknown) => error);

    // Assess
    expect(await publishing).toBeInstanceOf(MetricsPublishError);
    expect(await publishing).toMatchObject({ retryable: true, cause: reason });
    expect(written).toEqual([]);
  });
});
