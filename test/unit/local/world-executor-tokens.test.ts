import { describe, expect, it } from 'vitest';
import {
  acceptedAt,
  type ExecutorTokenChange,
  nextAcceptanceChange,
  rejectedSince,
  tokenInEffect,
} from '../../../local/world/executor-tokens.ts';
import { createWorld, type World } from '../../../local/world/world.ts';

const START = 1_000_000;
const BOOT_MS = 10_000;
const JOB_MS = 60_000;
const OLD = 'old-executor-shared-secret-000';
const NEW = 'new-executor-shared-secret-111';

/** A world whose executors read `secret.value` at launch and face Sourcegraph's token `history`. */
function setup(options: { random?: () => number } = {}) {
  const time = { now: START };
  const world = createWorld({
    clock: () => time.now,
    bootDelayMs: BOOT_MS,
    jobDurationMs: JOB_MS,
    maxJobsPerExecutor: 2,
    ...options,
  });
  const history: ExecutorTokenChange[] = [{ token: OLD, from: START }];
  const secret: { value: string | undefined } = { value: OLD };
  world.useExecutorAuth({ tokenAtBoot: () => secret.value, tokenHistory: () => history });
  const switchSourcegraph = (token: string) => history.push({ token, from: time.now });
  return { world, time, secret, switchSourcegraph };
}

const launch = (world: World, id: string) => world.launchInstance('g', { id, hostname: id, queues: ['codeintel'] });

describe('executor token history', () => {
  const history: ExecutorTokenChange[] = [
    { token: OLD, from: 100 },
    { token: NEW, from: 200 },
    // Two changes at one moment: the last one is what that moment reads.
    { token: '', from: 300 },
    { token: OLD, from: 300 },
  ];

  it.each([
    [50, OLD],
    [199, OLD],
    [200, NEW],
    [300, OLD],
  ])('at %d Sourcegraph compares against %s', (at, token) => {
    expect(tokenInEffect(history, at)).toBe(token);
  });

  it('accepts only the token in effect, never a missing or empty one', () => {
    expect(acceptedAt(history, NEW, 250)).toBe(true);
    expect(acceptedAt(history, OLD, 250)).toBe(false);
    expect(acceptedAt(history, undefined, 250)).toBe(false);
    expect(acceptedAt([{ token: '', from: 0 }], '', 10)).toBe(false);
  });

  it('finds the next change of an answer, and from when a token is no longer accepted', () => {
    expect(nextAcceptanceChange(history, OLD, 100, true)).toBe(200);
    expect(nextAcceptanceChange(history, OLD, 200, false)).toBe(300);
    expect(nextAcceptanceChange(history, OLD, 300, true)).toBeUndefined();
    expect(rejectedSince(history, NEW)).toBe(300);
    expect(rejectedSince(history, OLD)).toBeUndefined();
    expect(rejectedSince(history, 'never-the-token-000000')).toBe(100);
  });
});

