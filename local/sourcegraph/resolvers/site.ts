import * as z from 'zod';
import type { Viewer } from '../auth.ts';
import type { SiteConfigStore } from '../site-config.ts';
import { argsOf, requireSiteAdmin } from './common.ts';

const updateArgs = z.object({ lastID: z.number().int(), input: z.string() });

/**
 * `site { configuration { … } }`. The configuration holds secrets, so reading it is site-admin only; `configuration`
 * is non-null, so a refusal nulls `site` and, `site` being non-null too, the whole `data`.
 */
export function site(store: SiteConfigStore, viewer: Viewer) {
  return {
    configuration: () => {
      requireSiteAdmin(viewer);
      return {
        id: store.snapshot().id,
        effectiveContents: store.effectiveContents(),
        validationMessages: store.validationMessages(),
      };
    },
  };
}

/** `updateSiteConfiguration(lastID, input)`: true would mean "restart needed", which never happens here. */
export function updateSiteConfiguration(store: SiteConfigStore, viewer: Viewer, raw: unknown): boolean {
  requireSiteAdmin(viewer);
  const { lastID, input } = argsOf(updateArgs, raw);
  return store.update(lastID, input);
}

/** `areExecutorsConfigured`: whether an executor secret is set at all. Site-admin only. */
export function areExecutorsConfigured(store: SiteConfigStore, viewer: Viewer): boolean {
  requireSiteAdmin(viewer);
  return store.executorToken() !== '';
}
