import * as z from 'zod';
import type { World, WorldExecutor } from '../../world/world.ts';
import type { Viewer } from '../auth.ts';
import { argsOf, dateTime, type PageInfo, relayId, requireSiteAdmin } from './common.ts';

/** `active: true` as an argument: seen within 15 minutes (the executor store's filter). */
const ACTIVE_FILTER_MS = 15 * 60_000;
/** `Executor.active` as a field: seen within three 5 s heartbeat intervals. */
const ACTIVE_FIELD_MS = 3 * 5_000;

/** What the simulated VMs' executors report about themselves besides their version. */
const HOST_FACTS = { os: 'linux', architecture: 'amd64', dockerVersion: '24.0.7', gitVersion: '2.43.0' } as const;

const args = z.object({
  query: z.string().nullish(),
  active: z.boolean().nullish(),
  first: z.number().int().nullish(),
  after: z.string().nullish(),
});

export interface ExecutorContext {
  readonly world: World;
  /** The emulated instance's version, for `compatibility`. */
  readonly version: string;
  /** Stable numeric ids (the heartbeat table's row ids), assigned on first sight. */
  readonly ids: Map<string, number>;
}

/**
 * `executors(query, active, first, after)`, site-admin only: heartbeat rows newest first (`ORDER BY first_seen_at
 * DESC, id`), filtered by a case-insensitive substring over hostname, queue names, OS, architecture and versions, paged
 * by offset with base64 cursors (`graphqlutil.EncodeIntCursor`). Rows and `totalCount` are read together, as the
 * resolver does in one transaction; nothing holds them still between pages.
 */
export function executors(context: ExecutorContext, viewer: Viewer, raw: unknown) {
  requireSiteAdmin(viewer);
  const { query, active, first, after } = argsOf(args, raw);
  const offset = decodeIntCursor(after);
  const now = context.world.clock();
  const needle = query?.trim().toLowerCase() ?? '';
  const listed = context.world.executors();
  // Row ids grow with first sight, oldest first, like the heartbeat table's serial ids.
  for (const executor of listed.toSorted((a, b) => a.firstSeenAt - b.firstSeenAt)) {
    executorIdOf(context.ids, executor.name);
  }
  const rows = listed
    .map((executor) => toNode(context, executor, now))
    .sort((a, b) => b.firstSeenMs - a.firstSeenMs || a.rowId - b.rowId)
    .filter((node) => active !== true || now - node.lastSeenMs <= ACTIVE_FILTER_MS)
    .filter((node) => needle === '' || node.searchable.some((text) => text.toLowerCase().includes(needle)));
  const nodes = rows.slice(offset, offset + Math.max(0, first ?? 50));
  const next = offset + nodes.length;
  const pageInfo: PageInfo =
    next < rows.length
      ? { hasNextPage: true, endCursor: Buffer.from(String(next), 'utf8').toString('base64') }
      : { hasNextPage: false, endCursor: null };
  return { totalCount: rows.length, pageInfo, nodes };
}

/** `graphqlutil.DecodeIntCursor`: base64 of a decimal offset; no cursor is offset 0; anything else is an error. */
function decodeIntCursor(cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined) {
    return 0;
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cursor) || cursor.length % 4 !== 0) {
    throw new Error('illegal base64 data at input byte 0');
  }
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  if (decoded === '') {
    return 0;
  }
  if (!/^\d+$/.test(decoded)) {
    throw new Error(`strconv.Atoi: parsing ${JSON.stringify(decoded)}: invalid syntax`);
  }
  return Number(decoded);
}

export function executorIdOf(ids: Map<string, number>, name: string): number {
  const known = ids.get(name);
  if (known !== undefined) {
    return known;
  }
  const id = ids.size + 1;
  ids.set(name, id);
  return id;
}

function toNode(context: ExecutorContext, executor: WorldExecutor, now: number) {
  const active = now - executor.lastSeenAt <= ACTIVE_FIELD_MS;
  // From 5.1: a single-queue executor reports `queueName`; a multi-queue one reports `queueNames` and no `queueName`.
  const multi = executor.queues.length > 1;
  const queueName = multi ? null : (executor.queues[0] ?? null);
  const queueNames = multi ? [...executor.queues] : [];
  const versions = {
    executorVersion: executor.version,
    srcCliVersion: executor.version,
    // Docker-mode executors (no Firecracker) report no ignite version.
    igniteVersion: '',
  };
  return {
    id: relayId('Executor', executorIdOf(context.ids, executor.name)),
    // The executor's own name: the VM's host name plus a per-process uuid.
    hostname: executor.name,
    queueName,
    queueNames,
    active,
    ...HOST_FACTS,
    ...versions,
    firstSeenAt: dateTime(executor.firstSeenAt),
    lastSeenAt: dateTime(executor.lastSeenAt),
    // A function, so graphql-js resolves it per row: a version Sourcegraph cannot parse fails this field alone.
    compatibility: () => (active ? ratedCompatibility(executor.version, context.version) : null),
    rowId: executorIdOf(context.ids, executor.name),
    firstSeenMs: executor.firstSeenAt,
    lastSeenMs: executor.lastSeenAt,
    searchable: [
      executor.name,
      queueName ?? '',
      ...queueNames,
      ...Object.values(HOST_FACTS),
      ...Object.values(versions),
    ],
  };
}

/** Sourcegraph's dev build version (`version.IsDev`): never rated. */
const DEV_VERSION = '0.0.0+dev';
/** Insiders builds (`<build>_<yyyy-mm-dd>_<sha>`), which Sourcegraph rates by date; here they are not rated. */
const INSIDERS_BUILD = /^[\w-]+_(\d{4}-\d{2}-\d{2})_(\d+\.\d+-)?\w+/;
/** What `Masterminds/semver.NewVersion` accepts: one to three numbers, optional pre-release and build metadata. */
const LENIENT_SEMVER = /^v?\d+(\.\d+)?(\.\d+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * `Executor.compatibility` as the resolver answers it for an active executor (`cmd/frontend/graphqlbackend/
 * executor.go`): dev builds are not rated, and a version semver cannot parse (the instance's, then the executor's)
 * fails the field with an error instead of answering null.
 */
export function ratedCompatibility(executor: string, instance: string): ReturnType<typeof compatibility> {
  if (executor === DEV_VERSION || instance === DEV_VERSION) {
    return null;
  }
  if (INSIDERS_BUILD.test(executor) || INSIDERS_BUILD.test(instance)) {
    return null;
  }
  for (const version of [instance, executor]) {
    if (!LENIENT_SEMVER.test(version)) {
      throw new Error('Invalid Semantic Version');
    }
  }
  return compatibility(executor, instance);
}

type Version = readonly [number, number, number];

/**
 * Sourcegraph's rule: an executor may be one minor release behind or ahead of the instance. Further behind is
 * `OUTDATED`, further ahead `VERSION_AHEAD`; a version that is not semver (dev or insiders builds) gives null.
 */
export function compatibility(executor: string, instance: string): 'OUTDATED' | 'UP_TO_DATE' | 'VERSION_AHEAD' | null {
  const e = semver(executor);
  const s = semver(instance);
  if (e === undefined || s === undefined) {
    return null;
  }
  if (compare(s, nextMinor(e)) > 0) {
    return 'OUTDATED';
  }
  if (compare(nextMinor(s), e) < 0) {
    return 'VERSION_AHEAD';
  }
  return 'UP_TO_DATE';
}

function semver(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

function nextMinor([major, minor]: Version): Version {
  return [major, minor + 1, 0];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
