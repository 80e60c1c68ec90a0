import * as z from 'zod';
import type { CallOptions } from '../ports/call-options.ts';
import {
  type ExecutorCompatibility,
  type ExecutorDirectory,
  type ExecutorRecord,
  executorHostOf,
} from '../ports/executor-directory.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import {
  SourcegraphError,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
} from './errors.ts';
import { EXECUTORS_PAGE } from './operations.ts';
import type { GraphQLTransport } from './transport.ts';

export interface SourcegraphExecutorDirectoryOptions {
  /** Heartbeat rows asked for per request. Default 500: most instances answer in one request. */
  readonly pageSize?: number;
  /** Most pages read per listing; more rows than `pageSize × maxPages` is an `ExecutorListLimitError`. Default 20. */
  readonly maxPages?: number;
  readonly logger?: NarrowLogger;
}

/**
 * Sourcegraph holds more executor rows than the directory may page through. Rows of dead executors stay a week by
 * default (`EXECUTORS_HEARTBEAT_RECORD_MAX_AGE`), so a fleet that replaces VMs often can get here; a partial list would
 * make live executors look missing, so nothing is returned until the limit is raised.
 */
export class ExecutorListLimitError extends SourcegraphError {
  override readonly name = 'ExecutorListLimitError';
  readonly totalCount: number;
  readonly limit: number;

  constructor(totalCount: number, limit: number) {
    super(
      `Sourcegraph has ${totalCount} executor heartbeat rows, more than the ${limit} the executor directory may page ` +
        'through (pageSize × maxPages); raise the limit to list executors (a partial list would hide live executors)',
    );
    this.totalCount = totalCount;
    this.limit = limit;
  }
}

/** Whole listings tried before giving up when rows keep moving between pages. */
const SNAPSHOT_ATTEMPTS = 3;

/** Sourcegraph's `DateTime`: RFC 3339 (whole seconds in UTC in practice; fractions and offsets are accepted). */
const dateTime = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));

const executorNode = z.object({
  hostname: z.string().min(1),
  queueName: z.string().nullable(),
  queueNames: z.array(z.string()).nullable(),
  firstSeenAt: dateTime,
  lastSeenAt: dateTime,
  executorVersion: z.string(),
  // A plain string, not the enum: a rating added by a later release must not fail the whole listing.
  compatibility: z.string().nullable().optional(),
});
type ExecutorNode = z.output<typeof executorNode>;

const pageSchema = z.object({
  executors: z.object({
    totalCount: z.number().int().nonnegative(),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(executorNode),
  }),
});
type Page = z.output<typeof pageSchema>['executors'];

/** A listing that saw rows move under it: worth reading again from the start. */
interface Moved {
  readonly moved: string;
}

/**
 * Sourcegraph's executor heartbeat rows through the `executors` query, every row and every page, on the shared
 * transport (auth, retries, timeouts).
 *
 * Sourcegraph pages by offset over rows ordered `first_seen_at DESC` (`cmd/frontend/graphqlbackend/executors.go`); each
 * page is consistent with its own `totalCount`, but rows can move between pages: a new executor is inserted at the
 * front and pushes every row one place back, and the janitor's deletes pull rows forward, so a row can be read twice
 * or skipped. A skipped row would make a live executor look missing, so a listing of more than one page is checked
 * (same `totalCount` on every page, the same newest row at the end, no row twice, as many rows as counted) and read
 * again when it moved.
 */
