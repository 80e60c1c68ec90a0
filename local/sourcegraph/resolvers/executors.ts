import * as z from 'zod';
import type { World, WorldExecutor } from '../../world/world.ts';
import type { Viewer } from '../auth.ts';
import { argsOf, dateTime, offsetPage, relayId, requireSiteAdmin } from './common.ts';

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
 * `executors(query, active, first, after)`, site-admin only: heartbeat rows newest first (`first_seen_at DESC`),
 * filtered by a case-insensitive substring over hostname, queue names, OS, architecture and versions.
 */
export function executors(context: ExecutorContext, viewer: Viewer, raw: unknown) {
  requireSiteAdmin(viewer);
  const { query, active, first, after } = argsOf(args, raw);
  const now = context.world.clock();
  const needle = query?.trim().toLowerCase() ?? '';
  const listed = context.world.executors();
  // Row ids grow with first sight, oldest first, like the heartbeat table's serial ids.
  for (const executor of listed.toReversed()) {
    executorIdOf(context.ids, executor.name);
  }
  const rows = listed
    .map((executor) => toNode(context, executor, now))
    .filter((node) => active !== true || now - node.lastSeenMs <= ACTIVE_FILTER_MS)
    .filter((node) => needle === '' || node.searchable.some((text) => text.toLowerCase().includes(needle)));
  const { nodes, pageInfo } = offsetPage(rows, first ?? 50, after);
  return { totalCount: rows.length, pageInfo, nodes };
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
    active: now - executor.lastSeenAt <= ACTIVE_FIELD_MS,
    ...HOST_FACTS,
    ...versions,
    firstSeenAt: dateTime(executor.firstSeenAt),
    lastSeenAt: dateTime(executor.lastSeenAt),
    compatibility: compatibility(executor.version, context.version),
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
