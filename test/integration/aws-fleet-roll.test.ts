import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeInstanceRefreshesCommand,
  type RefreshPreferences,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AutoScalingEmulator, awsClientConfig, startAutoScalingEmulator } from '../../local/aws/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import { createAsgFleetRoller, refreshPreferencesFor } from '../../shared/aws/asg-fleet-roller.ts';
import type { AwsGroupTarget } from '../../shared/domain/fleet.ts';
import { CloudApiError } from '../../shared/ports/errors.ts';

const REGION = 'us-west-2';
const BOOT_MS = 30_000;
/** Seconds: the groups' grace period, which is a refresh's warm-up unless it sets its own. */
const WARMUP_SECONDS = 60;
const REFRESH_START_MS = 5_000;
const STEP_MS = 5_000;

describe('Auto Scaling emulator: instance refresh with the real AutoScalingClient', () => {
  const time = { now: Date.UTC(2026, 0, 12, 9) };
  let world: World;
  let asg: AutoScalingEmulator;
  let client: AutoScalingClient;

  beforeAll(async () => {
    world = createWorld({ clock: () => time.now, bootDelayMs: BOOT_MS });
    asg = await startAutoScalingEmulator({ world, region: REGION, refreshStartMs: REFRESH_START_MS });
    client = new AutoScalingClient({ ...awsClientConfig(asg.emulator, REGION), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await asg.close();
  });
  beforeEach(() => {
    asg.clearGroups();
    asg.emulator.clearFaults();
  });

  const advance = (ms: number) => {
    time.now += ms;
    world.advance();
  };
  /** A group of `desired` instances, all booted and in service. */
  const addGroup = (desired: number, protect = false) => {
    asg.addGroup({
      name: 'fleet',
      min: 0,
      max: 10,
      desired,
      queues: ['codeintel'],
      healthCheckGracePeriod: WARMUP_SECONDS,
      newInstancesProtectedFromScaleIn: protect,
    });
    advance(BOOT_MS);
    return ids();
  };
  const instances = () => asg.group('fleet')?.instances ?? [];
  const ids = () => instances().map((instance) => instance.id);
  const inService = () => instances().filter((instance) => instance.lifecycleState === 'InService').length;
  const start = (preferences: RefreshPreferences = {}) =>
    client.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'fleet', Preferences: preferences }));
  const refreshes = async () =>
    (await client.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'fleet' }))).InstanceRefreshes ??
    [];
  /** Steps simulated time until the newest refresh ends, noting the fewest and most instances seen in the group. */
  const untilEnded = async () => {
    const seen = { fewestInService: Number.POSITIVE_INFINITY, mostHeld: 0 };
    for (let step = 0; step < 500; step++) {
      const [newest] = await refreshes();
      if (newest !== undefined && !['Pending', 'InProgress', 'Cancelling', 'Baking'].includes(newest.Status ?? '')) {
        return { refresh: newest, ...seen };
      }
      seen.fewestInService = Math.min(seen.fewestInService, inService());
      seen.mostHeld = Math.max(seen.mostHeld, instances().filter((i) => !i.lifecycleState.startsWith('Term')).length);
      advance(STEP_MS);
    }
    throw new Error('the refresh did not end');
  };
  /** The original instances the group still holds, not counting those it is terminating. */
  const remaining = (originals: readonly string[]) =>
    instances()
      .filter((instance) => originals.includes(instance.id) && !instance.lifecycleState.startsWith('Term'))
      .map((instance) => instance.id);

  it('reports a refresh Pending, then InProgress with its progress, then Successful, newest first', async () => {
    // Prepare
    const originals = addGroup(2);

    // Act
    const { InstanceRefreshId: id } = await start({ MinHealthyPercentage: 50 });
    const [pending] = await refreshes();
    advance(REFRESH_START_MS);
    const [inProgress] = await refreshes();
    const { refresh: ended } = await untilEnded();
    const { InstanceRefreshId: secondId } = await start();
    const listed = await refreshes();

    // Assess
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(pending).toMatchObject({
      InstanceRefreshId: id,
      Status: 'Pending',
      InstancesToUpdate: 2,
      Strategy: 'Rolling',
    });
    expect(pending?.Preferences).toMatchObject({
      MinHealthyPercentage: 50,
      SkipMatching: false,
      ScaleInProtectedInstances: 'Wait',
      StandbyInstances: 'Wait',
    });
    expect(inProgress).toMatchObject({ Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 2 });
    expect(ended).toMatchObject({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 });
    expect(ended.EndTime?.getTime()).toBeGreaterThan(ended.StartTime?.getTime() ?? Number.POSITIVE_INFINITY);
    expect(listed.map((refresh) => refresh.InstanceRefreshId)).toEqual([secondId, id]);
    expect(remaining(originals)).toEqual([]);
    expect(asg.group('fleet')?.desired).toBe(2);
  });

  it('replaces a 3-instance group all at once with MinHealthyPercentage 0', async () => {
    // Prepare
    const originals = addGroup(3);

    // Act
    await start({ MinHealthyPercentage: 0 });
    advance(REFRESH_START_MS);
    const during = instances().map((instance) => instance.lifecycleState);
    const { refresh, fewestInService } = await untilEnded();

    // Assess
    expect(during).toEqual(['Terminating', 'Terminating', 'Terminating', 'Pending', 'Pending', 'Pending']);
    expect(fewestInService).toBe(0);
    expect(refresh.Status).toBe('Successful');
    expect(remaining(originals)).toEqual([]);
    expect(inService()).toBe(3);
  });

  it('replaces one instance at a time with MinHealthyPercentage 67, waiting for boot and warm-up', async () => {
    // Prepare
    const originals = addGroup(3);

    // Act
    await start({ MinHealthyPercentage: 67 });
    advance(REFRESH_START_MS);
    const first = remaining(originals);
    advance(BOOT_MS + WARMUP_SECONDS * 1000 - STEP_MS);
    const stillWarming = remaining(originals);
    advance(STEP_MS);
    const second = remaining(originals);
    const { refresh, fewestInService, mostHeld } = await untilEnded();

    // Assess
    expect(first).toHaveLength(2);
    expect(stillWarming).toHaveLength(2);
    expect(second).toHaveLength(1);
    expect(fewestInService).toBe(2);
    expect(mostHeld).toBe(3);
    expect(refresh).toMatchObject({ Status: 'Successful', InstancesToUpdate: 0 });
    expect(remaining(originals)).toEqual([]);
  });

  it('launches before terminating within MaxHealthyPercentage, never dropping below the minimum', async () => {
    // Prepare
    const originals = addGroup(2);

    // Act
    await start({ MinHealthyPercentage: 100, MaxHealthyPercentage: 150 });
    advance(REFRESH_START_MS);
    const launched = instances().map((instance) => instance.lifecycleState);
    const { refresh, fewestInService, mostHeld } = await untilEnded();

    // Assess
    expect(launched).toEqual(['InService', 'InService', 'Pending']);
    expect(fewestInService).toBe(2);
    expect(mostHeld).toBe(3);
    expect(refresh.Status).toBe('Successful');
    expect(remaining(originals)).toEqual([]);
    expect(instances().filter((instance) => !instance.lifecycleState.startsWith('Term'))).toHaveLength(2);
  });

  it('replaces protected instances only with ScaleInProtectedInstances Refresh', async () => {
    // Prepare
    const originals = addGroup(3, true);

    // Act
    await start({ MinHealthyPercentage: 0, ScaleInProtectedInstances: 'Ignore' });
    const { refresh: ignored } = await untilEnded();
    const afterIgnore = remaining(originals);
    await start({ MinHealthyPercentage: 0, ScaleInProtectedInstances: 'Refresh' });
    const { refresh: refreshed } = await untilEnded();

    // Assess
    expect(ignored).toMatchObject({ Status: 'Successful', InstancesToUpdate: 0, PercentageComplete: 100 });
    expect(afterIgnore).toEqual(originals);
    expect(refreshed.Status).toBe('Successful');
    expect(remaining(originals)).toEqual([]);
    expect(instances().every((instance) => instance.protectedFromScaleIn)).toBe(true);
  });

  it('waits for protected instances by default, carries on once they are unprotected, and fails after an hour', async () => {
    // Prepare
    const originals = addGroup(2, true);

    // Act
    await start({ MinHealthyPercentage: 0 });
    advance(REFRESH_START_MS);
    const [waiting] = await refreshes();
    await client.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: 'fleet',
        InstanceIds: [...originals],
        ProtectedFromScaleIn: false,
      }),
    );
    const { refresh: resumed } = await untilEnded();
    await start({ MinHealthyPercentage: 0 });
    advance(REFRESH_START_MS + 60 * 60_000);
    const [failed] = await refreshes();

    // Assess
    expect(waiting).toMatchObject({ Status: 'InProgress', InstancesToUpdate: 2 });
    expect(waiting?.StatusReason).toMatch(/unprotected from scale in/);
    expect(resumed.Status).toBe('Successful');
    expect(remaining(originals)).toEqual([]);
    expect(failed?.Status).toBe('Failed');
    expect(failed?.StatusReason).toMatch(/for an hour/);
    expect(failed?.EndTime).toBeInstanceOf(Date);
  });

  it('keeps scaling while it refreshes: the group grows to the new size and scale-in takes outdated instances first', async () => {
    // Prepare
    const originals = addGroup(3);
    await start({ MinHealthyPercentage: 67 });
    advance(REFRESH_START_MS);

    // Act
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 5 }));
    const grown = ids().length;
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 4 }));
    const outdatedLeft = remaining(originals).filter(
      (id) => instances().find((i) => i.id === id)?.lifecycleState === 'InService',
    );
    const { refresh } = await untilEnded();

    // Assess
    expect(grown).toBe(6); // 5 counted, plus the first replaced instance still listed as Terminating
    expect(outdatedLeft).toHaveLength(1);
    expect(refresh).toMatchObject({ Status: 'Successful', InstancesToUpdate: 0 });
    expect(remaining(originals)).toEqual([]);
    expect(inService()).toBe(4);
  });

  it('pauses at a checkpoint and bakes before it is Successful', async () => {
    // Prepare
    addGroup(2);
    const seen: string[] = [];

    // Act
    await start({ MinHealthyPercentage: 50, CheckpointPercentages: [50, 100], CheckpointDelay: 600, BakeTime: 120 });
    const startedAt = time.now;
    for (let step = 0; step < 500 && seen.at(-1) !== 'Successful 100'; step++) {
      const [refresh] = await refreshes();
      const state = `${refresh?.Status} ${refresh?.PercentageComplete}`;
      if (seen.at(-1) !== state) {
        seen.push(state);
      }
      advance(STEP_MS);
    }

    // Assess
    expect(seen).toEqual(['Pending 0', 'InProgress 0', 'InProgress 50', 'Baking 100', 'Successful 100']);
    expect(time.now - startedAt).toBeGreaterThan(2 * (BOOT_MS + WARMUP_SECONDS * 1000) + (600 + 120) * 1000);
  });

  it('refuses what the service refuses, in its words', async () => {
    // Prepare
    addGroup(1);
    const attempt = (preferences: RefreshPreferences) => start(preferences).catch((error: unknown) => error);

    // Act
    const outOfRange = await attempt({ MinHealthyPercentage: 101, MaxHealthyPercentage: 99 });
    const badEnum = await attempt({ ScaleInProtectedInstances: 'Sometimes' as 'Wait' });
    const maxAlone = await attempt({ MaxHealthyPercentage: 150 });
    const tooWide = await attempt({ MinHealthyPercentage: 10, MaxHealthyPercentage: 150 });
    const rollback = await attempt({ AutoRollback: true });
    const missing = await client
      .send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'nowhere' }))
      .catch((error: unknown) => error);

    // Assess
    expect(outOfRange).toMatchObject({
      name: 'ValidationError',
      message:
        "2 validation errors detected: Value '101' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 100; Value '99' at 'preferences.maxHealthyPercentage' failed to satisfy constraint: Member must have value greater than or equal to 100",
    });
    expect(badEnum).toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value 'Sometimes' at 'preferences.scaleInProtectedInstances' failed to satisfy constraint: Member must satisfy enum value set: [Ignore, Wait, Refresh]",
    });
    expect(maxAlone).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/MinHealthyPercentage must be specified/),
    });
    expect(tooWide).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/cannot be greater than 100/),
    });
    expect(rollback).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/AutoRollback parameter cannot be set to true/),
    });
    expect(missing).toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/nowhere not found/) });
    expect(await refreshes()).toEqual([]);
  });

  it('allows one active refresh per group, and cancels it without undoing what it replaced', async () => {
    // Prepare
    addGroup(3);

    // Act
    const noneActive = await client
      .send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'fleet' }))
      .catch((error: unknown) => error);
    const { InstanceRefreshId: id } = await start({ MinHealthyPercentage: 67 });
    const second = await start().catch((error: unknown) => error);
    advance(REFRESH_START_MS);
    const cancelled = await client.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'fleet' }));
    const [cancelling] = await refreshes();
    const { refresh } = await untilEnded();

    // Assess
    expect(noneActive).toMatchObject({ name: 'ActiveInstanceRefreshNotFoundFault', $fault: 'client' });
    expect(second).toMatchObject({
      name: 'InstanceRefreshInProgressFault',
      message: 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
    });
    expect(cancelled.InstanceRefreshId).toBe(id);
    expect(cancelling?.Status).toBe('Cancelling');
    expect(refresh).toMatchObject({
      InstanceRefreshId: id,
      Status: 'Cancelled',
      InstancesToUpdate: 2,
      PercentageComplete: 33,
    });
    expect(inService()).toBe(3);
  });
});

