import { describe, expect, it } from 'vitest';
import { currentCorrelation, httpCorrelation, withCorrelation } from '../../../shared/observability/correlation.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('correlation ids', () => {
  it('stamps every line logged inside an invocation, however deep, and none outside it', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(JSON.parse(line)) }).child({ module: 'm' });

    // Act: two invocations interleaved, as concurrent requests to one Cloud Functions instance are
    const first = withCorrelation({ id: 'req-a' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('a');
    });
    const second = withCorrelation({ id: 'req-b', callerId: 'caller-1' }, async () => {
      logger.info('b');
    });
    await Promise.all([first, second]);
    logger.info('outside');

    // Assess
    expect(lines.map((line) => [line.message, line.correlation_id, line.caller_correlation_id])).toEqual([
      ['b', 'req-b', 'caller-1'],
      ['a', 'req-a', undefined],
      ['outside', undefined, undefined],
    ]);
    expect(currentCorrelation()).toBeUndefined();
  });

  it.each([
    [
      'the W3C trace, keeping the caller’s plain id beside it',
      { 'x-correlation-id': 'abc-1', traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      { id: TRACE, callerId: 'abc-1' },
    ],
    ['the Cloud trace header', { 'x-cloud-trace-context': `${TRACE}/123;o=1` }, { id: TRACE }],
    [
      'no caller id that could forge log structure',
      { 'x-correlation-id': 'a"\n{', 'x-cloud-trace-context': `${TRACE}/1` },
      { id: TRACE },
    ],
    [
      'no caller id that is too long',
      { 'x-correlation-id': 'x'.repeat(129), 'function-execution-id': 'e-1' },
      { id: 'e-1' },
    ],
    ['the execution id of a 1st-gen function', { 'function-execution-id': 'exec-9' }, { id: 'exec-9' }],
  ])('takes %s', (_, headers, expected) => {
    // Act
    const correlation = httpCorrelation(headers);

    // Assess
    expect(correlation).toEqual(expected);
  });

  it('makes a fresh id for a request that carries none', () => {
    // Act
    const ids = new Set([httpCorrelation({}).id, httpCorrelation({ 'x-correlation-id': 'caller' }).id]);

    // Assess
    expect(ids.size).toBe(2);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
