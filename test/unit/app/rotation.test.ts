import { describe, expect, it } from 'vitest';
import {
  type RotationDeps,
  RotationError,
  RotationInProgressError,
  rotateExecutorSecret,
} from '../../../shared/app/rotation.ts';
import { SecretValue } from '../../../shared/config/secret.ts';
import {
  createInMemoryExecutorSecret,
  createInMemorySiteConfig,
  type InMemoryExecutorSecret,
  type InMemorySiteConfig,
} from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import { withExecutorToken } from '../../../shared/sourcegraph/site-config-edit.ts';

const OLD = 'old-executor-token-0123456789abcdefghij';
const CONTENTS = `{
  // Executors: the token is rotated by fleetplane.
  "externalURL": "https://sourcegraph.example.com",
  "executors.accessToken": "${OLD}",
  /* another secret, kept as Sourcegraph redacts it */
  "email.smtp": { "password": "smtp-secret" },
}
`;

class Crash extends Error {}

interface World {
  readonly secret: InMemoryExecutorSecret;
  readonly sourcegraph: InMemorySiteConfig;
  readonly lines: string[];
  /** Every token value the run ever produced or held, to scan output for. */
  readonly tokens: Set<string>;
}

function world(): World {
  const secret = createInMemoryExecutorSecret();
  secret.seedCurrent('v-initial', OLD);
  return { secret, sourcegraph: createInMemorySiteConfig({ contents: CONTENTS }), lines: [], tokens: new Set([OLD]) };
}

let seed = 1;
/**
 * The rotation's dependencies over the world. With `crashAfter`, the process dies right after that many external
 * calls have taken effect; `afterEachCall` runs after every call (to check invariants between calls).
 */
function depsOf(w: World, options: { crashAfter?: number; afterEachCall?: () => void } = {}): RotationDeps {
  let calls = 0;
  const counted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await call(...args);
      calls += 1;
      options.afterEachCall?.();
      if (options.crashAfter !== undefined && calls >= options.crashAfter) {
        throw new Crash(`killed after call ${calls}`);
      }
      return result;
    };
  let ids = 0;
  return {
    secret: {
      current: counted((o) => w.secret.current(o)),
      staged: counted((r, o) => w.secret.staged(r, o)),
      stage: counted(async (r, v, o) => {
        w.tokens.add(v.reveal());
        return w.secret.stage(r, v, o);
      }),
      promote: counted((r, o) => w.secret.promote(r, o)),
      pendingRotation: counted((o) => w.secret.pendingRotation(o)),
    },
    siteConfig: {
      read: counted((o) => w.sourcegraph.read(o)),
      update: counted((id, c, o) => w.sourcegraph.update(id, c, o)),
    },
    executorAuth: { check: counted((t, o) => w.sourcegraph.executorAuth.check(t, o)) },
    withExecutorToken,
    randomBytes: (count) => Uint8Array.from({ length: count }, (_, i) => (seed * 31 + i * 7) % 256),
    newRotationId: () => `00000000-0000-4000-8000-${String(seed * 1000 + ++ids).padStart(12, '0')}`,
    logger: createJsonLogger({ write: (line) => w.lines.push(line) }),
  };
}

/** The one invariant: Sourcegraph never holds a token that no version of the secret holds. */
function assertConsistent(w: World): void {
  const held = w.secret.versions().length;
  const sourcegraphToken = w.sourcegraph.executorToken();
  const values = new Set<string>();
  for (const token of w.tokens) {
    values.add(token);
  }
  expect(held).toBeGreaterThan(0);
  expect(values.has(sourcegraphToken), 'Sourcegraph holds a token the secret store never held').toBe(true);
}

async function finalState(w: World) {
  const current = await w.secret.current();
  return {
    current: current?.value.reveal(),
    sourcegraph: w.sourcegraph.executorToken(),
    pending: await w.secret.pendingRotation(),
  };
}

function assertNoTokenLeaked(w: World, errors: readonly unknown[]): void {
  const output = [...w.lines, ...errors.map((error) => `${String(error)} ${JSON.stringify(error)}`)].join('\n');
  for (const token of w.tokens) {
    expect(output.includes(token), 'a token appears in logs or errors').toBe(false);
  }
}

