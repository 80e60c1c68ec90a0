import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribePolicies,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AutoScalingEmulator, awsClientConfig, startAutoScalingEmulator } from '../../local/aws/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';

const BOOT_MS = 30_000;
const TERMINATING_MS = 5_000;

describe('Auto Scaling emulator with the real AutoScalingClient', () => {
  const time = { now: Date.UTC(2025, 0, 6, 12) };
  let world: World;
  let asg: AutoScalingEmulator;
  let client: AutoScalingClient;

  beforeAll(async () => {
    world = createWorld({ clock: () => time.now, bootDelayMs: BOOT_MS, jobDurationMs: 600_000 });
    // Two records a page at most, whatever MaxRecords says: callers must follow NextToken.
    asg = await startAutoScalingEmulator({ world, region: 'us-west-2', pageSize: 2, terminatingMs: TERMINATING_MS });
    client = new AutoScalingClient({ ...awsClientConfig(asg.emulator, 'us-west-2'), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await asg.close();
  });
  beforeEach(() => {
    asg.clearGroups();
    asg.emulator.clearFaults();
  });

  const addGroups = (count: number) => {
    for (let index = 0; index < count; index++) {
      asg.addGroup({
        name: `g${index}`,
        min: 0,
        max: 3,
        desired: 0,
        queues: ['codeintel'],
        policies: [{ name: `p${index}` }],
      });
    }
  };

  it('pages groups and policies through NextToken, in pages shorter than MaxRecords', async () => {
    // Prepare
    addGroups(5);

    // Act
    const pages = [];
    for await (const page of paginateDescribeAutoScalingGroups({ client }, { MaxRecords: 100 })) {
      pages.push(page.AutoScalingGroups?.map((group) => group.AutoScalingGroupName));
    }
    const policies = [];
    for await (const page of paginateDescribePolicies({ client }, {})) {
      policies.push(...(page.ScalingPolicies ?? []).map((policy) => policy.PolicyName));
    }

    // Assess
    expect(pages).toEqual([['g0', 'g1'], ['g2', 'g3'], ['g4']]);
    expect(policies).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('leaves unknown names out, keeps regions apart, and refuses MaxRecords above 100 in AWS words', async () => {
    // Prepare
    addGroups(2);
    asg.addGroup({ name: 'g0', region: 'eu-west-1', min: 0, max: 9, desired: 0, queues: ['batches'] });

    // Act
    const known = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g1', 'nope'] }));
    const tooMany = client.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 }));

    // Assess
    expect(known.AutoScalingGroups?.map((group) => [group.AutoScalingGroupName, group.MaxSize])).toEqual([['g1', 3]]);
    await expect(tooMany).rejects.toMatchObject({
      name: 'ValidationError',
      $fault: 'client',
      message:
        "1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100",
    });
  });

  it('answers unknown actions with InvalidAction and unsigned requests with 403, as XML', async () => {
    // Prepare
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const signed = {
      ...form,
      authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20250106/us-west-2/autoscaling/aws4_request',
    };
    const body = 'Action=DeleteAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g0';

    // Act
    const unknown = await fetch(asg.emulator.url, { method: 'POST', headers: signed, body });
    const unsigned = await fetch(asg.emulator.url, { method: 'POST', headers: form, body });

    // Assess
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(
      /<Code>InvalidAction<\/Code><Message>Could not find operation DeleteAutoScalingGroup/,
    );
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it('launches world instances that go Pending to InService after the boot delay, and terminates the newest on scale-in', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 1, queues: ['codeintel'] });
    world.enqueue('codeintel', 12);
    time.now += BOOT_MS;
    const describe = async () =>
      (await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['fleet'] })))
        .AutoScalingGroups?.[0];

    // Act
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 3 }));
    const launched = await describe();
    time.now += BOOT_MS;
    const booted = await describe();
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 1 }));
    const scaledIn = await describe();
    time.now += TERMINATING_MS;
    const settled = await describe();

    // Assess
    const states = (described: typeof launched) => described?.Instances?.map((instance) => instance.LifecycleState);
    expect(states(launched)).toEqual(['InService', 'Pending', 'Pending']);
    expect(launched?.Instances?.[0]).toMatchObject({ HealthStatus: 'Healthy', ProtectedFromScaleIn: false });
    expect(launched?.Instances?.every((instance) => /^i-0[0-9a-f]{16}$/.test(instance.InstanceId ?? ''))).toBe(true);
    expect(states(booted)).toEqual(['InService', 'InService', 'InService']);
    const hostnames = world.instances(group.worldGroup).map((instance) => instance.hostname);
    expect(hostnames.filter((name) => /^ip-10-\d+-\d+-\d+$/.test(name))).toHaveLength(3);
    expect(states(scaledIn)).toEqual(['InService', 'Terminating', 'Terminating']);
    expect(world.stats().jobsInterrupted).toBe(8);
    expect(settled?.Instances?.map((instance) => instance.InstanceId)).toEqual([launched?.Instances?.[0]?.InstanceId]);
    expect(settled?.DesiredCapacity).toBe(1);
  });

  it('refuses sizes outside [MinSize, MaxSize] with the ValidationError text AWS uses', async () => {
    // Prepare
    asg.addGroup({ name: 'fleet', min: 1, max: 5, desired: 1, queues: ['codeintel'] });

    // Act
    const above = client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 6 }));
    const below = client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 0 }));

    // Assess
    await expect(above).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 6 is above max value 5 for the AutoScalingGroup.',
    });
    await expect(below).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.',
    });
    expect(asg.group('fleet')?.desired).toBe(1);
  });

  it('surfaces injected faults as the SDK names them', async () => {
    // Prepare
    asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 0, queues: ['codeintel'] });
    const retrying = new AutoScalingClient({ ...awsClientConfig(asg.emulator, 'us-west-2'), maxAttempts: 2 });
    const resize = () =>
      client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 2 }));

    // Act
    asg.emulator.injectFault({ kind: 'throttle', operation: 'DescribeAutoScalingGroups', times: 2 });
    const throttled = await retrying.send(new DescribeAutoScalingGroupsCommand({})).catch((error: unknown) => error);
    asg.holdScaling('fleet', 1);
    const held = await resize().catch((error: unknown) => error);
    asg.emulator.injectFault({ kind: 'error', status: 503, operation: 'SetDesiredCapacity', times: 1 });
    const unavailable = await resize().catch((error: unknown) => error);
    const applied = await resize();

    // Assess
    expect(throttled).toMatchObject({ name: 'Throttling', $fault: 'client', $metadata: { attempts: 2 } });
    expect(held).toMatchObject({ name: 'ScalingActivityInProgressFault', $fault: 'client' });
    expect(unavailable).toMatchObject({ name: 'ServiceUnavailable', $fault: 'server' });
    expect(applied.$metadata.httpStatusCode).toBe(200);
    expect(asg.group('fleet')?.desired).toBe(2);
    retrying.destroy();
  });
});
