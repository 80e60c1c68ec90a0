import type { CallOptions } from './call-options.ts';

/**
 * Sourcegraph's rating of an executor's version against its own (`Executor.compatibility`): one minor release either
 * way is `UP_TO_DATE`. Sourcegraph rates only executors that heartbeated in the last 15 s, and not dev or mixed
 * insiders builds; every other record has none.
 */
export type ExecutorCompatibility = 'UP_TO_DATE' | 'OUTDATED' | 'VERSION_AHEAD';

/** One row of Sourcegraph's executor heartbeat table, as the `executors` query returns it. */
export interface ExecutorRecord {
  /** The executor's own name, `<OS hostname>-<random UUID>`: unique per executor process, not per VM. */
  readonly name: string;
  /**
   * The VM's host name: `name` without its trailing `-<UUID>`. Undefined when the name does not end in a UUID or
   * nothing precedes it (an executor that does not name itself the usual way): such a record explains no VM.
   */
  readonly host: string | undefined;
  /** The queues it takes jobs from (`queueName`, or `queueNames` for a multi-queue executor), as reported. */
  readonly queueNames: readonly string[];
  /** Epoch ms of its first heartbeat. */
  readonly firstSeenAt: number;
  /** Epoch ms of its latest heartbeat; executors send one every 5 s while they run. */
  readonly lastSeenAt: number;
  /** `executorVersion` as the executor reports it. */
  readonly version: string;
  readonly compatibility: ExecutorCompatibility | undefined;
}

/**
 * Every executor Sourcegraph knows, whether it still heartbeats or not, newest first (`first_seen_at DESC`). Rows of
 * silent executors stay until Sourcegraph's janitor deletes them (a week without a heartbeat, by default), so a VM
 * whose executor died is still seen with its last heartbeat.
 *
 * All or nothing: a read that fails, is refused (not a site admin), or answers something that does not fit throws,
 * never a partial list. The Sourcegraph adapter throws the Sourcegraph client's errors (`SourcegraphError` and its
 * subclasses); no message carries the access token.
 */
export interface ExecutorDirectory {
  list(options?: CallOptions): Promise<readonly ExecutorRecord[]>;
}

/** A random (version 4) UUID in canonical form: 36 characters, hex groups of 8-4-4-4-12, joined by hyphens. */
const UUID_SUFFIX = /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The VM host name in an executor's name. The executor names itself `hostname + "-" + uuid` (Sourcegraph
 * `cmd/executor/internal/config/config.go`), and a host name may itself contain hyphens (`ip-10-0-0-1`,
 * `executors-abcd`), so only a whole canonical UUID at the very end is taken off; everything before it is the host.
 */
export function executorHostOf(name: string): string | undefined {
  const match = UUID_SUFFIX.exec(name);
  if (match === null) {
    return undefined;
  }
  const host = name.slice(0, match.index);
  return host === '' ? undefined : host;
}
