import { describe, expect, it } from 'vitest';
import { tooFrequentOnly } from '../../../shared/gcp/monitoring-rejections.ts';

const PREFIX = 'One or more TimeSeries could not be written: ';
const FREQUENT =
  'One or more points were written more frequently than the maximum sampling period configured for the metric.';
const ORDER =
  'Points must be written in order. One or more of the points specified had an older start time than the most recent point.';

/** A gax error as REST mode builds it: message, gRPC code, HTTP status. */
const googleError = (message: string, code = 3, httpStatusCode = 400) =>
  Object.assign(new Error(message), { code, httpStatusCode });

describe('tooFrequentOnly', () => {
  it.each([
    ['one index', `${PREFIX}${FREQUENT}: timeSeries[1]`, 3, [1]],
    ['groups joined by "; "', `${PREFIX}${FREQUENT}: timeSeries[0]; ${FREQUENT}: timeSeries[2]`, 3, [0, 2]],
    [
      'a range, as the service writes large batches',
      `${PREFIX}${FREQUENT}: global{} timeSeries[0-2]: custom.googleapis.com/x`,
      3,
      [0, 1, 2],
    ],
    ['a list', `${PREFIX}${FREQUENT}: timeSeries[0,2]`, 3, [0, 2]],
  ])('reads %s', (_, message, size, indices) => {
    // Act
    const refused = tooFrequentOnly(googleError(message), size);

    // Assess
    expect(refused === undefined ? undefined : [...refused].sort()).toEqual(indices);
  });

  it.each([
    ['another reason alongside', `${PREFIX}${FREQUENT}: timeSeries[0]; ${ORDER}: timeSeries[1]`, 3, 400],
    ['only another reason', `${PREFIX}${ORDER}: timeSeries[0]`, 3, 400],
    ['no index at all', FREQUENT, 3, 400],
    ['a throttle with the same words', `${PREFIX}${FREQUENT}: timeSeries[0]`, 8, 429],
  ])('refuses %s', (_, message, code, status) => {
    // Act
    const refused = tooFrequentOnly(googleError(message, code, status), 3);

    // Assess
    expect(refused).toBeUndefined();
  });
});
