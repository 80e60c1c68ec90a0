import { describe, expect, it } from 'vitest';
import {
  currentCorrelationId,
  httpCorrelationId,
  withCorrelationId,
} from '../../../shared/observability/correlation.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('correlation ids', () => {
  it('stamps every line logged inside an invocation, however deep, and none outside it', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(JSON.parse(line)) }).child({ module: 'm' });

    // Act: two invocations interleaved, as concurrent requests to one Cloud Functions instance are
    const first = withCorrelationId('req-a', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('a');
    });
    const second = withCorrelationId('req-b', async () => {
      logger.info('b');
    });
    await Promise.all([first, second]);
    logger.info('outside');

    // Assess
    expect(lines.map((line) => [line.message, line.correlation_id])).toEqual([
      ['b', 'req-b'],
      ['a', 'req-a'],
      ['outside', undefined],
    ]);
    expect(currentCorrelationId()).toBeUndefined();
  });

  it.each([
    [
      'the caller’s plain X-Correlation-Id first',
      { 'x-correlation-id': 'abc-1', traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      'abc-1',
    ],
    ['the W3C trace when the caller sent none', { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` }, TRACE],
    ['the Cloud trace header', { 'x-cloud-trace-context': `${TRACE}/123;o=1` }, TRACE],
    [
      'the trace when the caller’s id could forge log structure',
      { 'x-correlation-id': 'a"\n{', 'x-cloud-trace-context': `${TRACE}/1` },
      TRACE,
    ],
    ['the execution id of a 1st-gen function', { 'function-execution-id': 'exec-9' }, 'exec-9'],
  ])('takes %s', (_, headers, expected) => {
    // Act
    const id = httpCorrelationId(headers);

    // Assess
    expect(id).toBe(expected);
  });

  it('makes a fresh id for a request that carries none', () => {
    // Act
    const ids = new Set([httpCorrelationId({}), httpCorrelationId({})]);

    // Assess
    expect(ids.size).toBe(2);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
