import * as z from 'zod';
import { toError } from '../domain/guards.ts';
import { QUEUE_NAMES, type QueueName } from '../domain/queues.ts';
import type { DepthReading, QueueDepths } from '../domain/readings.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import type { QueueDepthSource } from '../ports/queue-depth.ts';
import {
  BatchSpecLimitError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
} from './errors.ts';
import { BATCH_SPECS_PAGE, QUEUE_DEPTH } from './operations.ts';
import type { FieldResult, GraphQLTransport } from './transport.ts';

export interface SourcegraphQueueDepthOptions {
  readonly clock: Clock;
  /** Most batch specs paged through per read; beyond it the batches queue reads as unknown. */
  readonly maxBatchSpecs?: number;
  /** Batch specs fetched with the first request; the rest come in one second request. */
  readonly batchSpecPageSize?: number;
  readonly logger?: NarrowLogger;
}

const count = z.number().int().nonnegative();

const batchSpecPage = z.object({
  totalCount: count,
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  nodes: z.array(
    z.object({
      // A plain string, not the enum: a state added by a later release must not fail the whole page.
      state: z.string(),
      workspaceResolution: z
        .object({ workspaces: z.object({ stats: z.object({ queued: count, processing: count, errored: count }) }) })
        .nullable(),
    }),
  ),
});
type BatchSpecPage = z.output<typeof batchSpecPage>;
type BatchSpecNode = BatchSpecPage['nodes'][number];

const QUEUE_DEPTH_FIELDS = {
  currentUser: z.object({ siteAdmin: z.boolean().nullable() }).nullable(),
  preciseIndexes: z.object({ totalCount: count }),
  batchSpecs: batchSpecPage,
};
const PAGE_FIELDS = { batchSpecs: batchSpecPage };

/**
 * Specs whose execution is over. Their `stats.errored` counts *failed* workspaces (terminal, Sourcegraph's
 * `GetBatchSpecStats`), which no executor will pick up again, so a finished spec contributes nothing.
 */
const FINISHED_SPEC_STATES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELED']);

/**
 * Queue depth from Sourcegraph's GraphQL API in at most two requests per read: the first carries the admin check,
 * the codeintel count and the first batch spec page; a second fetches all remaining batch specs at once.
 */