describe('createAsgFleetRoller over the Auto Scaling emulator', () => {
  const time = { now: Date.UTC(2026, 0, 12, 9) };
  const target: AwsGroupTarget = { cloud: 'aws', region: REGION, autoScalingGroup: 'fleet' };
  let world: World;
  let asg: AutoScalingEmulator;
  let client: AutoScalingClient;

  beforeAll(async () => {
    world = createWorld({ clock: () => time.now, bootDelayMs: BOOT_MS });
    asg = await startAutoScalingEmulator({ world, region: REGION, refreshStartMs: REFRESH_START_MS });
    client = new AutoScalingClient({ ...awsClientConfig(asg.emulator, REGION), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await asg.close();
  });

  /** A busy-aware fleet's group: every instance protected from scale-in. */
  const seed = (desired: number) => {
    asg.clearGroups();
    asg.emulator.clearFaults();
    asg.addGroup({
      name: 'fleet',
      min: 0,
      max: 10,
      desired,
      queues: ['codeintel'],
      healthCheckGracePeriod: WARMUP_SECONDS,
      newInstancesProtectedFromScaleIn: true,
    });
    time.now += BOOT_MS;
    return asg.group('fleet')?.instances.map((instance) => instance.id) ?? [];
  };
  const roller = createAsgFleetRoller({ autoScalingFor: () => client });
  const untilEnded = async () => {
    for (let step = 0; step < 500; step++) {
      const roll = await roller.latest(target);
      if (roll !== undefined && roll.state !== 'in-progress') {
        return roll;
      }
      time.now += STEP_MS;
    }
    throw new Error('the roll did not end');
  };

  it('replaces every protected instance, with the percentages its fixed counts come to', async () => {
    // Prepare
    const originals = seed(4);

    // Act
    const start = await roller.start(target, {
      name: 'rotation-1',
      notBefore: time.now,
      settings: { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 1 } },
    });
    const [described] =
      (await client.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'fleet' }))).InstanceRefreshes ??
      [];
    const ended = await untilEnded();

    // Assess
    expect(start).toMatchObject({ started: true, roll: { state: 'in-progress', remaining: 4, percentComplete: 0 } });
    expect(described?.Preferences).toMatchObject({
      MinHealthyPercentage: 51,
      MaxHealthyPercentage: 125,
      SkipMatching: false,
      ScaleInProtectedInstances: 'Refresh',
      StandbyInstances: 'Ignore',
    });
    expect(ended).toMatchObject({ id: start.roll.id, state: 'succeeded', remaining: 0, percentComplete: 100 });
    expect(ended.endedAt).toBeGreaterThan(ended.startedAt ?? Number.POSITIVE_INFINITY);
    const live = asg.group('fleet')?.instances.filter((instance) => !instance.lifecycleState.startsWith('Term')) ?? [];
    expect(live.filter((instance) => originals.includes(instance.id))).toEqual([]);
    expect(live).toHaveLength(4);
  });

  it('answers busy with the refresh that won a race to start', async () => {
    // Prepare
    seed(2);
    const racing = new AutoScalingClient({ ...awsClientConfig(asg.emulator, REGION), maxAttempts: 1 });
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'StartInstanceRefreshCommand') {
          await client.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'fleet' }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'startSomeoneElsesRefreshFirst' },
    );

    // Act
    const start = await createAsgFleetRoller({ autoScalingFor: () => racing }).start(target, {
      name: 'rotation-1',
      settings: { maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } },
    });

    // Assess
    expect(start).toMatchObject({ started: false, why: 'busy', roll: { state: 'in-progress' } });
    expect(start.roll.id).toBe((await roller.latest(target))?.id);
    racing.destroy();
  });

  it('reports cancelled and failed refreshes, with the reason', async () => {
    // Prepare
    seed(2);

    // Act
    await roller.start(target, { name: 'r1', settings: { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } } });
    await client.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'fleet' }));
    const cancelled = await untilEnded();
    // A console refresh with the defaults waits for the protected instances, then gives up.
    await client.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'fleet' }));
    time.now += REFRESH_START_MS + 60 * 60_000;
    const failed = await roller.latest(target);

    // Assess
    expect(cancelled).toMatchObject({ state: 'cancelled', remaining: 2 });
    expect(failed).toMatchObject({ state: 'failed', reason: expect.stringMatching(/for an hour/) });
  });

  it('fails as the port says: a missing group for good, throttling for now', async () => {
    // Prepare
    seed(1);
    asg.emulator.injectFault({ kind: 'throttle', operation: 'DescribeInstanceRefreshes', times: 1 });

    // Act
    const throttled = roller.latest(target);
    const missing = roller.start(
      { ...target, autoScalingGroup: 'nowhere' },
      { name: 'r1', settings: { maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } } },
    );

    // Assess
    await expect(throttled).rejects.toMatchObject({ name: 'CloudApiError', retryable: true });
    await expect(missing).rejects.toBeInstanceOf(CloudApiError);
    await expect(missing).rejects.toMatchObject({
      operation: 'DescribeInstanceRefreshes',
      retryable: false,
      message: expect.stringMatching(/ValidationError/),
    });
  });
});

