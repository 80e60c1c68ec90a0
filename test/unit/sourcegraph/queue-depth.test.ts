import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueueName } from '../../../shared/domain/queues.ts';
import { createSourcegraphQueueDepthSource } from '../../../shared/sourcegraph/queue-depth.ts';
import { createGraphQLTransport } from '../../../shared/sourcegraph/transport.ts';
import { type FakeSpec, type FakeState, fakeSourcegraph, type Override } from './fake-sourcegraph.ts';

const NOW = 1_750_000_000_000;

function setup(state: Partial<FakeState>, options: { maxBatchSpecs?: number; override?: Override } = {}) {
  const fake = fakeSourcegraph({ siteAdmin: true, indexesQueued: 0, specs: [], ...state }, options.override);
  const transport = createGraphQLTransport({
    endpoint: 'https://sourcegraph.test',
    token: () => 'sgp_test',
    fetch: fake.fetch,
    sleep: async () => {},
    random: () => 0,
    maxAttempts: 1,
  });
  const source = createSourcegraphQueueDepthSource(transport, {
    clock: () => NOW,
    batchSpecPageSize: 100,
    ...(options.maxBatchSpecs === undefined ? {} : { maxBatchSpecs: options.maxBatchSpecs }),
  });
  return { source, calls: fake.calls };
}

const queues = (...names: QueueName[]) => new Set(names);
const active = (queued: number, processing: number, errored: number): FakeSpec => ({
  state: 'PROCESSING',
  stats: { queued, processing, errored },
});

