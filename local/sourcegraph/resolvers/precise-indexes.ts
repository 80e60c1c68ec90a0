import * as z from 'zod';
import type { JobState, World, WorldJob } from '../../world/world.ts';
import type { Viewer } from '../auth.ts';
import { argsOf, offsetPage } from './common.ts';

/**
 * The auto-indexing job states (`lsif_indexes.state`) behind the GraphQL index states. Upload states
 * (`UPLOADING_INDEX`, `PROCESSING`, …) have no jobs in the simulated world, so they count 0.
 */
const INDEX_STATES: Readonly<Record<string, JobState>> = {
  QUEUED_FOR_INDEXING: 'queued',
  INDEXING: 'processing',
  INDEXING_ERRORED: 'errored',
  INDEXING_COMPLETED: 'completed',
};

const args = z.object({
  states: z.array(z.string()).nullish(),
  first: z.number().int().nullish(),
  after: z.string().nullish(),
});

/**
 * `preciseIndexes(states, first, after)`: codeintel jobs in the given states; every codeintel job when no state is
 * given. Not admin-gated but filtered by repository permissions: a non-admin sees only the jobs of "their"
 * repositories, simulated as the jobs with an even id (about half), so an undercount is visible in tests.
 */
export function preciseIndexes(world: World, viewer: Viewer, raw: unknown) {
  const { states, first, after } = argsOf(args, raw);
  const wanted = new Set((states ?? []).flatMap((state) => INDEX_STATES[state] ?? []));
  const all = states === null || states === undefined || states.length === 0;
  const visible = (job: WorldJob) => viewer.siteAdmin || job.id % 2 === 0;
  const rows = world
    .jobs()
    .filter((job) => job.queue === 'codeintel' && (all || wanted.has(job.state)) && visible(job))
    // Newest first, as the index list is ordered on a real instance.
    .toReversed();
  const { pageInfo } = offsetPage(rows, first ?? rows.length, after);
  return { totalCount: rows.length, pageInfo };
}
