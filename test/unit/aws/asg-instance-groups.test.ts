import {
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  ResourceContentionFault,
  ScalingActivityInProgressFault,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAsgInstanceGroups } from '../../../shared/aws/asg-instance-groups.ts';
import { type GroupTarget, targetKey } from '../../../shared/domain/fleet.ts';
import { CloudApiError } from '../../../shared/ports/errors.ts';

expect.extend(allCustomMatcherWithAliases);

const autoScaling = mockClient(AutoScalingClient);
const client = new AutoScalingClient({ region: 'us-west-2' });
const ec2 = mockClient(EC2Client);
const ec2Client = new EC2Client({ region: 'us-west-2' });
const clients = { autoScalingFor: () => client, ec2For: () => ec2Client };
const target = (name: string, region = 'us-west-2'): GroupTarget => ({ cloud: 'aws', region, autoScalingGroup: name });
const group = (name: string, extra: Partial<AutoScalingGroup> = {}): AutoScalingGroup => ({
  AutoScalingGroupName: name,
  MinSize: 0,
  MaxSize: 10,
  DesiredCapacity: 2,
  DefaultCooldown: 300,
  AvailabilityZones: ['us-west-2a'],
  HealthCheckType: 'EC2',
  CreatedTime: new Date(0),
  ...extra,
});

beforeEach(() => {
  autoScaling.reset();
  autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
  ec2.reset();
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
});

describe('createAsgInstanceGroups describe', () => {
  it('asks for 150 groups in two requests of at most 100 names', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    const names = Array.from({ length: 150 }, (_, i) => `g${i}`);
    const groups = createAsgInstanceGroups(clients);

    // Act
    const described = await groups.describe(names.map((name) => target(name)));

    // Assess
    expect(described.size).toBe(150);
    expect(autoScaling).toReceiveCommandTimes(DescribeAutoScalingGroupsCommand, 2);
    expect(autoScaling).toReceiveNthCommandWith(DescribeAutoScalingGroupsCommand, 1, {
      AutoScalingGroupNames: names.slice(0, 100),
      MaxRecords: 100,
    });
    expect(autoScaling).toReceiveNthCommandWith(DescribeAutoScalingGroupsCommand, 2, {
      AutoScalingGroupNames: names.slice(100),
      MaxRecords: 100,
    });
  });

  it('follows NextToken, since a page may hold fewer groups than asked for', async () => {
    // Prepare
    autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [group('a')], NextToken: 'next' })
      .resolvesOnce({ AutoScalingGroups: [group('b', { DesiredCapacity: 4 })] });
    const groups = createAsgInstanceGroups(clients);

    // Act
    const described = await groups.describe([target('a'), target('b')]);

    // Assess
    expect(autoScaling).toReceiveNthCommandWith(DescribeAutoScalingGroupsCommand, 2, { NextToken: 'next' });
    expect(described.get(targetKey(target('b')))).toMatchObject({ found: true, snapshot: { desired: 4 } });
  });

  it('maps sizes and instance states, and reports a missing or deleting group as not found', async () => {
    // Prepare
    const instances = [
      { InstanceId: 'i-1', LifecycleState: 'Pending:Wait' as const },
      { InstanceId: 'i-2', LifecycleState: 'InService' as const },
    ].map((i) => ({ ...i, AvailabilityZone: 'us-west-2a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false }));
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        group('a', { MinSize: 1, MaxSize: 5, Instances: instances }),
        group('d', { Status: 'Delete in progress' }),
      ],
    });
    const groups = createAsgInstanceGroups(clients);

    // Act
    const described = await groups.describe([target('a'), target('d'), target('gone')]);

    // Assess
    expect(described.get(targetKey(target('a')))).toEqual({
      found: true,
      snapshot: {
        desired: 2,
        min: 1,
        max: 5,
        instances: [
          { id: 'i-1', lifecycle: 'booting', state: 'Pending:Wait', protectedFromScaleIn: false },
          { id: 'i-2', lifecycle: 'in-service', state: 'InService', protectedFromScaleIn: false },
        ],
        competingScalers: [],
      },
    });
    expect(described.get(targetKey(target('d')))).toMatchObject({
      found: false,
      reason: expect.stringMatching(/deleted/),
    });
    expect(described.get(targetKey(target('gone')))).toMatchObject({ found: false });
  });

  it('asks each region its own client', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    const clientFor = vi.fn((_region: string) => client);
    const groups = createAsgInstanceGroups({ ...clients, autoScalingFor: clientFor });

    // Act
    await groups.describe([target('a', 'us-west-2'), target('b', 'eu-west-1'), target('c', 'us-west-2')]);

    // Assess
    expect(new Set(clientFor.mock.calls.map(([region]) => region))).toEqual(new Set(['us-west-2', 'eu-west-1']));
    expect(autoScaling).toReceiveCommandTimes(DescribeAutoScalingGroupsCommand, 2);
  });

  it("reports a throttled region's groups as unavailable without hiding another region's", async () => {
    // Prepare
    const cause = new AutoScalingServiceException({
      name: 'Throttling',
      $fault: 'client',
      $metadata: {},
      message: 'Rate exceeded',
    });
    autoScaling.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['a'] }).rejects(cause);
    autoScaling
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['b'] })
      .resolves({ AutoScalingGroups: [group('b')] });
    const groups = createAsgInstanceGroups(clients);

    // Act
    const described = await groups.describe([target('a', 'eu-west-1'), target('b')]);

    // Assess
    expect(described.get('aws:eu-west-1:a')).toEqual({
      found: false,
      reason: expect.stringMatching(/could not describe groups in eu-west-1: .*Rate exceeded/),
    });
    expect(described.get('aws:us-west-2:b')).toMatchObject({ found: true });
  });
});