describe('createSourcegraphQueueDepthSource', () => {
  it('reads codeintel alone in one request that does not ask for batch specs', async () => {
    // Prepare
    const { source, calls } = setup({ indexesQueued: 12, specs: [active(1, 1, 1)] });

    // Act
    const depths = await source.read(queues('codeintel'));

    // Assess
    expect(depths).toEqual({ codeintel: { ok: true, depth: 12, observedAt: NOW } });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.fields).toEqual(['currentUser', 'preciseIndexes']);
  });

  it('sums every batch spec across three pages in exactly two requests', async () => {
    // Prepare
    const specs: FakeSpec[] = Array.from({ length: 250 }, (_, i) => active(i % 3, 1, i % 2));
    const expected = specs.reduce(
      (sum, spec) => sum + (spec.stats ? spec.stats.queued + 1 + spec.stats.errored : 0),
      0,
    );

    // Act
    const { source, calls } = setup({ specs });
    const depths = await source.read(queues('batches'));

    // Assess
    expect(depths).toEqual({ batches: { ok: true, depth: expected, observedAt: NOW } });
    expect(calls.map((call) => call.operationName)).toEqual(['QueueDepth', 'BatchSpecsPage']);
    expect(calls[0]?.fields).toEqual(['currentUser', 'batchSpecs']);
    expect(calls[1]?.variables).toEqual({ first: 150, after: '100' });
  });

  it('counts nothing for finished or unresolved specs', async () => {
    // Prepare
    const specs: FakeSpec[] = [
      { state: 'COMPLETED', stats: { queued: 0, processing: 0, errored: 0 } },
      { state: 'FAILED', stats: { queued: 0, processing: 0, errored: 9 } },
      { state: 'CANCELED', stats: { queued: 0, processing: 0, errored: 4 } },
      { state: 'PENDING', stats: null },
      { state: 'QUEUED', stats: { queued: 5, processing: 0, errored: 0 } },
      active(1, 2, 3),
    ];
    const { source } = setup({ specs });

    // Act
    const depths = await source.read(queues('batches'));

    // Assess
    expect(depths.batches).toEqual({ ok: true, depth: 11, observedAt: NOW });
  });

  it('reads both queues in one request when the specs fit one page', async () => {
    // Prepare
    const { source, calls } = setup({ indexesQueued: 3, specs: [active(2, 0, 0), active(0, 1, 0)] });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths).toEqual({
      codeintel: { ok: true, depth: 3, observedAt: NOW },
      batches: { ok: true, depth: 3, observedAt: NOW },
    });
    expect(calls).toHaveLength(1);
  });

  it('reports batches unknown beyond maxBatchSpecs, never a partial sum', async () => {
    // Prepare
    const specs = Array.from({ length: 11 }, () => active(1, 0, 0));
    const { source, calls } = setup({ indexesQueued: 2, specs }, { maxBatchSpecs: 10 });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths.codeintel).toEqual({ ok: true, depth: 2, observedAt: NOW });
    expect(depths.batches).toEqual({
      ok: false,
      reason: expect.stringMatching(/^BatchSpecLimitError: .*maxBatchSpecs/),
    });
    expect(calls).toHaveLength(1);
  });

  it('keeps codeintel when only the batchSpecs field failed', async () => {
    // Prepare
    const override: Override = () => ({
      data: { currentUser: { siteAdmin: true }, preciseIndexes: { totalCount: 5 }, batchSpecs: null },
      errors: [{ message: 'stats not found', path: ['batchSpecs'] }],
    });
    const { source } = setup({}, { override });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths.codeintel).toEqual({ ok: true, depth: 5, observedAt: NOW });
    expect(depths.batches).toEqual({ ok: false, reason: expect.stringContaining('SourcegraphGraphQLError') });
  });

  it('still counts codeintel, in a second request, when a batchSpecs error nulls the whole result', async () => {
    // Prepare: the way a GraphQL server answers an error in a non-null field such as batchSpecs
    const override: Override = (call) =>
      call.variables.withBatches === true
        ? { data: null, errors: [{ message: 'batch changes are disabled', path: ['batchSpecs'] }] }
        : undefined;
    const { source, calls } = setup({ indexesQueued: 7 }, { override });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths.codeintel).toEqual({ ok: true, depth: 7, observedAt: NOW });
    expect(depths.batches).toEqual({ ok: false, reason: expect.stringContaining('batch changes are disabled') });
    expect(calls.map((call) => call.variables.withBatches)).toEqual([true, false]);
  });

  it('counts 0 batch jobs when Batch Changes is switched off site-wide, as the worker would', async () => {
    // Prepare: Sourcegraph's ErrBatchChangesDisabled text
    const message =
      "batch changes are disabled. Ask a site admin to set 'batchChanges.enabled' in the site configuration to enable the feature.";
    const override: Override = (call) =>
      call.variables.withBatches === true ? { data: null, errors: [{ message, path: ['batchSpecs'] }] } : undefined;
    const { source } = setup({ indexesQueued: 3 }, { override });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths).toEqual({
      codeintel: { ok: true, depth: 3, observedAt: NOW },
      batches: { ok: true, depth: 0, observedAt: NOW },
    });
  });

  it('reports both unknown when an error outside batchSpecs nulls the whole result', async () => {
    // Prepare
    const override: Override = () => ({ data: null, errors: [{ message: 'boom', path: ['preciseIndexes'] }] });
    const { source, calls } = setup({}, { override });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths.codeintel).toEqual({ ok: false, reason: expect.stringContaining('boom') });
    expect(depths.batches?.ok).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it.each([false, null])('reports every queue unknown when siteAdmin is %s', async (siteAdmin) => {
    // Prepare
    const { source, calls } = setup({ siteAdmin, indexesQueued: 4, specs: [active(1, 0, 0)] });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    for (const reading of [depths.codeintel, depths.batches]) {
      expect(reading).toEqual({
        ok: false,
        reason: expect.stringMatching(/^SourcegraphPermissionError: .*site admin/),
      });
    }
    expect(calls).toHaveLength(1);
  });

  it('reports batches unknown when specs appear between the two requests', async () => {
    // Prepare
    const state: FakeState = {
      siteAdmin: true,
      indexesQueued: 1,
      specs: Array.from({ length: 150 }, () => active(1, 0, 0)),
    };
    const override: Override = (_call, index) => {
      if (index === 1) {
        state.specs.push(active(1, 0, 0));
      }
      return undefined;
    };
    const fake = fakeSourcegraph(state, override);
    const transport = createGraphQLTransport({
      endpoint: 'https://sourcegraph.test',
      token: () => 'sgp_test',
      fetch: fake.fetch,
      sleep: async () => {},
      random: () => 0,
    });
    const source = createSourcegraphQueueDepthSource(transport, { clock: () => NOW });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths.codeintel?.ok).toBe(true);
    expect(depths.batches).toEqual({ ok: false, reason: expect.stringContaining('inconsistent') });
  });

  it('turns a transport failure into unknown readings, never a throw', async () => {
    // Prepare
    const transport = createGraphQLTransport({
      endpoint: 'https://sourcegraph.test',
      token: () => 'sgp_test',
      fetch: async () => new Response('down', { status: 503 }),
      sleep: async () => {},
      random: () => 0,
      maxAttempts: 2,
    });
    const source = createSourcegraphQueueDepthSource(transport, { clock: () => NOW });

    // Act
    const depths = await source.read(queues('codeintel', 'batches'));

    // Assess
    expect(depths).toEqual({
      codeintel: { ok: false, reason: expect.stringMatching(/^SourcegraphUnavailableError: .*HTTP 503/) },
      batches: { ok: false, reason: expect.stringMatching(/^SourcegraphUnavailableError: /) },
    });
  });

  it('rejects a non-integer count rather than reporting NaN or 0', async () => {
    // Prepare
    const override: Override = () => ({
      data: { currentUser: { siteAdmin: true }, preciseIndexes: { totalCount: '7' } },
    });
    const { source } = setup({}, { override });

    // Act
    const depths = await source.read(queues('codeintel'));

    // Assess
    expect(depths.codeintel).toEqual({ ok: false, reason: expect.stringContaining('preciseIndexes.totalCount') });
  });

  it('asks nothing when no queue is wanted', async () => {
    // Prepare
    const { source, calls } = setup({});

    // Act
    const depths = await source.read(queues());

    // Assess
    expect(depths).toEqual({});
    expect(calls).toHaveLength(0);
  });

  it('matches the direct sum in at most two requests for any spec list', async () => {
    const spec = fc.record({
      state: fc.constantFrom('PENDING', 'QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELING', 'CANCELED'),
      stats: fc.option(fc.record({ queued: fc.nat(50), processing: fc.nat(50), errored: fc.nat(50) }), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { maxLength: 400 }), async (specs) => {
        // Prepare
        const { source, calls } = setup({ specs }, { maxBatchSpecs: 1000 });
        const finished = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
        const expected = specs
          .filter((s) => !finished.has(s.state))
          .reduce((sum, s) => sum + (s.stats ? s.stats.queued + s.stats.processing + s.stats.errored : 0), 0);

        // Act
        const depths = await source.read(queues('batches'));

        // Assess
        expect(depths.batches).toEqual({ ok: true, depth: expected, observedAt: NOW });
        expect(calls.length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 50 },
    );
  });
});
