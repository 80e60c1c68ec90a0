import {
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  type Instance,
  ResourceContentionFault,
  ScalingActivityInProgressFault,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAsgInstanceGroups } from '../../../shared/aws/asg-instance-groups.ts';
import { removalOutcomeOf } from '../../../shared/aws/asg-scale-in.ts';
import type { GroupTarget } from '../../../shared/domain/fleet.ts';
import { CloudApiError } from '../../../shared/ports/errors.ts';

expect.extend(allCustomMatcherWithAliases);

const autoScaling = mockClient(AutoScalingClient);
const client = new AutoScalingClient({ region: 'us-west-2' });
const ec2Client = new EC2Client({ region: 'us-west-2' });
const groups = () => createAsgInstanceGroups({ autoScalingFor: () => client, ec2For: () => ec2Client });
const TARGET: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'fleet' };

const ids = (count: number) => Array.from({ length: count }, (_, index) => `i-${String(index).padStart(4, '0')}`);
const member = (id: string, state: Instance['LifecycleState'] = 'InService'): Instance => ({
  InstanceId: id,
  LifecycleState: state,
  AvailabilityZone: 'us-west-2a',
  HealthStatus: 'Healthy',
  ProtectedFromScaleIn: false,
});
const group = (instances: readonly Instance[], sizes: Partial<AutoScalingGroup> = {}): AutoScalingGroup => ({
  AutoScalingGroupName: 'fleet',
  MinSize: 0,
  MaxSize: 1000,
  DesiredCapacity: instances.length,
  DefaultCooldown: 300,
  AvailabilityZones: ['us-west-2a'],
  HealthCheckType: 'EC2',
  CreatedTime: new Date(0),
  Instances: [...instances],
  ...sizes,
});
const withGroup = (described: AutoScalingGroup) =>
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [described] });
const validation = (message: string) =>
  new AutoScalingServiceException({ name: 'ValidationError', $fault: 'client', $metadata: {}, message });
const MIN_SIZE_MESSAGE =
  "Currently, desiredSize equals minSize (2). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.";

beforeEach(() => {
  autoScaling.reset();
});

describe('createAsgInstanceGroups removeInstances', () => {
  it('terminates 250 instances in batches of 100, naming the group and decrementing desired capacity', async () => {
    // Prepare
    const all = ids(250);
    withGroup(group(all.map((id) => member(id))));
    autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).resolves({ Activities: [] });

    // Act
    const outcomes = await groups().removeInstances(TARGET, all);

    // Assess
    expect(autoScaling).toReceiveCommandTimes(TerminateInstanceInAutoScalingGroupCommand, 3);
    for (const [nth, batch] of [all.slice(0, 100), all.slice(100, 200), all.slice(200)].entries()) {
      expect(autoScaling).toReceiveNthCommandWith(TerminateInstanceInAutoScalingGroupCommand, nth + 1, {
        AutoScalingGroupName: 'fleet',
        InstanceIds: batch,
        ShouldDecrementDesiredCapacity: true,
      });
    }
    expect([...outcomes.values()].every((outcome) => outcome.removed)).toBe(true);
    expect([...outcomes.keys()]).toEqual(all);
  });

  it('refuses, without a call, instances of other groups, already leaving, or below the minimum', async () => {
    // Prepare
    withGroup(
      group([member('i-a'), member('i-b'), member('i-gone', 'Terminating:Wait')], { DesiredCapacity: 3, MinSize: 2 }),
    );
    autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).resolves({ Activities: [] });

    // Act
    const outcomes = await groups().removeInstances(TARGET, ['i-elsewhere', 'i-gone', 'i-a', 'i-b']);

    // Assess
    expect(Object.fromEntries(outcomes)).toEqual({
      'i-elsewhere': { removed: false, reason: 'not in the group', retryable: false },
      'i-gone': { removed: false, reason: expect.stringMatching(/leaving.*Terminating:Wait/), retryable: false },
      'i-a': { removed: true },
      'i-b': { removed: false, reason: expect.stringMatching(/minimum size 2/), retryable: false },
    });
    expect(autoScaling).toReceiveCommandExactlyOnceWith(TerminateInstanceInAutoScalingGroupCommand, {
      AutoScalingGroupName: 'fleet',
      InstanceIds: ['i-a'],
      ShouldDecrementDesiredCapacity: true,
    });
  });

  it.each([
    ['a scaling activity', () => new ScalingActivityInProgressFault({ message: 'busy', $metadata: {} })],
    ['contention', () => new ResourceContentionFault({ message: 'contended', $metadata: {} })],
    [
      'throttling',
      () => new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: {}, message: 'slow' }),
    ],
    [
      'a server fault',
      () =>
        new AutoScalingServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: {}, message: 'oops' }),
    ],
  ])('answers %s as retryable for every instance of the batch, without retrying one by one', async (_, fault) => {
    // Prepare
    withGroup(group([member('i-a'), member('i-b')]));
    autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).rejects(fault());

    // Act
    const outcomes = await groups().removeInstances(TARGET, ['i-a', 'i-b']);

    // Assess
    expect([...outcomes.values()]).toEqual([
      { removed: false, reason: expect.any(String), retryable: true },
      { removed: false, reason: expect.any(String), retryable: true },
    ]);
    expect(autoScaling).toReceiveCommandTimes(TerminateInstanceInAutoScalingGroupCommand, 1);
  });

  it('retries a batch AWS refused as a whole one instance at a time, and answers for each', async () => {
    // Prepare
    withGroup(group([member('i-a'), member('i-b'), member('i-c')]));
    autoScaling
      .on(TerminateInstanceInAutoScalingGroupCommand)
      .rejects(validation('Instance Id not found - No managed instance found for instance ID: i-b'))
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-a' })
      .resolves({})
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-b' })
      .rejects(validation('Instance Id not found - No managed instance found for instance ID: i-b'))
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-c' })
      .rejects(validation(MIN_SIZE_MESSAGE));

    // Act
    const outcomes = await groups().removeInstances(TARGET, ['i-a', 'i-b', 'i-c']);

    // Assess
    expect(Object.fromEntries(outcomes)).toEqual({
      'i-a': { removed: true },
      'i-b': { removed: false, reason: expect.stringMatching(/^not in the group/), retryable: false },
      'i-c': { removed: false, reason: expect.stringMatching(/minimum size/), retryable: false },
    });
    expect(autoScaling).toReceiveCommandTimes(TerminateInstanceInAutoScalingGroupCommand, 4);
    expect(autoScaling).toReceiveCommandWith(TerminateInstanceInAutoScalingGroupCommand, {
      InstanceId: 'i-c',
      ShouldDecrementDesiredCapacity: true,
    });
  });

  it('throws CloudApiError for a group that does not exist, and terminates nothing', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    // Act
    const removal = groups().removeInstances(TARGET, ['i-a']);

    // Assess
    await expect(removal).rejects.toBeInstanceOf(CloudApiError);
    expect(autoScaling).not.toReceiveCommand(TerminateInstanceInAutoScalingGroupCommand);
  });

  it('throws a retryable CloudApiError when the group cannot be read', async () => {
    // Prepare
    autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: {}, message: '' }));

    // Act
    const removal = groups().removeInstances(TARGET, ['i-a']);

    // Assess
    await expect(removal).rejects.toMatchObject({ name: 'CloudApiError', retryable: true });
  });

  it('answers an aborted call as retryable: it may have reached AWS', async () => {
    // Prepare
    const controller = new AbortController();
    withGroup(group([member('i-a')]));
    autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).callsFake(() => {
      controller.abort();
      throw new DOMException('aborted', 'AbortError');
    });

    // Act
    const outcomes = await groups().removeInstances(TARGET, ['i-a'], { signal: controller.signal });

    // Assess
    expect(outcomes.get('i-a')).toEqual({ removed: false, reason: expect.stringMatching(/aborted/), retryable: true });
  });
});

