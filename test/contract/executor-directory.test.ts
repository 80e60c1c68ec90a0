import { describe, expect, it } from 'vitest';
import { createInMemoryExecutorDirectory } from '../../shared/fakes/index.ts';
import { executorHostOf } from '../../shared/ports/executor-directory.ts';
import { SourcegraphUnavailableError } from '../../shared/sourcegraph/errors.ts';
import { defineExecutorDirectoryContract, START } from './executor-directory.contract.ts';

defineExecutorDirectoryContract('in-memory fake', () => {
  let now = START;
  const fake = createInMemoryExecutorDirectory({ clock: () => now });
  const newest = new Map<string, string>();
  return {
    directory: fake,
    boot(host, queues) {
      newest.set(host, fake.start(host, { queues }));
    },
    kill(host) {
      const name = newest.get(host);
      if (name === undefined) {
        throw new Error(`no VM named ${host} was booted`);
      }
      fake.stop(name);
    },
    advance(ms) {
      now += ms;
    },
    failNextRead() {
      fake.failNext(new SourcegraphUnavailableError('Sourcegraph ExecutorsPage: HTTP 502 (after 3 attempts)'));
    },
  };
});

describe('executorHostOf', () => {
  const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it.each([
    ['an EC2 private DNS name', `ip-10-0-0-1-${uuid}`, 'ip-10-0-0-1'],
    ['a GCE instance name with hyphens', `sourcegraph-executors-x7k2-${uuid}`, 'sourcegraph-executors-x7k2'],
    ['a fully qualified name', `ip-10-0-0-1.ec2.internal-${uuid}`, 'ip-10-0-0-1.ec2.internal'],
    ['an upper-case UUID', `host-${uuid.toUpperCase()}`, 'host'],
    ['a host that itself ends in a UUID', `vm-${uuid}-${uuid}`, `vm-${uuid}`],
    ['a one-letter host', `a-${uuid}`, 'a'],
  ])('takes the trailing UUID off %s', (_case, name, host) => {
    // Act
    const parsed = executorHostOf(name);

    // Assess
    expect(parsed).toBe(host);
  });

  it.each([
    ['no UUID', 'ip-10-0-0-1'],
    ['only a UUID', uuid],
    ['nothing before the hyphen', `-${uuid}`],
    ['a UUID without its hyphen', `host${uuid}`],
    ['a UUID cut short', `host-${uuid.slice(0, -1)}`],
    ['a UUID with a non-hex digit', `host-${uuid.slice(0, -1)}g`],
    ['a UUID in the wrong grouping', 'host-0f8fad5bd-9cb-469f-a165-70867728950e'],
    ['a UUID without hyphens', `host-${uuid.replaceAll('-', '')}`],
    ['text after the UUID', `host-${uuid}-1`],
    ['an empty name', ''],
  ])('finds no host in a name with %s', (_case, name) => {
    // Act
    const parsed = executorHostOf(name);

    // Assess
    expect(parsed).toBeUndefined();
  });
});

/** The control helpers the contract does not cover. */
describe('createInMemoryExecutorDirectory helpers', () => {
  it('passes a rating through only while the executor heartbeats, and none for an unrated build', async () => {
    // Prepare
    let now = START;
    const fake = createInMemoryExecutorDirectory({ clock: () => now });
    const outdated = fake.start('old', { version: '6.8.0', compatibility: 'OUTDATED' });
    fake.start('dev', { version: '0.0.0+dev', compatibility: null });
    now += 10_000;
    fake.stop(outdated);

    // Act
    const soon = await fake.list();
    now += 15_001;
    const later = await fake.list();

    // Assess: rated within three 5 s heartbeat intervals of the last one, as Sourcegraph's `active` field
    expect(soon.map(({ host, version, compatibility }) => ({ host, version, compatibility }))).toEqual([
      { host: 'old', version: '6.8.0', compatibility: 'OUTDATED' },
      { host: 'dev', version: '0.0.0+dev', compatibility: undefined },
    ]);
    expect(later.map((record) => record.compatibility)).toEqual([undefined, undefined]);
  });

  it('holds rows as given, replaces one of the same name in its place, and deletes as the janitor does', async () => {
    // Prepare
    const fake = createInMemoryExecutorDirectory({ clock: () => START });
    const row = {
      name: 'custom-executor',
      queueNames: ['batches'],
      firstSeenAt: START,
      lastSeenAt: START,
      version: '6.10.0',
    };
    fake.put(row);
    const started = fake.start('ip-10-0-0-1');
    fake.put({ ...row, lastSeenAt: START + 1 });

    // Act
    const listed = await fake.list();
    fake.remove(started);
    const afterJanitor = await fake.list();

    // Assess: ties on firstSeenAt in row order; a name without a UUID explains no host
    expect(listed.map(({ name, host, lastSeenAt }) => ({ name, host, lastSeenAt }))).toEqual([
      { name: 'custom-executor', host: undefined, lastSeenAt: START + 1 },
      { name: started, host: 'ip-10-0-0-1', lastSeenAt: START },
    ]);
    expect(listed[1]?.queueNames).toEqual(['batches']);
    expect(afterJanitor.map((record) => record.name)).toEqual(['custom-executor']);
    expect(fake.rows()).toEqual([{ ...row, lastSeenAt: START + 1 }]);
  });

  it('fails the next listings with the given error, counting every call', async () => {
    // Prepare
    const fake = createInMemoryExecutorDirectory({ clock: () => START });
    const outage = new Error('injected: Sourcegraph is down');
    fake.failNext(outage, 2);

    // Act
    const first = fake.list();
    const second = fake.list();
    await expect(first).rejects.toBe(outage);
    await expect(second).rejects.toBe(outage);
    const third = await fake.list();

    // Assess
    expect(third).toEqual([]);
    expect(fake.calls.list).toBe(3);
  });

  it('refuses setup that cannot be a heartbeat row', () => {
    // Prepare
    const fake = createInMemoryExecutorDirectory({ clock: () => START });
    const row = { name: 'x', queueNames: [], firstSeenAt: START, lastSeenAt: Number.NaN, version: '' };

    // Assess
    expect(() => fake.start('')).toThrow(RangeError);
    expect(() => fake.stop('unknown')).toThrow(RangeError);
    expect(() => fake.remove('unknown')).toThrow(RangeError);
    expect(() => fake.put(row)).toThrow(RangeError);
    expect(() => fake.failNext(new Error('x'), 0)).toThrow(RangeError);
  });
});
