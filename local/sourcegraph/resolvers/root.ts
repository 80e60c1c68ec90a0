import type { World } from '../../world/world.ts';
import type { Viewer } from '../auth.ts';
import type { SiteConfigStore } from '../site-config.ts';
import { batchSpecs } from './batch-specs.ts';
import { executors } from './executors.ts';
import { preciseIndexes } from './precise-indexes.ts';
import { areExecutorsConfigured, site, updateSiteConfiguration } from './site.ts';

export interface ResolverDeps {
  readonly world: World;
  readonly site: SiteConfigStore;
  /** The emulated instance's version, for executor `compatibility`. */
  readonly version: string;
  /** Executor row ids, kept for the emulator's lifetime so ids are stable across requests. */
  readonly executorIds: Map<string, number>;
}

/**
 * The root value for one request, closed over its viewer, so resolvers need no untyped GraphQL context. graphql-js
 * uses the same root value for queries and mutations.
 */
export function createRootValue(deps: ResolverDeps, viewer: Viewer) {
  const executorContext = { world: deps.world, version: deps.version, ids: deps.executorIds };
  return {
    currentUser: () => ({ siteAdmin: viewer.siteAdmin }),
    site: () => site(deps.site, viewer),
    areExecutorsConfigured: () => areExecutorsConfigured(deps.site, viewer),
    executors: (args: unknown) => executors(executorContext, viewer, args),
    preciseIndexes: (args: unknown) => preciseIndexes(deps.world, viewer, args),
    batchSpecs: (args: unknown) => batchSpecs(deps.world, viewer, args),
    updateSiteConfiguration: (args: unknown) => updateSiteConfiguration(deps.site, viewer, args),
  };
}