describe('removalOutcomeOf', () => {
  it.each([
    [validation(MIN_SIZE_MESSAGE), false, /minimum size/],
    [validation('Instance Id not found - No managed instance found for instance ID: i-1'), false, /not in the group/],
    [validation('Something else entirely'), false, /ValidationError: Something else entirely/],
    [new ScalingActivityInProgressFault({ message: 'busy', $metadata: {} }), true, /scaling activity/],
    [
      new AutoScalingServiceException({ name: 'LimitExceeded', $fault: 'client', $metadata: {}, message: '' }),
      true,
      /LimitExceeded/,
    ],
  ])('maps %s', (error, retryable, reason) => {
    // Act
    const outcome = removalOutcomeOf(error);

    // Assess
    expect(outcome).toEqual({ removed: false, reason: expect.stringMatching(reason), retryable });
  });
});

describe('createAsgInstanceGroups protectFromScaleIn', () => {
  it('protects 120 instances in three requests of at most 50', async () => {
    // Prepare
    const all = ids(120);
    autoScaling.on(SetInstanceProtectionCommand).resolves({});

    // Act
    await groups().protectFromScaleIn(TARGET, all);

    // Assess
    expect(autoScaling).toReceiveCommandTimes(SetInstanceProtectionCommand, 3);
    for (const [nth, batch] of [all.slice(0, 50), all.slice(50, 100), all.slice(100)].entries()) {
      expect(autoScaling).toReceiveNthCommandWith(SetInstanceProtectionCommand, nth + 1, {
        AutoScalingGroupName: 'fleet',
        InstanceIds: batch,
        ProtectedFromScaleIn: true,
      });
    }
  });

  it('makes no request for no instances', async () => {
    // Act
    await groups().protectFromScaleIn(TARGET, []);

    // Assess
    expect(autoScaling).not.toReceiveAnyCommand();
  });

  it.each([
    ['a validation error', validation('The instance i-x is not part of Auto Scaling group fleet.'), false],
    ['contention', new ResourceContentionFault({ message: 'contended', $metadata: {} }), true],
  ])('fails on %s with a CloudApiError that says whether to retry', async (_, cause, retryable) => {
    // Prepare
    autoScaling.on(SetInstanceProtectionCommand).rejects(cause);

    // Act
    const protection = groups().protectFromScaleIn(TARGET, ['i-x']);

    // Assess
    await expect(protection).rejects.toBeInstanceOf(CloudApiError);
    await expect(protection).rejects.toMatchObject({ operation: 'SetInstanceProtection', retryable, cause });
  });
});
