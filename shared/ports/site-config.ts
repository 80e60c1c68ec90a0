import type { CallOptions } from './call-options.ts';

/**
 * What a secret in the site configuration reads back as. Sent back unchanged in an update, it means "keep the secret
 * Sourcegraph holds now"; any other value is saved as the new secret.
 */
export const REDACTED_SECRET = 'REDACTED';

/** The site configuration as an admin reads it. */
export interface SiteConfigSnapshot {
  /** The configuration's revision: pass it back as `lastID` so an edit made since is not overwritten. */
  readonly id: number;
  /**
   * The JSONC text (comments and layout as stored) with every secret, `executors.accessToken` among them, replaced by
   * `"REDACTED"`. It still holds other settings an operator may consider private: never log it.
   */
  readonly contents: string;
}

export interface SiteConfigUpdate {
  /** Sourcegraph says some of the change takes effect only after its services restart. */
  readonly restartRequired: boolean;
}

/**
 * Sourcegraph's site configuration (`site { configuration }` and `updateSiteConfiguration`). Edits are optimistic:
 * `update` succeeds only when `lastID` is still the latest revision. Besides the errors below, the adapter lets the
 * Sourcegraph client's errors through (access token rejected, not a site admin, unreachable, timed out). No error
 * message carries the contents or a secret.
 */
export interface SiteConfigStore {
  read(options?: CallOptions): Promise<SiteConfigSnapshot>;
  /**
   * Replaces the whole configuration with `contents`, written over revision `lastID`. Throws
   * `SiteConfigConflictError` when someone edited since (nothing written; read again, reapply, retry),
   * `SiteConfigReadOnlyError` when the configuration is file-managed, `SiteConfigRejectedError` when the text itself
   * is refused.
   */
  update(lastID: number, contents: string, options?: CallOptions): Promise<SiteConfigUpdate>;
}

/** Messages are fixed text, plus at most a scrubbed excerpt of what Sourcegraph said: never the contents. */
export class SiteConfigError extends Error {
  override readonly name: string = 'SiteConfigError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * `lastID` is no longer the latest revision: someone (or something) edited the configuration after it was read, and
 * nothing was written. Read again, reapply the change to the new text, and retry.
 *
 * A retried request can also end here: if an earlier attempt was written but its answer was lost, the retry's
 * `lastID` is stale because of that very write. Whoever retries must check whether its change is already in place.
 */
export class SiteConfigConflictError extends SiteConfigError {
  override readonly name = 'SiteConfigConflictError';
  readonly lastID: number;

  constructor(lastID: number, options: { cause?: unknown } = {}) {
    super(
      `the site configuration changed after revision ${lastID} was read, so the edit was not applied; ` +
        'read it again, reapply the change and retry',
      options,
    );
    this.lastID = lastID;
  }
}

/**
 * The configuration is managed by a file (`SITE_CONFIG_FILE` set, `SITE_CONFIG_ALLOW_EDITS` not `true`): Sourcegraph
 * refuses every edit through its API. Retrying cannot help; the file must be changed instead.
 */
export class SiteConfigReadOnlyError extends SiteConfigError {
  override readonly name = 'SiteConfigReadOnlyError';

  constructor(options: { cause?: unknown } = {}) {
    super(
      'Sourcegraph refuses edits to its site configuration because a file manages it (SITE_CONFIG_FILE is set and ' +
        'SITE_CONFIG_ALLOW_EDITS is not true); change the file, or allow edits, and try again',
      options,
    );
  }
}

/** Sourcegraph refused the text itself (blank, or not JSONC). Sending the same text again cannot succeed. */
export class SiteConfigRejectedError extends SiteConfigError {
  override readonly name = 'SiteConfigRejectedError';
}
