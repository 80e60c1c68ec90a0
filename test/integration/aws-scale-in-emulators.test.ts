import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  SetInstanceHealthCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AutoScalingEmulator,
  awsClientConfig,
  type Ec2Emulator,
  startAutoScalingEmulator,
  startEc2Emulator,
} from '../../local/aws/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import { createAsgInstanceGroups } from '../../shared/aws/asg-instance-groups.ts';

const BOOT_MS = 30_000;
const SIGNED = (region: string, service: string) => ({
  'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  authorization: `AWS4-HMAC-SHA256 Credential=AKID/20250106/${region}/${service}/aws4_request`,
});

/** Keeps each request body the SDK sends, to check the wire format rather than what the emulator made of it. */
function recordBodies(client: EC2Client | AutoScalingClient): string[] {
  const bodies: string[] = [];
  const record =
    <T extends { readonly request: unknown }, R>(next: (args: T) => Promise<R>) =>
    (args: T) => {
      const { request } = args;
      if (typeof request === 'object' && request !== null && 'body' in request && typeof request.body === 'string') {
        bodies.push(request.body);
      }
      return next(args);
    };
  const options = { step: 'finalizeRequest', name: 'recordBodies' } as const;
  // One recorder per client: a later test's replaces an earlier one's.
  client.middlewareStack.remove(options.name);
  // Each client's stack is typed by its own commands; one branch per client type keeps both checked.
  if (client instanceof EC2Client) {
    client.middlewareStack.add(record, options);
  } else {
    client.middlewareStack.add(record, options);
  }
  return bodies;
}

