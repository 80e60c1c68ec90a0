import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAsgInstanceGroups } from '../../../shared/aws/asg-instance-groups.ts';
import { describeInstanceDetails, hostnameOf } from '../../../shared/aws/ec2-instance-details.ts';
import type { GroupTarget } from '../../../shared/domain/fleet.ts';

expect.extend(allCustomMatcherWithAliases);

const ec2 = mockClient(EC2Client);
const autoScaling = mockClient(AutoScalingClient);
const ec2Client = new EC2Client({ region: 'us-west-2' });
const autoScalingClient = new AutoScalingClient({ region: 'us-west-2' });

const ids = (count: number) => Array.from({ length: count }, (_, index) => `i-${index.toString(16).padStart(17, '0')}`);
const LAUNCHED = Date.UTC(2026, 10, 1, 8);
/** What EC2 answers for known ids: each in a reservation of its own, as Auto Scaling launches them. */
const answerFor = (input: DescribeInstancesCommandInput) => ({
  Reservations: (input.InstanceIds ?? []).map((id) => ({
    Instances: [
      {
        InstanceId: id,
        PrivateDnsName: `ip-${id.slice(2)}.us-west-2.compute.internal`,
        LaunchTime: new Date(LAUNCHED),
      },
    ],
  })),
});
const notFound = (message: string) =>
  new EC2ServiceException({ name: 'InvalidInstanceID.NotFound', $fault: 'client', $metadata: {}, message });

beforeEach(() => {
  ec2.reset();
  autoScaling.reset();
});

describe('describeInstanceDetails', () => {
  it('asks for 2500 instances in three requests of at most 1000 ids', async () => {
    // Prepare
    const all = ids(2500);
    ec2.on(DescribeInstancesCommand).callsFake(answerFor);

    // Act
    const details = await describeInstanceDetails(ec2Client, all);

    // Assess
    expect(ec2).toReceiveCommandTimes(DescribeInstancesCommand, 3);
    expect(ec2).toReceiveNthCommandWith(DescribeInstancesCommand, 1, { InstanceIds: all.slice(0, 1000) });
    expect(ec2).toReceiveNthCommandWith(DescribeInstancesCommand, 3, { InstanceIds: all.slice(2000) });
    expect(details.size).toBe(2500);
    expect(details.get('i-00000000000000000')).toEqual({ hostname: 'ip-00000000000000000', launchedAt: LAUNCHED });
  });

  it('follows NextToken', async () => {
    // Prepare
    const [first = '', second = ''] = ids(2);
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ ...answerFor({ InstanceIds: [first] }), NextToken: 'more' })
      .resolvesOnce(answerFor({ InstanceIds: [second] }));

    // Act
    const details = await describeInstanceDetails(ec2Client, [first, second]);

    // Assess
    expect(ec2).toReceiveNthCommandWith(DescribeInstancesCommand, 2, {
      InstanceIds: [first, second],
      NextToken: 'more',
    });
    expect([...details.keys()]).toEqual([first, second]);
  });

  it('asks again without the ids EC2 does not know yet, instead of failing them all', async () => {
    // Prepare
    const [known = '', fresh = '', newer = ''] = ids(3);
    ec2
      .on(DescribeInstancesCommand)
      .rejectsOnce(notFound(`The instance IDs '${fresh}, ${newer}' do not exist`))
      .callsFake(answerFor);

    // Act
    const details = await describeInstanceDetails(ec2Client, [known, fresh, newer]);

    // Assess
    expect(ec2).toReceiveNthCommandWith(DescribeInstancesCommand, 2, { InstanceIds: [known] });
    expect([...details.keys()]).toEqual([known]);
  });

  it('does not take a short id for a longer one EC2 named', async () => {
    // Prepare
    ec2
      .on(DescribeInstancesCommand)
      .rejectsOnce(notFound("The instance ID 'i-0a1' does not exist"))
      .callsFake(answerFor);

    // Act
    await describeInstanceDetails(ec2Client, ['i-0', 'i-0a1']);

    // Assess
    expect(ec2).toReceiveNthCommandWith(DescribeInstancesCommand, 2, { InstanceIds: ['i-0'] });
  });

  it('fails with a CloudApiError on any other error', async () => {
    // Prepare
    ec2
      .on(DescribeInstancesCommand)
      .rejects(
        new EC2ServiceException({ name: 'UnauthorizedOperation', $fault: 'client', $metadata: {}, message: 'no' }),
      );

    // Act
    const details = describeInstanceDetails(ec2Client, ids(1));

    // Assess
    await expect(details).rejects.toMatchObject({
      name: 'CloudApiError',
      operation: 'DescribeInstances',
      retryable: false,
    });
  });
});