export function createSourcegraphQueueDepthSource(transport: GraphQLTransport, options: SourcegraphQueueDepthOptions) {
  const { clock, logger } = options;
  const maxBatchSpecs = options.maxBatchSpecs ?? 1000;
  const pageSize = options.batchSpecPageSize ?? 100;

  const known = (depth: number): DepthReading => ({ ok: true, depth, observedAt: clock() });
  const unknown = (queue: QueueName, error: unknown): DepthReading => {
    const { name, message } = toError(error);
    const reason = `${name}: ${message}`;
    logger?.warn('queue depth unknown', { module: 'sourcegraph', queue, reason });
    return { ok: false, reason };
  };
  const allUnknown = (queues: readonly QueueName[], error: unknown): QueueDepths =>
    Object.fromEntries(queues.map((queue) => [queue, unknown(queue, error)]));

  /**
   * With Batch Changes switched off site-wide Sourcegraph says so instead of answering, and no batch job can be
   * queued: that is a definite 0 (the worker's count too), not a failed read.
   */
  const batchesFailed = (error: unknown): DepthReading => {
    if (batchChangesDisabled(error)) {
      logger?.info('batch changes are disabled; batches queue depth is 0', { module: 'sourcegraph' });
      return known(0);
    }
    return unknown('batches', error);
  };

  async function readBatches(firstPage: FieldResult<BatchSpecPage>, call: CallOptions): Promise<DepthReading> {
    if (!firstPage.ok) {
      return batchesFailed(firstPage.error);
    }
    const { totalCount, pageInfo } = firstPage.value;
    if (totalCount > maxBatchSpecs) {
      return unknown('batches', new BatchSpecLimitError(totalCount, maxBatchSpecs));
    }
    const nodes = [...firstPage.value.nodes];
    if (pageInfo.hasNextPage) {
      const remaining = totalCount - nodes.length;
      if (remaining <= 0 || pageInfo.endCursor === null) {
        return unknown('batches', inconsistent(`a next page after ${nodes.length} of ${totalCount} specs`));
      }
      let rest: FieldResult<BatchSpecPage>;
      try {
        const variables = { first: remaining, after: pageInfo.endCursor };
        const page = await transport.requestFields(
          BATCH_SPECS_PAGE.name,
          BATCH_SPECS_PAGE.document,
          variables,
          PAGE_FIELDS,
          call,
        );
        rest = page.field('batchSpecs');
      } catch (error) {
        return unknown('batches', error);
      }
      if (!rest.ok) {
        return unknown('batches', rest.error);
      }
      if (rest.value.pageInfo.hasNextPage) {
        // Specs were added between the two requests: the count is no longer one consistent snapshot.
        return unknown('batches', inconsistent(`still a next page after ${totalCount} specs`));
      }
      nodes.push(...rest.value.nodes);
    }
    if (nodes.length !== totalCount) {
      return unknown('batches', inconsistent(`${nodes.length} specs returned for a totalCount of ${totalCount}`));
    }
    return known(nodes.reduce((sum, node) => sum + pendingWorkspaces(node), 0));
  }

  async function readQueues(queues: ReadonlySet<QueueName>, call: CallOptions): Promise<QueueDepths> {
    const wanted = QUEUE_NAMES.filter((queue) => queues.has(queue));
    if (wanted.length === 0) {
      return {};
    }
    const withCodeintel = queues.has('codeintel');
    let withBatches = queues.has('batches');
    const query = (batches: boolean) =>
      transport.requestFields(
        QUEUE_DEPTH.name,
        QUEUE_DEPTH.document,
        { withCodeintel, withBatches: batches, first: pageSize },
        QUEUE_DEPTH_FIELDS,
        call,
      );
    let result: Awaited<ReturnType<typeof query>>;
    let batchesError: unknown;
    try {
      result = await query(withBatches);
    } catch (error) {
      // `batchSpecs` is non-null, so an error in it (Batch Changes disabled or unlicensed) nulls the whole result.
      // Ask once more without it, so codeintel is still counted; the two-request budget holds (no second page here).
      if (!(withCodeintel && withBatches && onlyBatchSpecsFailed(error))) {
        throw error;
      }
      batchesError = error;
      withBatches = false;
      result = await query(false);
    }
    const user = result.field('currentUser');
    if (!user.ok) {
      return allUnknown(wanted, user.error);
    }
    if (user.value?.siteAdmin !== true) {
      // A non-admin sees counts filtered by repository permissions: an undercount that could shrink a fleet.
      const error = new SourcegraphPermissionError(
        'the access token does not belong to a site admin, so Sourcegraph would return permission-filtered (too low) counts',
      );
      return allUnknown(wanted, error);
    }
    const depths: Partial<Record<QueueName, DepthReading>> = {};
    if (withCodeintel) {
      const indexes = result.field('preciseIndexes');
      depths.codeintel = indexes.ok ? known(indexes.value.totalCount) : unknown('codeintel', indexes.error);
    }
    if (withBatches) {
      depths.batches = await readBatches(result.field('batchSpecs'), call);
    } else if (batchesError !== undefined) {
      depths.batches = batchesFailed(batchesError);
    }
    return depths;
  }

  return {
    async read(queues, call = {}) {
      try {
        return await readQueues(queues, call);
      } catch (error) {
        return allUnknown(
          QUEUE_NAMES.filter((queue) => queues.has(queue)),
          error,
        );
      }
    },
  } satisfies QueueDepthSource;
}

/** Workspaces an executor still has to run or is running for one spec: queued + processing + errored. */
function pendingWorkspaces(node: BatchSpecNode): number {
  if (FINISHED_SPEC_STATES.has(node.state) || node.workspaceResolution === null) {
    return 0;
  }
  const { queued, processing, errored } = node.workspaceResolution.workspaces.stats;
  return queued + processing + errored;
}

/** Sourcegraph's `ErrBatchChangesDisabled` text; the per-user variant ("… for non-site-admin users") does not match. */
const BATCH_CHANGES_DISABLED = /^batch changes are disabled\. /;

function batchChangesDisabled(error: unknown): boolean {
  return (
    error instanceof SourcegraphGraphQLError &&
    error.errors.length > 0 &&
    error.errors.every((entry) => BATCH_CHANGES_DISABLED.test(entry.message))
  );
}

function onlyBatchSpecsFailed(error: unknown): boolean {
  return (
    error instanceof SourcegraphGraphQLError &&
    error.errors.length > 0 &&
    error.errors.every((entry) => entry.path?.[0] === 'batchSpecs')
  );
}

function inconsistent(detail: string): SourcegraphResponseError {
  return new SourcegraphResponseError(`batch spec paging was inconsistent (${detail}); not guessing a count`);
}
