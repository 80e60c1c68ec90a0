import { describe, expect, it } from 'vitest';
import { type RotationDeps, RotationError, rotateExecutorSecret } from '../../../shared/app/rotation.ts';
import { invokeRotation } from '../../../shared/app/rotation-invocation.ts';
import type { FleetplaneConfig } from '../../../shared/config/types.ts';
import type { GroupTarget } from '../../../shared/domain/fleet.ts';
import { DEFAULT_ROLL } from '../../../shared/domain/roll.ts';
import {
  createInMemoryExecutorSecret,
  createInMemoryFleetRoller,
  createInMemoryRotationMetrics,
  createInMemorySiteConfig,
  type InMemoryExecutorSecret,
  type InMemoryFleetRoller,
} from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import { withExecutorToken } from '../../../shared/sourcegraph/site-config-edit.ts';

const OLD = 'old-executor-token-0123456789abcdefghij';
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const MINUTE = 60_000;
const GROUP: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors' };

interface Harness {
  readonly deps: RotationDeps;
  readonly secret: InMemoryExecutorSecret;
  readonly roller: InMemoryFleetRoller;
  readonly lines: string[];
  now(): number;
}

/** A rotation over fakes, with one fleet of three instances whose roll takes a minute per batch. */
function harness(): Harness {
  let now = T0;
  const clock = () => now;
  const secret = createInMemoryExecutorSecret({ clock });
  secret.seedCurrent('v-initial', OLD);
  const sourcegraph = createInMemorySiteConfig({ contents: `{ "executors.accessToken": "${OLD}" }` });
  const roller = createInMemoryFleetRoller({ clock, batchMs: MINUTE });
  roller.addGroup(GROUP, ['i-1', 'i-2', 'i-3']);
  const lines: string[] = [];
  let ids = 0;
  const deps: RotationDeps = {
    secret,
    siteConfig: sourcegraph,
    executorAuth: sourcegraph.executorAuth,
    withExecutorToken,
    randomBytes: (count) => Uint8Array.from({ length: count }, (_, i) => (i * 37 + ids) % 256),
    newRotationId: () => `00000000-0000-4000-8000-00000000000${++ids}`,
    logger: createJsonLogger({ write: (line) => lines.push(line), clock }),
    rolls: {
      roller,
      fleets: [{ fleet: 'executors', target: GROUP, settings: DEFAULT_ROLL }],
      clock,
      sleep: async (ms) => {
        now += ms;
      },
    },
  };
  return { deps, secret, roller, lines, now: clock };
}

describe('rotation with fleet rolls', () => {
  it('rolls each fleet once the token is current, follows the roll and measures the rejection window', async () => {
    // Prepare
    const h = harness();

    // Act
    const report = await rotateExecutorSecret(h.deps, {}, { rollUntil: T0 + 30 * MINUTE, rollPollMs: 10_000 });

    // Assess: started under the rotation's id, ended after one batch; refused from the switch to the roll's end
    expect(h.roller.started()).toEqual([{ target: GROUP, name: report.rotation, settings: DEFAULT_ROLL }]);
    expect(report.switchedAt).toBe(T0);
    expect(report.rolls).toMatchObject([
      {
        fleet: 'executors',
        outcome: 'started',
        roll: { state: 'succeeded', remaining: 0 },
        rejectionWindow: { from: T0, until: T0 + MINUTE, ms: MINUTE },
      },
    ]);
  });

  it('starts the rolls without following them when given no deadline', async () => {
    // Prepare
    const h = harness();

    // Act
    const report = await rotateExecutorSecret(h.deps, {});

    // Assess
    expect(report.rolls).toMatchObject([{ outcome: 'started', roll: { state: 'in-progress', remaining: 3 } }]);
    expect(h.now()).toBe(T0);
  });

  it('refuses to start a new rotation while a fleet is being rolled, and stores no token', async () => {
    // Prepare
    const h = harness();
    h.roller.startForeignRoll(GROUP);

    // Act
    const attempt = rotateExecutorSecret(h.deps, {});

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationError);
    await expect(attempt).rejects.toThrow(/fleet executors is still being rolled/);
    expect(h.secret.versions()).toHaveLength(1);
  });

  it('follows, and does not restart, the roll when the rotation is run again after a crash', async () => {
    // Prepare: the first run started the roll and died
    const h = harness();
    const first = await rotateExecutorSecret(h.deps, {});

    // Act
    const again = await rotateExecutorSecret(
      h.deps,
      { rotation: first.rotation },
      { rollUntil: T0 + 30 * MINUTE, rollPollMs: 10_000 },
    );

    // Assess: every step already done; the same roll, followed to its end; no switch by this run, so no window
    expect(again.steps.map((step) => step.outcome)).toEqual(['already-done', 'already-done', 'done', 'already-done']);
    expect(again.rolls).toMatchObject([{ outcome: 'already-started', roll: { state: 'succeeded' } }]);
    expect(h.roller.started()).toHaveLength(1);
    expect(again.switchedAt).toBeUndefined();
    expect(again.rolls[0]).not.toHaveProperty('rejectionWindow');
  });

  it('starts the rolls after Secrets Manager’s finishSecret step, and answers without waiting', async () => {
    // Prepare
    const h = harness();
    const runtime = { config: {} as FleetplaneConfig, deps: h.deps, tokenLength: 40 };
    const rotation = '11111111-1111-4111-8111-111111111111';
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) {
      await invokeRotation(runtime, { kind: 'step', step, rotation }, { remainingMs: 60_000 });
    }

    // Act
    const finished = await invokeRotation(
      runtime,
      { kind: 'step', step: 'finishSecret', rotation },
      { remainingMs: 60_000 },
    );

    // Assess
    expect(finished).toMatchObject({ step: 'finishSecret', rolls: [{ outcome: 'started' }] });
    expect(h.now()).toBe(T0);
  });

  it('never writes a token into the logs of a rotation with rolls', async () => {
    // Prepare
    const h = harness();

    // Act
    await rotateExecutorSecret(h.deps, {}, { rollUntil: T0 + 30 * MINUTE, rollPollMs: 10_000 });

    // Assess
    const current = (await h.secret.current())?.value.reveal() ?? '';
    const output = h.lines.join('\n');
    expect(output).toContain('fleet roll progress');
    expect(output.includes(current)).toBe(false);
    expect(output.includes(OLD)).toBe(false);
  });

  it('publishes a whole rotation as one succeeded outcome, and a failed protocol step as failed', async () => {
    // Prepare
    const h = harness();
    const metrics = createInMemoryRotationMetrics();
    const telemetry = { metrics, clock: h.now };
    const runtime = { config: { environment: 'prod' } as FleetplaneConfig, deps: h.deps, tokenLength: 40, telemetry };

    // Act: a whole rotation, then a step of another rotation while the first one's roll still runs
    await invokeRotation(runtime, { kind: 'rotation' }, { remainingMs: 60_000 });
    const refused = await invokeRotation(
      runtime,
      { kind: 'step', step: 'createSecret', rotation: '22222222-2222-4222-8222-222222222222' },
      { remainingMs: 60_000 },
    ).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(RotationError);
    expect(metrics.published().map(({ environment, succeeded }) => ({ environment, succeeded }))).toEqual([
      { environment: 'prod', succeeded: true },
      { environment: 'prod', succeeded: false },
    ]);
  });
});