describe('hostnameOf', () => {
  it.each([
    ['ip-10-0-1-2.ec2.internal', 'ip-10-0-1-2'],
    ['ip-10-0-1-2.us-west-2.compute.internal', 'ip-10-0-1-2'],
    ['ip-10-0-1-2', 'ip-10-0-1-2'],
    ['', undefined],
    [undefined, undefined],
  ])('takes the first label of %j', (name, hostname) => {
    // Act
    const label = hostnameOf(name);

    // Assess
    expect(label).toBe(hostname);
  });
});

describe('createAsgInstanceGroups describe with EC2 details', () => {
  const member = (id: string): Instance => ({
    InstanceId: id,
    LifecycleState: 'InService',
    AvailabilityZone: 'us-west-2a',
    HealthStatus: 'Healthy',
    ProtectedFromScaleIn: false,
  });
  const group = (name: string, instances: readonly string[]) => ({
    AutoScalingGroupName: name,
    MinSize: 0,
    MaxSize: 10,
    DesiredCapacity: instances.length,
    DefaultCooldown: 300,
    AvailabilityZones: ['us-west-2a'],
    HealthCheckType: 'EC2',
    CreatedTime: new Date(0),
    Instances: instances.map(member),
  });
  const target = (name: string): GroupTarget => ({ cloud: 'aws', region: 'us-west-2', autoScalingGroup: name });
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const adapter = () =>
    createAsgInstanceGroups({ autoScalingFor: () => autoScalingClient, ec2For: () => ec2Client }, { logger });

  beforeEach(() => {
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
    autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [group('a', ['i-a1', 'i-a2']), group('b', ['i-b1'])] });
  });

  it('reads every instance of every group in the region with one DescribeInstances', async () => {
    // Prepare
    ec2.on(DescribeInstancesCommand).callsFake(answerFor);

    // Act
    const described = await adapter().describe([target('a'), target('b')]);

    // Assess
    expect(ec2).toReceiveCommandExactlyOnceWith(DescribeInstancesCommand, { InstanceIds: ['i-a1', 'i-a2', 'i-b1'] });
    expect(described.get('aws:us-west-2:b')).toMatchObject({
      found: true,
      snapshot: { instances: [{ id: 'i-b1', hostname: 'ip-b1', launchedAt: LAUNCHED, lifecycle: 'in-service' }] },
    });
  });

  it('still describes the groups when EC2 cannot be read, without host names, and warns', async () => {
    // Prepare
    ec2
      .on(DescribeInstancesCommand)
      .rejects(new EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', $metadata: {}, message: '' }));

    // Act
    const described = await adapter().describe([target('a')]);

    // Assess
    expect(described.get('aws:us-west-2:a')).toEqual({
      found: true,
      snapshot: expect.objectContaining({
        instances: [
          { id: 'i-a1', lifecycle: 'in-service', state: 'InService', protectedFromScaleIn: false },
          { id: 'i-a2', lifecycle: 'in-service', state: 'InService', protectedFromScaleIn: false },
        ],
      }),
    });
    expect(logger.warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ region: 'us-west-2' }));
  });
});