describe('the world with executor authentication', () => {
  it('rejects an executor when Sourcegraph switches: its jobs go back to the queue then, and it heartbeats no more', () => {
    // Prepare: two executors with the old token, running four jobs
    const { world, time, switchSourcegraph } = setup();
    launch(world, 'i-1');
    launch(world, 'i-2');
    world.enqueue('codeintel', 4);
    time.now += BOOT_MS + 12_000;

    // Act: Sourcegraph takes a new token; the world is looked at only well after
    switchSourcegraph(NEW);
    const switchedAt = time.now;
    time.now += 40_000;
    const executors = world.executors();

    // Assess
    expect(world.depth('codeintel')).toEqual({ queued: 4, processing: 0, errored: 0 });
    expect(world.jobs().map((job) => job.interruptions)).toEqual([1, 1, 1, 1]);
    expect(world.stats()).toMatchObject({ jobsLostToRejection: 4, jobsInterrupted: 4, executorsRejected: 2 });
    expect(executors.map((executor) => executor.rejectedSince)).toEqual([switchedAt, switchedAt]);
    // The last heartbeat was the one at boot + 10 s, on the 5 s beat.
    expect(executors.map((executor) => executor.lastSeenAt)).toEqual([
      START + BOOT_MS + 10_000,
      START + BOOT_MS + 10_000,
    ]);
    const nameOf = (id: string) => world.instance(id)?.executor?.name;
    expect(world.rejections()).toEqual([
      { instance: 'i-1', executor: nameOf('i-1'), from: switchedAt },
      { instance: 'i-2', executor: nameOf('i-2'), from: switchedAt },
    ]);
    expect(world.rejectionWindow()).toEqual({ from: switchedAt });
  });

  it('lets a VM launched with the new token in: it takes the requeued jobs, and the window closes with the old VMs', () => {
    // Prepare: one executor with the old token runs two jobs; Sourcegraph and the secret switch
    const { world, time, secret, switchSourcegraph } = setup();
    launch(world, 'i-old');
    world.enqueue('codeintel', 2);
    time.now += BOOT_MS;
    switchSourcegraph(NEW);
    const switchedAt = time.now;
    secret.value = NEW;

    // Act: a replacement boots, then the old VM goes
    launch(world, 'i-new');
    time.now += BOOT_MS;
    const running = world.jobs().map((job) => job.executor);
    time.now += 5_000;
    world.terminateInstance('i-old');

    // Assess
    const fresh = world.instance('i-new')?.executor;
    expect(fresh?.rejectedSince).toBeUndefined();
    expect(running).toEqual([fresh?.name, fresh?.name]);
    expect(world.rejections()).toEqual([
      { instance: 'i-old', executor: world.instance('i-old')?.executor?.name, from: switchedAt, to: time.now },
    ]);
    expect(world.rejectionWindow()).toEqual({ from: switchedAt, to: time.now });
    expect(world.stats()).toMatchObject({ jobsLostToRejection: 2, jobsInterrupted: 2 });
  });

  it('keeps an executor that boots with no token out of Sourcegraph: never listed, never given a job', () => {
    // Prepare: the secret does not exist yet
    const { world, time, secret } = setup();
    secret.value = undefined;
    world.enqueue('codeintel', 1);

    // Act
    launch(world, 'i-1');
    time.now += BOOT_MS + 30_000;

    // Assess
    expect(world.instance('i-1')?.state).toBe('running');
    expect(world.executors()).toEqual([]);
    expect(world.depth('codeintel').queued).toBe(1);
    expect(world.rejections()).toMatchObject([{ instance: 'i-1', from: START + BOOT_MS }]);
  });

  it('lets in a VM refused at boot once Sourcegraph takes the token it read: first seen then', () => {
    // Prepare: the secret switched before Sourcegraph did (a VM launched in between reads the new one)
    const { world, time, secret, switchSourcegraph } = setup();
    secret.value = NEW;
    launch(world, 'i-1');
    world.enqueue('codeintel', 1);
    time.now += BOOT_MS + 7_000;
    const refused = world.executors();

    // Act
    switchSourcegraph(NEW);
    const switchedAt = time.now;
    time.now += 6_000;

    // Assess
    expect(refused).toEqual([]);
    expect(world.executors()).toMatchObject([{ firstSeenAt: switchedAt, lastSeenAt: switchedAt + 5_000 }]);
    expect(world.jobs()[0]).toMatchObject({ state: 'processing', startedAt: switchedAt });
    expect(world.rejections()).toMatchObject([{ instance: 'i-1', from: START + BOOT_MS, to: switchedAt }]);
  });

  it('accepts throughout the VMs launched before it was told how executors authenticate', () => {
    // Prepare
    const time = { now: START };
    const world = createWorld({ clock: () => time.now, bootDelayMs: BOOT_MS });
    launch(world, 'i-1');
    world.useExecutorAuth({ tokenAtBoot: () => undefined, tokenHistory: () => [{ token: NEW, from: START }] });

    // Act
    time.now += BOOT_MS + 5_000;

    // Assess
    expect(world.executors()).toHaveLength(1);
    expect(world.rejections()).toEqual([]);
  });

  it('ends up in the same state however often it is looked at', () => {
    // Prepare: one script, run twice: looked at every second, and only when the script acts
    const run = (lookEveryMs: number | undefined) => {
      const { world, time, secret, switchSourcegraph } = setup({ random: sequence() });
      const step = (ms: number) => {
        const until = time.now + ms;
        while (lookEveryMs !== undefined && time.now + lookEveryMs <= until) {
          time.now += lookEveryMs;
          world.advance();
        }
        time.now = until;
      };
      launch(world, 'i-1');
      launch(world, 'i-2');
      world.enqueue('codeintel', 5);
      step(BOOT_MS + 45_000);
      // Sourcegraph switches at the very moment the first jobs end and the fifth is taken (looked at then, or not).
      step(JOB_MS - 45_000);
      switchSourcegraph(NEW);
      launch(world, 'i-3');
      step(3_000);
      secret.value = NEW;
      launch(world, 'i-4');
      step(BOOT_MS + 2 * JOB_MS);
      world.terminateInstance('i-1');
      return {
        jobs: world.jobs().map((job) => ({ ...job })),
        stats: world.stats(),
        rejections: world.rejections(),
        executors: world.executors().map(({ name, firstSeenAt, lastSeenAt, rejectedSince }) => ({
          name,
          firstSeenAt,
          lastSeenAt,
          rejectedSince,
        })),
      };
    };

    // Act
    const often = run(1_000);
    const rarely = run(undefined);

    // Assess
    expect(rarely).toEqual(often);
    expect(often.stats).toMatchObject({ jobsLostToRejection: 1, executorsRejected: 3, jobsCompleted: 5 });
  });
});

/** A fixed stream in [0, 1), so both runs name their executors alike. */
function sequence(): () => number {
  let state = 7;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}
