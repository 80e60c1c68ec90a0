import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AutoScalingEmulator,
  awsClientConfig,
  type Ec2Emulator,
  startAutoScalingEmulator,
  startEc2Emulator,
} from '../../local/aws/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';

/**
 * Executors that retire (EXECUTOR_NUM_TOTAL_JOBS) power their VM off; the launch template's shutdown behaviour
 * `terminate` ends the instance, and the group replaces it only when it holds fewer instances than desired.
 */

const BOOT_MS = 30_000;
const JOB_MS = 60_000;
const TERMINATING_MS = 5_000;
const GROUP = 'fleet';

describe('Auto Scaling emulator: instances whose executor retires', () => {
  const time = { now: Date.UTC(2026, 2, 2, 10) };
  let world: World;
  let asg: AutoScalingEmulator;
  let ec2: Ec2Emulator;
  let client: AutoScalingClient;
  let ec2Client: EC2Client;

  beforeEach(async () => {
    time.now = Date.UTC(2026, 2, 2, 10);
    // Each executor runs one job at a time and exits after its first.
    world = createWorld({
      clock: () => time.now,
      bootDelayMs: BOOT_MS,
      jobDurationMs: JOB_MS,
      maxJobsPerExecutor: 1,
      retireAfterJobs: 1,
    });
    asg = await startAutoScalingEmulator({ world, region: 'us-west-2', terminatingMs: TERMINATING_MS });
    ec2 = await startEc2Emulator({ world, region: 'us-west-2' });
    client = new AutoScalingClient({ ...awsClientConfig(asg.emulator, 'us-west-2'), maxAttempts: 1 });
    ec2Client = new EC2Client({ ...awsClientConfig(ec2.emulator, 'us-west-2'), maxAttempts: 1 });
  });
  afterEach(async () => {
    client.destroy();
    ec2Client.destroy();
    await Promise.all([asg.close(), ec2.close()]);
  });

  const describeGroup = async () =>
    (await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] })))
      .AutoScalingGroups?.[0];
  const states = (group: Awaited<ReturnType<typeof describeGroup>>) =>
    group?.Instances?.map((instance) => [instance.InstanceId, instance.LifecycleState]);

  it('terminates the instance and launches a replacement at that moment while the group is at its desired capacity', async () => {
    // Prepare: two instances in service, one job
    asg.addGroup({ name: GROUP, min: 0, max: 3, desired: 2, queues: ['codeintel'] });
    time.now += BOOT_MS;
    const [first, second] = (await describeGroup())?.Instances ?? [];
    const [job] = world.enqueue('codeintel', 1);
    const retiring = world.instances().find((instance) => job && instance.executor?.running.has(job.id));

    // Act: the job ends, the executor exits; look only well after
    time.now += JOB_MS + 1_000;
    const afterExit = await describeGroup();
    time.now += TERMINATING_MS;
    const settled = await describeGroup();
    time.now += BOOT_MS;
    const replaced = await describeGroup();
    const ec2View = await ec2Client.send(new DescribeInstancesCommand({ InstanceIds: [retiring?.id ?? ''] }));

    // Assess
    const stayed = retiring?.id === first?.InstanceId ? second : first;
    const fresh = settled?.Instances?.find((instance) => instance.InstanceId !== stayed?.InstanceId);
    expect(states(afterExit)).toEqual([
      [first?.InstanceId, retiring?.id === first?.InstanceId ? 'Terminating' : 'InService'],
      [second?.InstanceId, retiring?.id === second?.InstanceId ? 'Terminating' : 'InService'],
      [fresh?.InstanceId, 'Pending'],
    ]);
    expect(states(settled)).toEqual([
      [stayed?.InstanceId, 'InService'],
      [fresh?.InstanceId, 'Pending'],
    ]);
    expect(states(replaced)?.map(([, state]) => state)).toEqual(['InService', 'InService']);
    expect(world.instance(fresh?.InstanceId ?? '')?.launchedAt).toBe(Date.UTC(2026, 2, 2, 10) + BOOT_MS + JOB_MS);
    expect(ec2View.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('terminated');
    expect(replaced?.DesiredCapacity).toBe(2);
    expect(world.stats()).toMatchObject({ executorsRetired: 1, jobsInterrupted: 0, instancesLaunched: 3 });
  });

  it('does not replace an instance that leaves while protected instances hold the group above its desired capacity', async () => {
    // Prepare: two protected instances in service, desired lowered to 0 over them (attrition)
    asg.addGroup({ name: GROUP, min: 0, max: 3, desired: 2, queues: ['codeintel'] });
    time.now += BOOT_MS;
    const ids = ((await describeGroup())?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
    await client.send(
      new SetInstanceProtectionCommand({ AutoScalingGroupName: GROUP, InstanceIds: ids, ProtectedFromScaleIn: true }),
    );
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 0 }));
    const lowered = await describeGroup();

    // Act: one job ends its executor, then a second one the other's
    world.enqueue('codeintel', 1);
    time.now += JOB_MS + TERMINATING_MS;
    const oneLeft = await describeGroup();
    world.enqueue('codeintel', 1);
    time.now += JOB_MS + TERMINATING_MS;
    const empty = await describeGroup();

    // Assess
    expect(states(lowered)?.map(([, state]) => state)).toEqual(['InService', 'InService']);
    expect(oneLeft?.Instances?.map((instance) => [instance.LifecycleState, instance.ProtectedFromScaleIn])).toEqual([
      ['InService', true],
    ]);
    expect(empty?.Instances).toEqual([]);
    expect(empty?.DesiredCapacity).toBe(0);
    expect(world.stats()).toMatchObject({ executorsRetired: 2, jobsInterrupted: 0, instancesLaunched: 2 });
  });

  it('replaces only up to the desired capacity when protected instances hold it above', async () => {
    // Prepare: three protected instances, desired lowered to 1 over them
    asg.addGroup({ name: GROUP, min: 0, max: 3, desired: 3, queues: ['codeintel'] });
    time.now += BOOT_MS;
    const ids = ((await describeGroup())?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
    await client.send(
      new SetInstanceProtectionCommand({ AutoScalingGroupName: GROUP, InstanceIds: ids, ProtectedFromScaleIn: true }),
    );
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 1 }));

    // Act: all three executors exit after one job each
    world.enqueue('codeintel', 3);
    time.now += JOB_MS + TERMINATING_MS;
    const after = await describeGroup();

    // Assess: the last to leave found the group empty, below its desired 1: one replacement, unprotected
    expect(after?.Instances?.map((instance) => [instance.LifecycleState, instance.ProtectedFromScaleIn])).toEqual([
      ['Pending', false],
    ]);
    expect(world.stats()).toMatchObject({ executorsRetired: 3, instancesLaunched: 4, jobsInterrupted: 0 });
  });
});