describe('rotateExecutorSecret', () => {
  it('stores, writes, checks and promotes a new token, changing nothing else in the site configuration', async () => {
    // Prepare
    const w = world();

    // Act
    const report = await rotateExecutorSecret(depsOf(w), {});

    // Assess
    const state = await finalState(w);
    expect(state.current).not.toBe(OLD);
    expect(state.current).toHaveLength(40);
    expect(state).toMatchObject({ sourcegraph: state.current, pending: undefined });
    expect(report.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'createSecret:done',
      'setSecret:done',
      'testSecret:done',
      'finishSecret:done',
    ]);
    expect(w.sourcegraph.snapshot().contents).toBe(CONTENTS.replace(OLD, state.current ?? ''));
    expect(await w.sourcegraph.executorAuth.check(new SecretValue(OLD))).toBe('rejected');
    assertNoTokenLeaked(w, []);
  });

  it('completes when killed after any external call and run again, never leaving Sourcegraph ahead of the store', async () => {
    // Prepare: how many external calls a clean rotation makes
    const probe = world();
    let total = 0;
    await rotateExecutorSecret(depsOf(probe, { afterEachCall: () => (total += 1) }), {});

    for (let crashAfter = 1; crashAfter <= total; crashAfter++) {
      seed += 1;
      const w = world();
      const errors: unknown[] = [];

      // Act: killed after call N, then run again (resuming the rotation under way, if one was staged)
      const first = await rotateExecutorSecret(
        depsOf(w, { crashAfter, afterEachCall: () => assertConsistent(w) }),
        {},
      ).catch((error: unknown) => error);
      errors.push(first);
      await rotateExecutorSecret(depsOf(w, { afterEachCall: () => assertConsistent(w) }), {});

      // Assess
      // The simulated kill surfaces as itself, or wrapped by the step it interrupted.
      const killed = first instanceof Crash || (first instanceof Error && first.cause instanceof Crash);
      expect(killed, `crash after call ${crashAfter}`).toBe(true);
      const state = await finalState(w);
      expect(state.current, `crash after call ${crashAfter}`).not.toBe(OLD);
      expect(state).toMatchObject({ sourcegraph: state.current, pending: undefined });
      assertNoTokenLeaked(w, errors);
    }
    expect(total).toBeGreaterThan(8);
  });

  it('reapplies its change when someone else edits the site configuration between read and write', async () => {
    // Prepare: an admin saves an edit right after fleetplane reads
    const w = world();
    const deps = depsOf(w);
    let edited = false;
    const racing: RotationDeps = {
      ...deps,
      siteConfig: {
        read: async (o) => {
          const read = await deps.siteConfig.read(o);
          if (!edited) {
            edited = true;
            w.sourcegraph.replace(w.sourcegraph.snapshot().contents.replace('example.com', 'example.org'));
          }
          return read;
        },
        update: deps.siteConfig.update,
      },
    };

    // Act
    await rotateExecutorSecret(racing, {});

    // Assess: both the admin's edit and the new token are in place
    const state = await finalState(w);
    expect(w.sourcegraph.snapshot().contents).toContain('https://sourcegraph.example.org');
    expect(state.sourcegraph).toBe(state.current);
  });

  it('stops with a clear error and changes nothing in Sourcegraph when the site configuration is file-managed', async () => {
    // Prepare
    const w = world();
    w.sourcegraph.setEditsAllowed(false);

    // Act
    const error = await rotateExecutorSecret(depsOf(w), {}).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(RotationError);
    expect(String(error)).toMatch(/SITE_CONFIG_FILE/);
    expect(w.sourcegraph.executorToken()).toBe(OLD);
    expect((await w.secret.current())?.value.reveal()).toBe(OLD);
    assertNoTokenLeaked(w, [error]);
  });

  it('refuses a second rotation while another is under way, naming it', async () => {
    // Prepare: rotation A staged its token and was interrupted
    const w = world();
    await rotateExecutorSecret(depsOf(w, { crashAfter: 4 }), { rotation: 'rotation-a' }).catch(() => undefined);

    // Act
    const error = await rotateExecutorSecret(depsOf(w), { rotation: 'rotation-b' }).catch((caught: unknown) => caught);
    const resumed = await rotateExecutorSecret(depsOf(w), {});

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(String(error)).toContain('rotation-a');
    expect(resumed.rotation).toBe('rotation-a');
    const state = await finalState(w);
    expect(state).toMatchObject({ sourcegraph: state.current, pending: undefined });
  });

  it('ends consistent when two rotations start at the same moment: one wins, the other stops cleanly', async () => {
    // Prepare
    const w = world();

    // Act
    const results = await Promise.allSettled([
      rotateExecutorSecret(depsOf(w, { afterEachCall: () => assertConsistent(w) }), {}),
      rotateExecutorSecret(depsOf(w, { afterEachCall: () => assertConsistent(w) }), {}),
    ]);

    // Assess
    expect(results.some((result) => result.status === 'fulfilled')).toBe(true);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(RotationError);
      }
    }
    const state = await finalState(w);
    expect(state.current).not.toBe(OLD);
    expect(state).toMatchObject({ sourcegraph: state.current, pending: undefined });
    assertNoTokenLeaked(
      w,
      results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : [])),
    );
  });
});