describe('refreshPreferencesFor: roll settings as refresh percentages', () => {
  it.each([
    ['all at once, no surge', { maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } }, 3, 0, 100],
    ['a quarter down, a quarter extra', { maxUnavailable: { percent: 25 }, maxSurge: { percent: 25 } }, 8, 75, 125],
    ['one of three down', { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } }, 3, 34, 100],
    ['one of four down, one extra', { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 1 } }, 4, 51, 125],
    ['none down, one of three extra', { maxUnavailable: { fixed: 0 }, maxSurge: { fixed: 1 } }, 3, 100, 133],
    ['more down than the group holds', { maxUnavailable: { fixed: 5 }, maxSurge: { fixed: 0 } }, 3, 0, 100],
    ['a range AWS refuses, narrowed', { maxUnavailable: { percent: 50 }, maxSurge: { percent: 100 } }, 4, 50, 150],
  ] as const)('%s', (_, settings, desired, min, max) => {
    // Act
    const preferences = refreshPreferencesFor(settings, desired);

    // Assess
    expect(preferences).toEqual({
      MinHealthyPercentage: min,
      MaxHealthyPercentage: max,
      SkipMatching: false,
      ScaleInProtectedInstances: 'Refresh',
      StandbyInstances: 'Ignore',
      AutoRollback: false,
    });
    // Never more out or extra than asked, however the counts are rounded.
    const down = desired - Math.ceil((desired * min) / 100);
    const extra = Math.ceil((desired * max) / 100) - desired;
    expect(down).toBeLessThanOrEqual('fixed' in settings.maxUnavailable ? settings.maxUnavailable.fixed : desired);
    expect(extra).toBeLessThanOrEqual('fixed' in settings.maxSurge ? settings.maxSurge.fixed : desired);
  });
});