export function createSourcegraphExecutorDirectory(
  transport: GraphQLTransport,
  options: SourcegraphExecutorDirectoryOptions = {},
): ExecutorDirectory {
  const pageSize = options.pageSize ?? 500;
  const maxPages = options.maxPages ?? 20;
  for (const [name, value] of [
    ['pageSize', pageSize],
    ['maxPages', maxPages],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 1 && value <= 2 ** 31 - 1)) {
      throw new RangeError(`${name} must be a positive whole number, got ${value}`);
    }
  }
  const limit = pageSize * maxPages;
  const { logger } = options;

  async function readPage(
    first: number,
    after: string | undefined,
    withCompatibility: boolean,
    call: CallOptions,
  ): Promise<Page> {
    const variables = { first, after: after ?? null, withCompatibility };
    const data = await transport.request(EXECUTORS_PAGE.name, EXECUTORS_PAGE.document, variables, pageSchema, call);
    return data.executors;
  }

  /** One pass over every page: the rows, or why they cannot be trusted to be one listing. */
  async function readAll(withCompatibility: boolean, call: CallOptions): Promise<readonly ExecutorNode[] | Moved> {
    const firstPage = await readPage(pageSize, undefined, withCompatibility, call);
    const { totalCount } = firstPage;
    if (totalCount > limit) {
      throw new ExecutorListLimitError(totalCount, limit);
    }
    const rows = [...firstPage.nodes];
    let page = firstPage;
    let pages = 1;
    while (page.pageInfo.hasNextPage) {
      const cursor = page.pageInfo.endCursor;
      if (cursor === null || page.nodes.length === 0) {
        throw garbled(`a next page without a cursor or after an empty page (${rows.length} of ${totalCount} rows)`);
      }
      if (pages >= maxPages) {
        throw garbled(`still a next page after ${pages} pages (${rows.length} rows) for a totalCount of ${totalCount}`);
      }
      page = await readPage(pageSize, cursor, withCompatibility, call);
      pages += 1;
      if (page.totalCount !== totalCount) {
        return { moved: `totalCount went from ${totalCount} to ${page.totalCount} between pages` };
      }
      rows.push(...page.nodes);
    }
    const distinct = new Set(rows.map((row) => row.hostname)).size;
    if (pages === 1) {
      // One page is one database transaction: anything off here is the server's answer, not a race.
      if (distinct !== rows.length || rows.length !== totalCount) {
        throw garbled(`${rows.length} rows (${distinct} distinct) in a last page for a totalCount of ${totalCount}`);
      }
      return rows;
    }
    // An insert and a delete together keep totalCount and hide the new row: it would be first now.
    const newest = await readPage(1, undefined, false, call);
    if (newest.totalCount !== totalCount || newest.nodes[0]?.hostname !== rows[0]?.hostname) {
      return { moved: 'the newest row changed while the pages were read' };
    }
    if (distinct !== rows.length || rows.length !== totalCount) {
      return { moved: `${rows.length} rows (${distinct} distinct) read for a totalCount of ${totalCount}` };
    }
    return rows;
  }

  async function listNodes(withCompatibility: boolean, call: CallOptions): Promise<readonly ExecutorNode[]> {
    let last = '';
    for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
      const result = await readAll(withCompatibility, call);
      if (!('moved' in result)) {
        return result;
      }
      last = result.moved;
      logger?.warn('executor rows moved while paging; listing again', {
        module: 'sourcegraph',
        attempt,
        maxAttempts: SNAPSHOT_ATTEMPTS,
        reason: last,
      });
    }
    throw new SourcegraphResponseError(
      `Sourcegraph executors: the rows kept moving while they were paged (${SNAPSHOT_ATTEMPTS} attempts; last: ${last}); ` +
        'not returning a list that may miss executors',
    );
  }

  return {
    async list(call: CallOptions = {}) {
      let nodes: readonly ExecutorNode[];
      try {
        try {
          nodes = await listNodes(true, call);
        } catch (error) {
          if (!onlyCompatibilityFailed(error)) {
            throw error;
          }
          // Sourcegraph could not rate some version (`compatibility` fails on a version it cannot parse): every row is
          // still wanted, so list again without ratings rather than fail the whole listing.
          logger?.warn('Sourcegraph could not rate executor versions; listing without compatibility', {
            module: 'sourcegraph',
            reason: error.message,
          });
          nodes = await listNodes(false, call);
        }
      } catch (error) {
        throw explained(error);
      }
      return nodes.map(toRecord);
    },
  } satisfies ExecutorDirectory;
}

function toRecord(node: ExecutorNode): ExecutorRecord {
  // 5.1+: a single-queue executor reports `queueName` (and no or empty `queueNames`), a multi-queue one `queueNames`.
  const queues = [...(node.queueName === null ? [] : [node.queueName]), ...(node.queueNames ?? [])];
  const compatibility = isCompatibility(node.compatibility) ? node.compatibility : undefined;
  return {
    name: node.hostname,
    host: executorHostOf(node.hostname),
    queueNames: [...new Set(queues)],
    firstSeenAt: node.firstSeenAt,
    lastSeenAt: node.lastSeenAt,
    version: node.executorVersion,
    compatibility,
  };
}

function isCompatibility(value: string | null | undefined): value is ExecutorCompatibility {
  return value === 'UP_TO_DATE' || value === 'OUTDATED' || value === 'VERSION_AHEAD';
}

/** Every error sits under a row's `compatibility`, the one nullable field Sourcegraph's resolver can fail. */
function onlyCompatibilityFailed(error: unknown): error is SourcegraphGraphQLError {
  return (
    error instanceof SourcegraphGraphQLError &&
    error.errors.length > 0 &&
    error.errors.every((entry) => {
      const path = entry.path ?? [];
      return (
        path.length === 4 &&
        path[0] === 'executors' &&
        path[1] === 'nodes' &&
        typeof path[2] === 'number' &&
        path[3] === 'compatibility'
      );
    })
  );
}

/** `executors` is site-admin only; say so in words an operator can act on, keeping the original as the cause. */
function explained(error: unknown): unknown {
  if (error instanceof SourcegraphPermissionError) {
    return new SourcegraphPermissionError(
      'Sourcegraph executors: listing executors needs a site admin, and the access token is not one (or may not ' +
        `read them): ${error.message}`,
      { cause: error, ...(error.status === undefined ? {} : { status: error.status }) },
    );
  }
  return error;
}

function garbled(detail: string): SourcegraphResponseError {
  return new SourcegraphResponseError(`Sourcegraph executors: inconsistent paging (${detail}); not guessing the rest`);
}
