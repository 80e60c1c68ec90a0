import { visit } from 'jsonc-parser';
import * as z from 'zod';
import type { CallOptions } from '../ports/call-options.ts';
import {
  REDACTED_SECRET,
  SiteConfigConflictError,
  SiteConfigReadOnlyError,
  SiteConfigRejectedError,
  type SiteConfigStore,
} from '../ports/site-config.ts';
import {
  type GraphQLErrorEntry,
  SourcegraphError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
} from './errors.ts';
import { SITE_CONFIGURATION, UPDATE_SITE_CONFIGURATION } from './operations.ts';
import type { GraphQLTransport } from './transport.ts';

/**
 * How Sourcegraph words each refusal of `updateSiteConfiguration` (HTTP 200, one GraphQL error at the field's path),
 * read from its public source (`sourcegraph/sourcegraph-public-snapshot` and 5.x forks of it):
 *
 * - Read-only: the resolver (`cmd/frontend/graphqlbackend/site.go`, `UpdateSiteConfiguration`) checks, right after the
 *   site-admin check and before anything else, `canUpdateSiteConfiguration()` (`SITE_CONFIG_FILE` empty, or
 *   `SITE_CONFIG_ALLOW_EDITS` true) and otherwise fails with "updating site configuration not allowed when using
 *   SITE_CONFIG_FILE". Same text since 3.x. So read-only wins over a stale `lastID`, and no edit is attempted.
 * - Stale `lastID`, 5.1 and later: the frontend's configuration source (`cmd/frontend/internal/cli/config.go`,
 *   `WriteWithOverride`) compares `lastID` with the latest row's id and fails with "site config has been modified by
 *   another request, write not allowed". If another write lands between that check and the insert, the database
 *   layer's `ErrNewerEdit` comes back wrapped: "ConfStore.SiteCreateIfUpToDate: someone else has already applied a
 *   newer edit" (older releases: "confdb.SiteCreateIfUpToDate: …", same tail). Both mean conflict. The local emulator
 *   answers with the second wording.
 * - Text refused: the resolver's own checks, before any write: "blank site configuration is invalid (…)" and "error
 *   unredacting secrets: …" (the input is parsed as JSONC to put secrets back); releases before 5.0 validated the
 *   schema here too ("site configuration is invalid: …", "failed to validate site configuration: …").
 *
 * Anything else (not a site admin, a database error) stays the client's own error, scrubbed of the contents' values.
 */
const READ_ONLY = /not allowed when using SITE_CONFIG_FILE/i;
const CONFLICT = /site config has been modified by another request|someone else has already applied a newer edit/i;
const REJECTED =
  /^(blank site configuration is invalid|error unredacting secrets|site configuration is invalid|failed to validate site configuration)/i;

/** `Int!` on the wire is a 32-bit signed integer; graph-gophers refuses anything larger before the resolver runs. */
const MAX_INT32 = 2 ** 31 - 1;
/** Shorter string values are not scrubbed from server messages: no secret Sourcegraph accepts is that short. */
const MIN_SCRUBBED_CHARS = 8;
/** The shortest start of a value, cut off by truncation, that is still removed. */
const MIN_CUT_CHARS = 4;

const readSchema = z.object({
  site: z.object({
    configuration: z.object({ id: z.number().int().nonnegative(), effectiveContents: z.string() }),
  }),
});
const updateSchema = z.object({ updateSiteConfiguration: z.boolean() });

/** The site configuration through Sourcegraph's GraphQL API, on the shared transport (auth, retries, timeouts). */
export function createSourcegraphSiteConfigStore(transport: GraphQLTransport): SiteConfigStore {
  return {
    async read(options: CallOptions = {}) {
      const data = await transport.request(
        SITE_CONFIGURATION.name,
        SITE_CONFIGURATION.document,
        {},
        readSchema,
        options,
      );
      const { id, effectiveContents } = data.site.configuration;
      return { id, contents: effectiveContents };
    },

    async update(lastID, contents, options: CallOptions = {}) {
      if (!(Number.isInteger(lastID) && lastID >= 0 && lastID <= MAX_INT32)) {
        throw new RangeError(`lastID must be a revision id read from the site configuration, got ${lastID}`);
      }
      const scrub = scrubberFor(contents);
      let data: z.output<typeof updateSchema>;
      try {
        data = await transport.request(
          UPDATE_SITE_CONFIGURATION.name,
          UPDATE_SITE_CONFIGURATION.document,
          { lastID, input: contents },
          updateSchema,
          options,
        );
      } catch (error) {
        throw classify(scrubbed(error, scrub), lastID);
      }
      return { restartRequired: data.updateSiteConfiguration };
    },
  } satisfies SiteConfigStore;
}

function classify(error: unknown, lastID: number): unknown {
  if (!(error instanceof SourcegraphGraphQLError)) {
    return error;
  }
  const said = (pattern: RegExp) => error.errors.some((entry) => pattern.test(entry.message));
  if (said(READ_ONLY)) {
    return new SiteConfigReadOnlyError({ cause: error });
  }
  if (said(CONFLICT)) {
    return new SiteConfigConflictError(lastID, { cause: error });
  }
  const rejected = error.errors.find((entry) => REJECTED.test(entry.message));
  if (rejected !== undefined) {
    return new SiteConfigRejectedError(`Sourcegraph refused the site configuration text: ${rejected.message}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * Removes from a server message every string value the submitted text holds (secrets among them), in case an error
 * quotes the input. The access token is already scrubbed by the transport.
 */
function scrubberFor(contents: string): (text: string) => string {
  const values = new Set<string>();
  visit(
    contents,
    {
      onLiteralValue(value: unknown) {
        if (typeof value === 'string' && value.length >= MIN_SCRUBBED_CHARS && value !== REDACTED_SECRET) {
          values.add(value);
          // The same value as it is spelled inside JSON, escapes included.
          values.add(JSON.stringify(value).slice(1, -1));
        }
      },
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  // Longest first, so a value containing another is removed whole.
  const secrets = [...values].sort((a, b) => b.length - a.length);
  return (text) => {
    let result = secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join('[redacted]'), text);
    // The client cuts long quotes short with "…"; a value cut there leaves its start behind, which goes too.
    for (const secret of secrets) {
      for (let kept = secret.length - 1; kept >= MIN_CUT_CHARS; kept--) {
        const cut = `${secret.slice(0, kept)}…`;
        if (result.includes(cut)) {
          result = result.split(cut).join('[redacted]…');
          break;
        }
      }
    }
    return result;
  };
}

/** The same error with its messages scrubbed; a changed error does not keep the original, which holds the text. */
function scrubbed(error: unknown, scrub: (text: string) => string): unknown {
  if (error instanceof SourcegraphGraphQLError) {
    const errors: GraphQLErrorEntry[] = error.errors.map((entry) => ({ ...entry, message: scrub(entry.message) }));
    const message = scrub(error.message);
    const changed =
      message !== error.message || errors.some((entry, at) => entry.message !== error.errors[at]?.message);
    return changed ? new SourcegraphGraphQLError(message, errors, statusOf(error)) : error;
  }
  if (error instanceof SourcegraphError && scrub(error.message) !== error.message) {
    const message = scrub(error.message);
    return error instanceof SourcegraphPermissionError
      ? new SourcegraphPermissionError(message, statusOf(error))
      : new SourcegraphResponseError(message, statusOf(error));
  }
  return error;
}

function statusOf(error: SourcegraphError): { status?: number } {
  return error.status === undefined ? {} : { status: error.status };
}
