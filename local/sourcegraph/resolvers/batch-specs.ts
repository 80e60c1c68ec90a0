import * as z from 'zod';
import type { World, WorldJob } from '../../world/world.ts';
import type { Viewer } from '../auth.ts';
import { argsOf, cursorNumber, relayId, requireSiteAdmin } from './common.ts';

/** Batch connections refuse a larger `first` (`defaultMaxFirstParam` in Sourcegraph's batches resolvers). */
export const MAX_FIRST = 10_000;
/** Batch jobs enqueued without a spec all belong to this one, so none escapes the count. */
export const IMPLICIT_SPEC = 'local-unnamed-spec';

const args = z.object({
  first: z.number().int().nullish(),
  after: z.string().nullish(),
  includeLocallyExecutedSpecs: z.boolean().nullish(),
  excludeEmptySpecs: z.boolean().nullish(),
});

type SpecState = 'QUEUED' | 'PROCESSING' | 'COMPLETED';

interface Spec {
  /** The row id: grows with creation, and is the cursor. */
  readonly id: number;
  readonly name: string;
  readonly jobs: readonly WorldJob[];
}

/**
 * `batchSpecs(first, after, …)`, site-admin only: one spec per `batchSpec` of the world's batch jobs (its
 * workspaces), newest first. Paging works as Sourcegraph's store does: `after` is the id of the first spec to return
 * (inclusive, ids descending) and `endCursor` is the id of the spec after the page. Every spec has workspaces and
 * none ran locally, so `excludeEmptySpecs` and `includeLocallyExecutedSpecs` change nothing.
 */
export function batchSpecs(world: World, viewer: Viewer, raw: unknown) {
  requireSiteAdmin(viewer);
  const { first, after } = argsOf(args, raw);
  const limit = first ?? 50;
  if (limit < 0 || limit > MAX_FIRST) {
    throw new Error(`first param ${limit} is out of range (min=0, max=${MAX_FIRST})`);
  }
  const all = specsOf(world).toReversed();
  const from = after === null || after === undefined ? all : all.filter((spec) => spec.id <= cursorNumber(after));
  const page = from.slice(0, limit);
  const next = from[limit];
  return {
    totalCount: all.length,
    pageInfo: { hasNextPage: next !== undefined, endCursor: next === undefined ? null : String(next.id) },
    nodes: page.map(toNode),
  };
}

function specsOf(world: World): Spec[] {
  // The world's job list only grows, in enqueue order, so first appearance is creation order and ids are stable.
  const byName = new Map<string, WorldJob[]>();
  for (const job of world.jobs()) {
    if (job.queue !== 'batches') {
      continue;
    }
    const name = job.batchSpec ?? IMPLICIT_SPEC;
    const jobs = byName.get(name) ?? [];
    jobs.push(job);
    byName.set(name, jobs);
  }
  return [...byName].map(([name, jobs], index) => ({ id: index + 1, name, jobs }));
}

function toNode(spec: Spec) {
  const count = (state: WorldJob['state']) => spec.jobs.filter((job) => job.state === state).length;
  const stats = {
    queued: count('queued'),
    processing: count('processing'),
    // A world job in `errored` failed once and waits for a retry: still work for the executors.
    errored: count('errored'),
    completed: count('completed'),
    ignored: 0,
  };
  return {
    id: relayId('BatchSpec', spec.name),
    state: stateOf(stats, spec.jobs.length),
    workspaceResolution: {
      // `first` only limits workspace rows, which the schema subset does not expose; stats cover every workspace.
      workspaces: () => ({ totalCount: spec.jobs.length, stats }),
    },
  };
}

/**
 * The spec's state from its workspace executions, after Sourcegraph's rules: all queued is `QUEUED`, all done is
 * `COMPLETED`, anything in between (running, partly done, waiting for a retry) is `PROCESSING`. The world has no
 * terminal failures or cancellations, so `FAILED`, `CANCELING` and `CANCELED` never occur.
 */
function stateOf(stats: { queued: number; completed: number }, total: number): SpecState {
  if (stats.completed === total) {
    return 'COMPLETED';
  }
  return stats.queued === total ? 'QUEUED' : 'PROCESSING';
}
