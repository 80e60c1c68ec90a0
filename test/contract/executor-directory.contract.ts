import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueName } from '../../shared/domain/queues.ts';
import type { ExecutorDirectory, ExecutorRecord } from '../../shared/ports/executor-directory.ts';

/** Whole seconds: Sourcegraph writes `DateTime` without fractions. */
export const START = Date.parse('2025-03-03T10:00:00Z');
/** Executors heartbeat every 5 s; moving the clock by multiples of it keeps the last heartbeat exactly on the clock. */
const BEAT_MS = 5_000;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export interface ExecutorDirectorySubject {
  readonly directory: ExecutorDirectory;
  /**
   * A new VM named `host` comes up now and its executor heartbeats from now on (a new name each time: a host name can
   * come back, e.g. an EC2 private IP reused by a later instance). The clock starts at `START`.
   */
  boot(host: string, queues: readonly QueueName[]): void | Promise<void>;
  /** The newest VM named `host` goes away now: its executor's heartbeats stop. */
  kill(host: string): void | Promise<void>;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** The next listing fails as Sourcegraph failing does (an error answer); later ones work again. */
  failNextRead(): void | Promise<void>;
  close?(): Promise<void>;
}

/**
 * What the Sourcegraph adapter and the in-memory fake do alike (style.md #12). `makeSubject` starts with no executor
 * and a Sourcegraph of the executors' own version, so every heartbeating executor is rated `UP_TO_DATE`.
 */
export function defineExecutorDirectoryContract(
  name: string,
  makeSubject: () => ExecutorDirectorySubject | Promise<ExecutorDirectorySubject>,
): void {
  describe(`ExecutorDirectory contract: ${name}`, () => {
    let subject: ExecutorDirectorySubject;
    let now: number;
    beforeEach(async () => {
      subject = await makeSubject();
      now = START;
    });
    afterEach(async () => {
      await subject.close?.();
    });
    const advance = (ms: number) => {
      subject.advance(ms);
      now += ms;
    };
    const byHost = (records: readonly ExecutorRecord[], host: string) =>
      records.filter((record) => record.host === host);

    it('lists nothing when no executor ever heartbeated', async () => {
      // Act
      const records = await subject.directory.list();

      // Assess
      expect(records).toEqual([]);
    });

    it('lists every executor newest first, with its host, queues, version and heartbeat times', async () => {
      // Prepare
      await subject.boot('ip-10-0-0-1', ['codeintel']);
      advance(60_000);
      await subject.boot('ip-10-0-0-2', ['batches', 'codeintel']);
      advance(60_000);
      await subject.boot('ip-10-0-0-3', ['batches']);
      advance(2 * BEAT_MS);

      // Act
      const records = await subject.directory.list();

      // Assess
      expect(records.map((record) => record.host)).toEqual(['ip-10-0-0-3', 'ip-10-0-0-2', 'ip-10-0-0-1']);
      for (const record of records) {
        expect(record.name).toMatch(new RegExp(`^${record.host}-${UUID}$`));
        expect(record.lastSeenAt).toBe(now);
        expect(record.version).not.toBe('');
        expect(record.compatibility).toBe('UP_TO_DATE');
      }
      expect(records.map((record) => record.firstSeenAt)).toEqual([START + 120_000, START + 60_000, START]);
      expect(records.map((record) => [...record.queueNames].sort())).toEqual([
        ['batches'],
        ['batches', 'codeintel'],
        ['codeintel'],
      ]);
    });

    it('still lists an executor that stopped heartbeating, with its last heartbeat and no rating', async () => {
      // Prepare
      await subject.boot('ip-10-0-0-1', ['batches']);
      await subject.boot('ip-10-0-0-2', ['batches']);
      advance(6 * BEAT_MS);
      await subject.kill('ip-10-0-0-1');
      const stoppedAt = now;
      // Past the `active: true` filter's 15 minutes: the directory must not use it.
      advance(20 * 60_000);

      // Act
      const records = await subject.directory.list();

      // Assess
      const [silent] = byHost(records, 'ip-10-0-0-1');
      const [live] = byHost(records, 'ip-10-0-0-2');
      expect(silent).toMatchObject({ firstSeenAt: START, lastSeenAt: stoppedAt, compatibility: undefined });
      expect(live).toMatchObject({ firstSeenAt: START, lastSeenAt: now, compatibility: 'UP_TO_DATE' });
    });

    it('keeps a dead executor and its successor on a reused host name as two records', async () => {
      // Prepare
      await subject.boot('ip-10-0-0-7', ['codeintel']);
      advance(12 * BEAT_MS);
      await subject.kill('ip-10-0-0-7');
      const stoppedAt = now;
      advance(12 * BEAT_MS);
      await subject.boot('ip-10-0-0-7', ['codeintel']);
      advance(BEAT_MS);

      // Act
      const records = await subject.directory.list();

      // Assess: newest first, so the live successor comes before the dead one
      const [successor, dead] = byHost(records, 'ip-10-0-0-7');
      expect(records).toHaveLength(2);
      expect(successor).toMatchObject({ firstSeenAt: stoppedAt + 12 * BEAT_MS, lastSeenAt: now });
      expect(dead).toMatchObject({ firstSeenAt: START, lastSeenAt: stoppedAt });
      expect(successor?.name).not.toBe(dead?.name);
    });

    it('lists every one of many executors exactly once', async () => {
      // Prepare: more rows than an adapter's page, some booted at the same moment
      const hosts = Array.from({ length: 11 }, (_, index) => `executors-${String(index).padStart(2, '0')}`);
      for (const [index, host] of hosts.entries()) {
        await subject.boot(host, ['batches']);
        if (index % 3 === 2) {
          advance(BEAT_MS);
        }
      }
      await subject.kill('executors-04');
      advance(BEAT_MS);

      // Act
      const records = await subject.directory.list();

      // Assess
      expect(records.map((record) => record.host).sort()).toEqual(hosts);
      expect(new Set(records.map((record) => record.name)).size).toBe(hosts.length);
      const firstSeen = records.map((record) => record.firstSeenAt);
      expect(firstSeen).toEqual(firstSeen.toSorted((a, b) => b - a));
    });

    it('throws when Sourcegraph fails, returning nothing, and reads normally afterwards', async () => {
      // Prepare
      await subject.boot('ip-10-0-0-1', ['batches']);
      await subject.failNextRead();

      // Act
      const failed = subject.directory.list();
      await expect(failed).rejects.toBeInstanceOf(Error);
      const next = await subject.directory.list();

      // Assess
      expect(next.map((record) => record.host)).toEqual(['ip-10-0-0-1']);
    });

    it('refuses to start once the deadline has passed', async () => {
      // Prepare
      await subject.boot('ip-10-0-0-1', ['batches']);

      // Act
      const late = subject.directory.list({ signal: AbortSignal.abort() });

      // Assess
      await expect(late).rejects.toBeInstanceOf(Error);
    });
  });
}
