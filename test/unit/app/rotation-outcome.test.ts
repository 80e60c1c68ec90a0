import { describe, expect, it } from 'vitest';
import type { FleetRoll } from '../../../shared/app/fleet-roll.ts';
import { RotationInProgressError } from '../../../shared/app/rotation.ts';
import { recordRotation, rotationSucceeded } from '../../../shared/app/rotation-outcome.ts';
import { createInMemoryRotationMetrics } from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import type { RollState } from '../../../shared/ports/fleet-roll.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

function harness() {
  let now = T0;
  const metrics = createInMemoryRotationMetrics();
  const lines: string[] = [];
  const telemetry = { metrics, clock: () => now };
  const context = { environment: 'prod', logger: createJsonLogger({ write: (line) => lines.push(line) }) };
  const advance = (ms: number) => {
    now += ms;
  };
  return { metrics, lines, telemetry, context, advance };
}

describe('recordRotation', () => {
  it('publishes a completed rotation as succeeded, timed from its start to its end', async () => {
    // Prepare
    const h = harness();

    // Act
    const result = await recordRotation(
      h.telemetry,
      h.context,
      () => true,
      async () => {
        h.advance(4_200);
        return 'report';
      },
    );

    // Assess
    expect(result).toBe('report');
    expect(h.metrics.published()).toEqual([
      { environment: 'prod', at: T0 + 4_200, succeeded: true, durationMs: 4_200 },
    ]);
  });

  it('publishes a failure and rethrows the very same error', async () => {
    // Prepare
    const h = harness();
    const failure = new Error('setSecret: Sourcegraph refused the edit');

    // Act
    const attempt = recordRotation(
      h.telemetry,
      h.context,
      () => true,
      async () => {
        h.advance(900);
        throw failure;
      },
    ).catch((error: unknown) => error);

    // Assess
    expect(await attempt).toBe(failure);
    expect(h.metrics.published()).toEqual([{ environment: 'prod', at: T0 + 900, succeeded: false, durationMs: 900 }]);
  });

  it('publishes nothing for a result that does not complete a rotation (a middle step of the protocol)', async () => {
    // Prepare
    const h = harness();

    // Act
    await recordRotation(
      h.telemetry,
      h.context,
      (step: string) => (step === 'finishSecret' ? true : undefined),
      async () => 'setSecret',
    );

    // Assess
    expect(h.metrics.calls.publish).toBe(0);
  });

  it('keeps the rotation result when publishing fails, and logs why', async () => {
    // Prepare
    const h = harness();
    h.metrics.failPublishes(1);

    // Act
    const result = await recordRotation(
      h.telemetry,
      h.context,
      () => true,
      async () => 'report',
    );

    // Assess
    expect(result).toBe('report');
    const warning = h.lines.map((line) => JSON.parse(line)).find((entry) => entry.level === 'warn');
    expect(warning).toMatchObject({ message: 'rotation metrics not published', succeeded: true });
    expect(warning.error).toContain('injected failure');
  });

  it('still surfaces the rotation error, not the publishing one, when both fail', async () => {
    // Prepare
    const h = harness();
    h.metrics.failPublishes(1);
    const failure = new Error('testSecret: Sourcegraph does not accept the new token');

    // Act
    const attempt = recordRotation(
      h.telemetry,
      h.context,
      () => true,
      async () => {
        throw failure;
      },
    ).catch((error: unknown) => error);

    // Assess
    expect(await attempt).toBe(failure);
    expect(h.metrics.calls.publish).toBe(1);
  });

  it('runs the rotation alone where no telemetry is deployed', async () => {
    // Act
    const result = await recordRotation(
      undefined,
      harness().context,
      () => true,
      async () => 42,
    );

    // Assess
    expect(result).toBe(42);
  });

  it('publishes a finished rotation the judge finds wanting as failed', async () => {
    // Prepare
    const h = harness();

    // Act
    await recordRotation(
      h.telemetry,
      h.context,
      () => false,
      async () => 'report',
    );

    // Assess
    expect(h.metrics.published().map(({ succeeded }) => succeeded)).toEqual([false]);
  });

  it('publishes nothing when another rotation was under way: this one never began', async () => {
    // Prepare
    const h = harness();

    // Act
    const attempt = recordRotation(
      h.telemetry,
      h.context,
      () => true,
      async () => {
        throw new RotationInProgressError('createSecret', 'other-rotation');
      },
    ).catch((error: unknown) => error);

    // Assess
    expect(await attempt).toBeInstanceOf(RotationInProgressError);
    expect(h.metrics.calls.publish).toBe(0);
  });
});

describe('rotationSucceeded', () => {
  const progress = (state: RollState) => ({ id: 'r-1', state, remaining: 0, percentComplete: 100 });
  const roll = (outcome: 'started' | 'already-started' | 'busy', state: RollState = 'in-progress'): FleetRoll => ({
    fleet: 'codeintel',
    group: 'aws:us-east-1:executors',
    outcome,
    roll: progress(state),
  });

  it.each<[string, readonly FleetRoll[], boolean]>([
    ['no fleets to roll', [], true],
    ['rolls started and still running', [roll('started'), roll('already-started')], true],
    ['rolls that succeeded', [roll('started', 'succeeded')], true],
    [
      'a roll that failed to start',
      [roll('started'), { fleet: 'b', group: 'g', outcome: 'failed', error: 'denied' }],
      false,
    ],
    ['a fleet left behind someone else’s roll', [roll('busy')], false],
    ['a roll that ended failed', [roll('started', 'failed')], false],
    ['a roll that was cancelled', [roll('already-started', 'cancelled')], false],
  ])('%s', (_, rolls, expected) => {
    // Act
    const succeeded = rotationSucceeded({ rolls });

    // Assess
    expect(succeeded).toBe(expected);
  });
});