describe('Auto Scaling and EC2 emulators for busy-aware scale-in, with the real SDK clients', () => {
  const time = { now: Date.UTC(2026, 10, 1, 8) };
  let world: World;
  let asg: AutoScalingEmulator;
  let ec2: Ec2Emulator;
  let autoScaling: AutoScalingClient;
  let ec2West: EC2Client;
  let ec2East: EC2Client;

  beforeAll(async () => {
    world = createWorld({ clock: () => time.now, bootDelayMs: BOOT_MS, jobDurationMs: 600_000 });
    asg = await startAutoScalingEmulator({ world, region: 'us-west-2' });
    ec2 = await startEc2Emulator({ world, region: 'us-west-2' });
    autoScaling = new AutoScalingClient({ ...awsClientConfig(asg.emulator, 'us-west-2'), maxAttempts: 1 });
    ec2West = new EC2Client({ ...awsClientConfig(ec2.emulator, 'us-west-2'), maxAttempts: 1 });
    ec2East = new EC2Client({ ...awsClientConfig(ec2.emulator, 'us-east-1'), maxAttempts: 1 });
  });
  afterAll(async () => {
    for (const client of [autoScaling, ec2West, ec2East]) {
      client.destroy();
    }
    await Promise.all([asg.close(), ec2.close()]);
  });
  beforeEach(() => {
    asg.clearGroups();
    ec2.clearInstances();
    asg.emulator.clearFaults();
    ec2.emulator.clearFaults();
  });

  const instancesOf = async (name: string) =>
    (await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups?.[0]?.Instances ?? [];

  it('describes world instances as EC2 does: private DNS name per region, launch time, state', async () => {
    // Prepare
    const west = asg.addGroup({ name: 'west', min: 0, max: 5, desired: 2, queues: ['codeintel'] });
    asg.addGroup({ name: 'east', region: 'us-east-1', min: 0, max: 5, desired: 1, queues: ['codeintel'] });
    const launched = time.now;
    time.now += BOOT_MS;
    const bodies = recordBodies(ec2West);
    const [first, second] = west.instances.map((instance) => instance.id);

    // Act
    const answer = await ec2West.send(new DescribeInstancesCommand({ InstanceIds: [first ?? '', second ?? ''] }));
    const everything = await ec2East.send(new DescribeInstancesCommand({}));

    // Assess
    expect(bodies).toEqual([
      `Action=DescribeInstances&Version=2016-11-15&InstanceId.1=${first}&InstanceId.2=${second}`,
    ]);
    const instances = answer.Reservations?.flatMap((reservation) => reservation.Instances ?? []) ?? [];
    expect(instances.map((instance) => instance.InstanceId)).toEqual([first, second]);
    for (const instance of instances) {
      expect(instance.PrivateDnsName).toMatch(/^ip-10-\d+-\d+-\d+\.us-west-2\.compute\.internal$/);
      expect(instance.LaunchTime?.getTime()).toBe(launched);
      expect(instance.State).toEqual({ Code: 16, Name: 'running' });
      expect(instance.Tags).toEqual([{ Key: 'aws:autoscaling:groupName', Value: 'west' }]);
    }
    const hostnames = world.instances(west.worldGroup).map((instance) => instance.hostname);
    expect(instances.map((instance) => instance.PrivateDnsName?.split('.')[0])).toEqual(hostnames);
    const east = everything.Reservations?.flatMap((reservation) => reservation.Instances ?? []) ?? [];
    expect(east.map((instance) => instance.PrivateDnsName)).toEqual([expect.stringMatching(/\.ec2\.internal$/)]);
  });

  it('refuses a request naming unknown ids as a whole, with InvalidInstanceID.NotFound in EC2 error XML', async () => {
    // Prepare
    ec2.addInstance({ id: 'i-0aaaaaaaaaaaaaaaa', hostname: 'ip-10-1-2-3' });
    const body =
      'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0aaaaaaaaaaaaaaaa&InstanceId.2=i-1&InstanceId.3=i-2';

    // Act
    const refused = await ec2West
      .send(new DescribeInstancesCommand({ InstanceIds: ['i-0aaaaaaaaaaaaaaaa', 'i-1', 'i-2'] }))
      .catch((error: unknown) => error);
    const raw = await fetch(ec2.emulator.url, { method: 'POST', headers: SIGNED('us-west-2', 'ec2'), body });
    const found = await fetch(ec2.emulator.url, {
      method: 'POST',
      headers: SIGNED('us-west-2', 'ec2'),
      body: 'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0aaaaaaaaaaaaaaaa',
    });

    // Assess
    expect(refused).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      $fault: 'client',
      message: "The instance IDs 'i-1, i-2' do not exist",
    });
    expect(raw.status).toBe(400);
    expect(await raw.text()).toMatch(
      /^<\?xml[^>]*\?>\n<Response><Errors><Error><Code>InvalidInstanceID\.NotFound<\/Code><Message>The instance IDs (&apos;|')i-1, i-2(&apos;|') do not exist<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
    expect(await found.text()).toMatch(
      /<DescribeInstancesResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><reservationSet><item><reservationId>r-0a+<\/reservationId>.*<instancesSet><item><instanceId>i-0a+<\/instanceId>.*<privateDnsName>ip-10-1-2-3\.us-west-2\.compute\.internal<\/privateDnsName>/,
    );
  });

  it('answers throttling as EC2 does, RequestLimitExceeded', async () => {
    // Prepare
    ec2.emulator.injectFault({ kind: 'throttle', operation: 'DescribeInstances', times: 1 });

    // Act
    const throttled = await ec2West.send(new DescribeInstancesCommand({})).catch((error: unknown) => error);

    // Assess
    expect(throttled).toMatchObject({ name: 'RequestLimitExceeded' });
  });

  it('terminates named instances in one batch, lowering desired capacity and interrupting their jobs', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 3, queues: ['codeintel'] });
    time.now += BOOT_MS;
    world.enqueue('codeintel', 12);
    const [first, second, third] = group.instances.map((instance) => instance.id);
    const bodies = recordBodies(autoScaling);

    // Act
    const answer = await autoScaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        AutoScalingGroupName: 'fleet',
        InstanceIds: [first ?? '', third ?? ''],
        ShouldDecrementDesiredCapacity: true,
      }),
    );

    // Assess
    expect(bodies[0]).toBe(
      `Action=TerminateInstanceInAutoScalingGroup&Version=2011-01-01&ShouldDecrementDesiredCapacity=true&InstanceIds.member.1=${first}&InstanceIds.member.2=${third}&AutoScalingGroupName=fleet`,
    );
    expect(answer.Activities?.map((activity) => activity.Description)).toEqual([
      `Terminating EC2 instance: ${first}`,
      `Terminating EC2 instance: ${third}`,
    ]);
    expect(answer.Activities?.[0]).toMatchObject({ AutoScalingGroupName: 'fleet', StatusCode: 'InProgress' });
    expect(asg.group('fleet')?.desired).toBe(1);
    expect((await instancesOf('fleet')).map((instance) => [instance.InstanceId, instance.LifecycleState])).toEqual([
      [first, 'Terminating'],
      [second, 'InService'],
      [third, 'Terminating'],
    ]);
    expect(world.stats().jobsInterrupted).toBe(8);
  });

  it('refuses one instance below the minimum or outside any group in the words AWS uses', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 1, max: 5, desired: 1, queues: ['codeintel'] });
    const [only] = group.instances.map((instance) => instance.id);

    // Act
    const belowMin = await autoScaling
      .send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: only, ShouldDecrementDesiredCapacity: true }))
      .catch((error: unknown) => error);
    const stranger = await autoScaling
      .send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: 'i-1', ShouldDecrementDesiredCapacity: true }))
      .catch((error: unknown) => error);
    asg.holdScaling('fleet', 1);
    const replaced = await autoScaling
      .send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: only, ShouldDecrementDesiredCapacity: false }))
      .catch((error: unknown) => error);

    // Assess
    expect(belowMin).toMatchObject({
      name: 'ValidationError',
      $fault: 'client',
      message:
        "Currently, desiredSize equals minSize (1). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.",
    });
    expect(stranger).toMatchObject({
      name: 'ValidationError',
      message: 'Instance Id not found - No managed instance found for instance ID: i-1',
    });
    expect(replaced).toMatchObject({ name: 'ScalingActivityInProgressFault' });
    // Each request is on record with the group it reached, refused or not.
    expect(
      asg
        .terminationRequests()
        .slice(-3)
        .map((request) => [request.group, request.instanceIds]),
    ).toEqual([
      ['fleet', [only]],
      [undefined, ['i-1']],
      ['fleet', [only]],
    ]);
    expect(asg.group('fleet')?.desired).toBe(1);
    expect(asg.group('fleet')?.instances.map((instance) => instance.lifecycleState)).toEqual(['Pending']);
  });

  it('stores scale-in protection, which keeps protected instances out of its own scale-in', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 3, queues: ['codeintel'] });
    const [oldest, middle, newest] = group.instances.map((instance) => instance.id);

    // Act
    await autoScaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: 'fleet',
        InstanceIds: [middle ?? '', newest ?? ''],
        ProtectedFromScaleIn: true,
      }),
    );
    await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'fleet', DesiredCapacity: 2 }));
    const tooMany = await autoScaling
      .send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: 'fleet',
          InstanceIds: Array.from({ length: 51 }, (_, index) => `i-${index}`),
          ProtectedFromScaleIn: true,
        }),
      )
      .catch((error: unknown) => error);
    const stranger = await autoScaling
      .send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: 'fleet',
          InstanceIds: ['i-1'],
          ProtectedFromScaleIn: true,
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    const described = await instancesOf('fleet');
    expect(
      described.map((instance) => [instance.InstanceId, instance.ProtectedFromScaleIn, instance.LifecycleState]),
    ).toEqual([
      [oldest, false, 'Terminating'],
      [middle, true, 'Pending'],
      [newest, true, 'Pending'],
    ]);
    expect(tooMany).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50$/,
      ),
    });
    expect(stranger).toMatchObject({
      name: 'ValidationError',
      message: 'The instance i-1 is not part of Auto Scaling group fleet.',
    });
  });

  it('replaces an instance marked Unhealthy, keeping desired capacity, even one protected from scale-in', async () => {
    // Prepare
    const group = asg.addGroup({
      name: 'fleet',
      min: 0,
      max: 5,
      desired: 2,
      queues: ['codeintel'],
      newInstancesProtectedFromScaleIn: true,
    });
    time.now += BOOT_MS;
    world.enqueue('codeintel', 8);
    const interruptedBefore = world.stats().jobsInterrupted;
    const [sick, well] = group.instances.map((instance) => instance.id);
    const bodies = recordBodies(autoScaling);

    // Act
    const answer = await autoScaling.send(
      new SetInstanceHealthCommand({ InstanceId: sick, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }),
    );

    // Assess
    expect(bodies).toEqual([
      `Action=SetInstanceHealth&Version=2011-01-01&InstanceId=${sick}&HealthStatus=Unhealthy&ShouldRespectGracePeriod=false`,
    ]);
    expect(answer.$metadata.httpStatusCode).toBe(200);
    const described = await instancesOf('fleet');
    expect(described.map((instance) => [instance.InstanceId, instance.LifecycleState, instance.HealthStatus])).toEqual([
      [sick, 'Terminating', 'Unhealthy'],
      [well, 'InService', 'Healthy'],
      [expect.not.stringMatching(new RegExp(`^(${sick}|${well})$`)), 'Pending', 'Healthy'],
    ]);
    expect(asg.group('fleet')?.desired).toBe(2);
    expect(world.stats().jobsInterrupted - interruptedBefore).toBe(4);
    expect(asg.healthRequests().at(-1)).toEqual({
      at: time.now,
      region: 'us-west-2',
      group: 'fleet',
      instanceId: sick,
      healthStatus: 'Unhealthy',
      respectGracePeriod: false,
    });
    expect(asg.emulator.requests.at(-2)).toMatchObject({ operation: 'SetInstanceHealth', status: 200 });
  });

  it('answers SetInstanceHealth as AWS does: bare response, grace period respected by default, Healthy only recorded', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 1, queues: ['codeintel'] });
    const [young] = group.instances.map((instance) => instance.id);
    time.now += 120_000;
    const body = `Action=SetInstanceHealth&Version=2011-01-01&InstanceId=${young}&HealthStatus=Healthy`;

    // Act
    const raw = await fetch(asg.emulator.url, { method: 'POST', headers: SIGNED('us-west-2', 'autoscaling'), body });
    const tooYoung = await autoScaling
      .send(new SetInstanceHealthCommand({ InstanceId: young, HealthStatus: 'Unhealthy' }))
      .catch((error: unknown) => error);
    const afterHealthy = await instancesOf('fleet');
    time.now += 180_000;
    await autoScaling.send(new SetInstanceHealthCommand({ InstanceId: young, HealthStatus: 'Unhealthy' }));

    // Assess
    expect(raw.status).toBe(200);
    expect(await raw.text()).toMatch(
      /^<SetInstanceHealthResponse xmlns="http:\/\/autoscaling\.amazonaws\.com\/doc\/2011-01-01\/"><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/SetInstanceHealthResponse>$/,
    );
    expect(tooYoung).toMatchObject({
      name: 'ValidationError',
      $fault: 'client',
      message: 'The age of the instance (120 seconds) is less than the configured grace period of 300 seconds',
    });
    expect(
      afterHealthy.map((instance) => [instance.InstanceId, instance.LifecycleState, instance.HealthStatus]),
    ).toEqual([[young, 'InService', 'Healthy']]);
    const described = await instancesOf('fleet');
    expect(described.map((instance) => [instance.InstanceId, instance.LifecycleState])).toEqual([
      [young, 'Terminating'],
      [expect.any(String), 'Pending'],
    ]);
    expect(asg.group('fleet')?.desired).toBe(1);
  });

  it('refuses a bad health status, a missing one, and an instance no group holds, changing nothing', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 1, queues: ['codeintel'] });
    const [only] = group.instances.map((instance) => instance.id);
    const refusal = (input: { InstanceId: string; HealthStatus: string }) =>
      autoScaling
        .send(new SetInstanceHealthCommand({ ...input, ShouldRespectGracePeriod: false }))
        .catch((error: unknown) => error);
    const requestsBefore = asg.healthRequests().length;

    // Act
    const badStatus = await refusal({ InstanceId: only ?? '', HealthStatus: 'Sick' });
    const missing = await refusal({ InstanceId: only ?? '', HealthStatus: '' });
    const tooLong = await refusal({ InstanceId: 'i-0123456789abcdef01', HealthStatus: 'Unhealthy' });
    const stranger = await refusal({ InstanceId: 'i-1', HealthStatus: 'Unhealthy' });

    // Assess
    expect(badStatus).toMatchObject({
      name: 'ValidationError',
      $fault: 'client',
      message: 'Valid instance health states are: [Healthy, Unhealthy].',
    });
    expect(missing).toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value null at 'healthStatus' failed to satisfy constraint: Member must not be null",
    });
    expect(tooLong).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /at 'instanceId' failed to satisfy constraint: Member must have length less than or equal to 19$/,
      ),
    });
    expect(stranger).toMatchObject({
      name: 'ValidationError',
      message: 'Instance Id not found - No managed instance found for instance ID: i-1',
    });
    // Only requests that passed the parameter checks are on record, with the group they reached if any.
    expect(
      asg
        .healthRequests()
        .slice(requestsBefore)
        .map((request) => [request.group, request.instanceId]),
    ).toEqual([[undefined, 'i-1']]);
    expect(asg.group('fleet')?.instances.map((instance) => [instance.id, instance.healthStatus])).toEqual([
      [only, 'Healthy'],
    ]);
  });

  it('lets the adapter replace instances through SetInstanceHealth, refusing strangers and any when only exited ones may go', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 2, queues: ['codeintel'] });
    const adapter = createAsgInstanceGroups({ autoScalingFor: () => autoScaling });
    const target = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'fleet' } as const;
    const [first, second] = group.instances.map((instance) => instance.id);

    // Act
    const exitedOnly = await adapter.replaceInstances(target, [first ?? '', 'i-1'], { onlyExited: true });
    const healthCallsAfterExitedOnly = asg.healthRequests().length;
    const replaced = await adapter.replaceInstances(target, [first ?? '', 'i-1']);

    // Assess
    expect(Object.fromEntries(exitedOnly)).toEqual({
      [first ?? '']: { replaced: false, reason: expect.stringMatching(/not exited/), retryable: false },
      'i-1': { replaced: false, reason: 'not in the group', retryable: false },
    });
    expect(Object.fromEntries(replaced)).toEqual({
      [first ?? '']: { replaced: true },
      'i-1': { replaced: false, reason: 'not in the group', retryable: false },
    });
    expect(asg.healthRequests().length).toBe(healthCallsAfterExitedOnly + 1);
    const view = asg.group('fleet');
    expect(view?.desired).toBe(2);
    expect(view?.instances.filter((instance) => instance.lifecycleState !== 'Terminating').map((i) => i.id)).toEqual([
      second,
      expect.any(String),
    ]);
  });

  it('protects new instances when the group says so', async () => {
    // Prepare
    asg.addGroup({
      name: 'fleet',
      min: 0,
      max: 5,
      desired: 1,
      queues: ['codeintel'],
      newInstancesProtectedFromScaleIn: true,
    });

    // Act
    const described = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['fleet'] }),
    );

    // Assess
    expect(described.AutoScalingGroups?.[0]).toMatchObject({
      NewInstancesProtectedFromScaleIn: true,
      Instances: [{ ProtectedFromScaleIn: true }],
    });
  });

  it('gives the adapter host names and launch times of world VMs, and none when EC2 fails', async () => {
    // Prepare
    const group = asg.addGroup({ name: 'fleet', min: 0, max: 5, desired: 2, queues: ['codeintel'] });
    const adapter = createAsgInstanceGroups({ autoScalingFor: () => autoScaling, ec2For: () => ec2West });
    const target = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'fleet' } as const;

    // Act
    const described = await adapter.describe([target]);
    ec2.emulator.injectFault({ kind: 'error', status: 500, operation: 'DescribeInstances', times: 1 });
    const degraded = await adapter.describe([target]);

    // Assess
    // The world still holds earlier tests' terminated VMs under the same group name.
    const ids = new Set(group.instances.map((instance) => instance.id));
    const expected = world
      .instances(group.worldGroup)
      .filter((instance) => ids.has(instance.id))
      .map((instance) => ({ id: instance.id, hostname: instance.hostname, launchedAt: instance.launchedAt }));
    expect(described.get('aws:us-west-2:fleet')).toMatchObject({ found: true, snapshot: { instances: expected } });
    expect(degraded.get('aws:us-west-2:fleet')).toMatchObject({ found: true });
    const instances = degraded.get('aws:us-west-2:fleet');
    expect(instances?.found === true && instances.snapshot.instances.some((instance) => 'hostname' in instance)).toBe(
      false,
    );
  });
});