describe('createAsgInstanceGroups competing scalers', () => {
  const scaledGroup = () =>
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('a')] });

  it('reads enabled policies of the whole region, paged, and names them per group', async () => {
    // Prepare
    scaledGroup();
    autoScaling
      .on(DescribePoliciesCommand)
      .resolvesOnce({
        ScalingPolicies: [{ AutoScalingGroupName: 'a', PolicyName: 'out', PolicyType: 'SimpleScaling' }],
        NextToken: 't',
      })
      .resolvesOnce({
        ScalingPolicies: [
          { AutoScalingGroupName: 'a', PolicyName: 'track', PolicyType: 'TargetTrackingScaling' },
          { AutoScalingGroupName: 'a', PolicyName: 'off', PolicyType: 'StepScaling', Enabled: false },
          { AutoScalingGroupName: 'other', PolicyName: 'x', PolicyType: 'StepScaling' },
        ],
      });
    const groups = createAsgInstanceGroups(clients);

    // Act
    const described = await groups.describe([target('a')]);

    // Assess
    expect(autoScaling).toReceiveNthCommandWith(DescribePoliciesCommand, 1, { MaxRecords: 100 });
    expect(autoScaling).toReceiveNthCommandWith(DescribePoliciesCommand, 2, { MaxRecords: 100, NextToken: 't' });
    expect(described.get(targetKey(target('a')))).toMatchObject({
      snapshot: { competingScalers: ['policy:out (SimpleScaling)', 'policy:track (TargetTrackingScaling)'] },
    });
  });

  it('reuses a region’s policies until the cache expires', async () => {
    // Prepare
    scaledGroup();
    let now = 0;
    const groups = createAsgInstanceGroups(clients, { clock: () => now, policyCacheMs: 60_000 });

    // Act
    await groups.describe([target('a')]);
    now = 59_999;
    await groups.describe([target('a')]);
    const beforeExpiry = autoScaling.commandCalls(DescribePoliciesCommand).length;
    now = 60_000;
    await groups.describe([target('a')]);

    // Assess
    expect(beforeExpiry).toBe(1);
    expect(autoScaling).toReceiveCommandTimes(DescribePoliciesCommand, 2);
    expect(autoScaling).toReceiveCommandTimes(DescribeAutoScalingGroupsCommand, 3);
  });

  it('still describes when policies cannot be read, warns, and asks again next time', async () => {
    // Prepare
    scaledGroup();
    autoScaling.on(DescribePoliciesCommand).rejects(new Error('AccessDenied'));
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const groups = createAsgInstanceGroups(clients, { logger, clock: () => 0 });

    // Act
    const described = await groups.describe([target('a')]);
    await groups.describe([target('a')]);

    // Assess
    expect(described.get(targetKey(target('a')))).toMatchObject({ found: true, snapshot: { competingScalers: [] } });
    expect(logger.warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ region: 'us-west-2' }));
    expect(autoScaling).toReceiveCommandTimes(DescribePoliciesCommand, 2);
  });
});

describe('createAsgInstanceGroups setDesiredSize', () => {
  it('sets the desired capacity without honouring cooldowns', async () => {
    // Prepare
    autoScaling.on(SetDesiredCapacityCommand).resolves({});
    const groups = createAsgInstanceGroups(clients);

    // Act
    const outcome = await groups.setDesiredSize(target('a'), 3);

    // Assess
    expect(outcome).toEqual({ applied: true });
    expect(autoScaling).toReceiveCommandExactlyOnceWith(SetDesiredCapacityCommand, {
      AutoScalingGroupName: 'a',
      DesiredCapacity: 3,
      HonorCooldown: false,
    });
  });

  it.each([
    ['a scaling activity', () => new ScalingActivityInProgressFault({ message: 'busy', $metadata: {} })],
    ['contention', () => new ResourceContentionFault({ message: 'contended', $metadata: {} })],
    [
      'throttling',
      () => new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: {}, message: 'slow' }),
    ],
  ])('defers on %s instead of failing', async (_, fault) => {
    // Prepare
    autoScaling.on(SetDesiredCapacityCommand).rejects(fault());
    const groups = createAsgInstanceGroups(clients);

    // Act
    const outcome = await groups.setDesiredSize(target('a'), 3);

    // Assess
    expect(outcome).toEqual({ applied: false, deferred: expect.any(String) });
  });

  it('fails with a non-retryable CloudApiError on a validation error', async () => {
    // Prepare
    const cause = new AutoScalingServiceException({
      name: 'ValidationError',
      $fault: 'client',
      $metadata: {},
      message: 'New SetDesiredCapacity value 11 is above max value 10 for the AutoScalingGroup.',
    });
    autoScaling.on(SetDesiredCapacityCommand).rejects(cause);
    const groups = createAsgInstanceGroups(clients);

    // Act
    const resize = groups.setDesiredSize(target('a'), 11);

    // Assess
    await expect(resize).rejects.toBeInstanceOf(CloudApiError);
    await expect(resize).rejects.toMatchObject({ retryable: false, cause, operation: 'SetDesiredCapacity' });
  });

  it('refuses a negative or fractional size without calling AWS', async () => {
    // Prepare
    const groups = createAsgInstanceGroups(clients);

    // Act
    const resizes = [groups.setDesiredSize(target('a'), -1), groups.setDesiredSize(target('a'), 1.5)];

    // Assess
    for (const resize of resizes) {
      await expect(resize).rejects.toBeInstanceOf(CloudApiError);
    }
    expect(autoScaling).not.toReceiveAnyCommand();
  });
});
