import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import {
  type ExecutorCompatibility,
  type ExecutorDirectory,
  type ExecutorRecord,
  executorHostOf,
} from '../ports/executor-directory.ts';
import { throwIfAborted } from './abort.ts';

/** Sourcegraph rates an executor's version only while it heartbeated within three 5 s intervals (`Executor.active`). */
const RATED_WITHIN_MS = 3 * 5_000;

/** A heartbeat row as Sourcegraph stores it; `compatibility` is what it would answer while the executor is active. */
export interface ExecutorRow {
  readonly name: string;
  readonly queueNames: readonly string[];
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly version: string;
  readonly compatibility?: ExecutorCompatibility;
}

export interface StartExecutor {
  /** Default `['batches']`. */
  readonly queues?: readonly string[];
  /** Default `'6.10.0'`. */
  readonly version?: string;
  /** Default `'UP_TO_DATE'`; `null`: Sourcegraph does not rate it (dev or insiders builds). */
  readonly compatibility?: ExecutorCompatibility | null;
}

export interface InMemoryExecutorDirectoryOptions {
  /** Epoch ms; what a heartbeating executor's `lastSeenAt` reads as. */
  readonly clock: Clock;
}

export interface InMemoryExecutorDirectory extends ExecutorDirectory {
  /**
   * An executor process starts on VM `host` and heartbeats from now on, so every listing shows it seen just now.
   * Returns its name, `<host>-<uuid>` as a real executor names itself; each start is a new row with a new UUID.
   */
  start(host: string, options?: StartExecutor): string;
  /** The executor stops heartbeating now (its VM went away, or it died); its row stays with this last heartbeat. */
  stop(name: string): void;
  /** Puts a row in exactly as given (e.g. a name without a UUID), replacing one of the same name; it does not heartbeat. */
  put(row: ExecutorRow): void;
  /** Deletes a row, as Sourcegraph's janitor does with rows a week silent. */
  remove(name: string): void;
  /** The rows as stored, newest first. */
  rows(): readonly ExecutorRow[];
  /** The next `times` listings throw `error` (e.g. a Sourcegraph client error). */
  failNext(error: Error, times?: number): void;
  /** Listings asked for, failed ones included. */
  readonly calls: { readonly list: number };
}

interface StoredRow {
  row: ExecutorRow;
  /** Heartbeating: `lastSeenAt` follows the clock. */
  live: boolean;
  /** Sourcegraph's row id: ties on `firstSeenAt` are listed by it, oldest first. */
  readonly id: number;
}

/**
 * Sourcegraph's executor heartbeat table held in memory, listed as the `executors` query lists it: every row, silent
 * ones included, newest `firstSeenAt` first (ties by row id), each rated only while it heartbeated in the last 15 s.
 */
export function createInMemoryExecutorDirectory(options: InMemoryExecutorDirectoryOptions): InMemoryExecutorDirectory {
  const { clock } = options;
  const stored = new Map<string, StoredRow>();
  const calls = { list: 0 };
  let nextId = 1;
  let failure: { error: Error; remaining: number } | undefined;

  const snapshot = (entry: StoredRow, now: number): ExecutorRow =>
    entry.live ? { ...entry.row, lastSeenAt: Math.max(entry.row.lastSeenAt, now) } : entry.row;
  const ordered = (now: number): ExecutorRow[] =>
    [...stored.values()]
      .sort((a, b) => b.row.firstSeenAt - a.row.firstSeenAt || a.id - b.id)
      .map((entry) => snapshot(entry, now));
  const existing = (name: string): StoredRow => {
    const entry = stored.get(name);
    if (entry === undefined) {
      throw new RangeError(`no executor named ${JSON.stringify(name)}`);
    }
    return entry;
  };

  return {
    calls,
    async list(call: CallOptions = {}) {
      throwIfAborted(call.signal, 'ExecutorsPage');
      calls.list += 1;
      if (failure !== undefined) {
        const { error } = failure;
        failure.remaining -= 1;
        if (failure.remaining <= 0) {
          failure = undefined;
        }
        throw error;
      }
      const now = clock();
      return ordered(now).map((row): ExecutorRecord => {
        const rated = now - row.lastSeenAt <= RATED_WITHIN_MS;
        return {
          name: row.name,
          host: executorHostOf(row.name),
          queueNames: [...row.queueNames],
          firstSeenAt: row.firstSeenAt,
          lastSeenAt: row.lastSeenAt,
          version: row.version,
          compatibility: rated ? row.compatibility : undefined,
        };
      });
    },
    start(host, start = {}) {
      if (host === '') {
        throw new RangeError('an executor needs a host name');
      }
      const id = nextId++;
      const name = `${host}-${uuidOf(id)}`;
      const now = clock();
      const compatibility = start.compatibility === undefined ? 'UP_TO_DATE' : start.compatibility;
      const row: ExecutorRow = {
        name,
        queueNames: [...(start.queues ?? ['batches'])],
        firstSeenAt: now,
        lastSeenAt: now,
        version: start.version ?? '6.10.0',
        ...(compatibility === null ? {} : { compatibility }),
      };
      stored.set(name, { row, live: true, id });
      return name;
    },
    stop(name) {
      const entry = existing(name);
      if (entry.live) {
        entry.row = snapshot(entry, clock());
        entry.live = false;
      }
    },
    put(row) {
      if (row.name === '' || !Number.isFinite(row.firstSeenAt) || !Number.isFinite(row.lastSeenAt)) {
        throw new RangeError('a row needs a name and finite firstSeenAt and lastSeenAt');
      }
      const id = stored.get(row.name)?.id ?? nextId++;
      stored.set(row.name, { row: { ...row, queueNames: [...row.queueNames] }, live: false, id });
    },
    remove(name) {
      existing(name);
      stored.delete(name);
    },
    rows: () => ordered(clock()),
    failNext(error, times = 1) {
      if (!Number.isInteger(times) || times < 1) {
        throw new RangeError(`times must be a whole number of at least 1, got ${times}`);
      }
      failure = { error, remaining: times };
    },
  };
}

/** A canonical UUID made from a counter, so names are repeatable across runs. */
function uuidOf(id: number): string {
  return `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`;
}
