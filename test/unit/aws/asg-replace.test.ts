import {
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  type Instance,
  ResourceContentionFault,
  SetInstanceHealthCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcherWithAliases } from 'aws-sdk-client-mock-vitest';
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAsgInstanceGroups } from '../../../shared/aws/asg-instance-groups.ts';
import { HEALTH_CHANGES_IN_FLIGHT } from '../../../shared/aws/asg-replace.ts';
import type { GroupTarget } from '../../../shared/domain/fleet.ts';
import { CloudApiError } from '../../../shared/ports/errors.ts';

expect.extend(allCustomMatcherWithAliases);

const autoScaling = mockClient(AutoScalingClient);
const client = new AutoScalingClient({ region: 'us-west-2' });
const groups = () => createAsgInstanceGroups({ autoScalingFor: () => client });
const TARGET: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'fleet' };

const ids = (count: number) => Array.from({ length: count }, (_, index) => `i-${String(index).padStart(4, '0')}`);
const member = (id: string, state: Instance['LifecycleState'] = 'InService'): Instance => ({
  InstanceId: id,
  LifecycleState: state,
  AvailabilityZone: 'us-west-2a',
  HealthStatus: 'Healthy',
  ProtectedFromScaleIn: false,
});
const group = (instances: readonly Instance[]): AutoScalingGroup => ({
  AutoScalingGroupName: 'fleet',
  MinSize: 0,
  MaxSize: 1000,
  DesiredCapacity: instances.length,
  DefaultCooldown: 300,
  AvailabilityZones: ['us-west-2a'],
  HealthCheckType: 'EC2',
  CreatedTime: new Date(0),
  Instances: [...instances],
});
const withGroup = (described: AutoScalingGroup) =>
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [described] });
const validation = (message: string) =>
  new AutoScalingServiceException({ name: 'ValidationError', $fault: 'client', $metadata: {}, message });

beforeEach(() => {
  autoScaling.reset();
});

describe('createAsgInstanceGroups replaceInstances', () => {
  it('marks each instance Unhealthy in its own request, ignoring the grace period, a few at a time', async () => {
    // Prepare
    const all = ids(10);
    withGroup(group(all.map((id) => member(id))));
    let inFlight = 0;
    let most = 0;
    autoScaling.on(SetInstanceHealthCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return {};
    });

    // Act
    const outcomes = await groups().replaceInstances(TARGET, all);

    // Assess
    expect([...outcomes]).toEqual(all.map((id) => [id, { replaced: true }]));
    expect(autoScaling).toReceiveCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    expect(autoScaling).toReceiveCommandTimes(SetInstanceHealthCommand, 10);
    for (const id of all) {
      expect(autoScaling).toReceiveCommandWith(SetInstanceHealthCommand, {
        InstanceId: id,
        HealthStatus: 'Unhealthy',
        ShouldRespectGracePeriod: false,
      });
    }
    expect(most).toBe(HEALTH_CHANGES_IN_FLIGHT);
  });

  it('refuses, without a call, instances of other groups, already leaving, or in standby', async () => {
    // Prepare
    withGroup(group([member('i-a'), member('i-gone', 'Terminating:Wait'), member('i-aside', 'Standby')]));
    autoScaling.on(SetInstanceHealthCommand).resolves({});

    // Act
    const outcomes = await groups().replaceInstances(TARGET, ['i-elsewhere', 'i-gone', 'i-aside', 'i-a', 'i-a']);

    // Assess
    expect([...outcomes]).toEqual([
      ['i-elsewhere', { replaced: false, reason: 'not in the group', retryable: false }],
      ['i-gone', { replaced: false, reason: expect.stringMatching(/leaving.*Terminating:Wait/), retryable: false }],
      ['i-aside', { replaced: false, reason: expect.stringMatching(/Standby/), retryable: false }],
      ['i-a', { replaced: true }],
    ]);
    expect(autoScaling).toReceiveCommandExactlyOnceWith(SetInstanceHealthCommand, { InstanceId: 'i-a' });
  });

  it.each([
    [
      'throttling',
      () => new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: {}, message: 'slow' }),
      true,
      /throttled/,
    ],
    ['contention', () => new ResourceContentionFault({ message: 'contended', $metadata: {} }), true, /contention/],
    [
      'an instance that left the group meanwhile',
      () => validation('Instance Id not found - No managed instance found for instance ID: i-b'),
      false,
      /^not in the group/,
    ],
  ])('answers %s for that instance alone', async (_, fault, retryable, reason) => {
    // Prepare
    withGroup(group([member('i-a'), member('i-b')]));
    autoScaling
      .on(SetInstanceHealthCommand, { InstanceId: 'i-a' })
      .resolves({})
      .on(SetInstanceHealthCommand, { InstanceId: 'i-b' })
      .rejects(fault());

    // Act
    const outcomes = await groups().replaceInstances(TARGET, ['i-a', 'i-b']);

    // Assess
    expect(Object.fromEntries(outcomes)).toEqual({
      'i-a': { replaced: true },
      'i-b': { replaced: false, reason: expect.stringMatching(reason), retryable },
    });
  });

  it('throws CloudApiError for a group that does not exist, and marks nothing', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    // Act
    const replacement = groups().replaceInstances(TARGET, ['i-a']);

    // Assess
    await expect(replacement).rejects.toBeInstanceOf(CloudApiError);
    await expect(replacement).rejects.toMatchObject({ operation: 'SetInstanceHealth', retryable: false });
    expect(autoScaling).not.toReceiveCommand(SetInstanceHealthCommand);
  });

  it('throws a retryable CloudApiError when the group cannot be read', async () => {
    // Prepare
    autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: {}, message: '' }));

    // Act
    const replacement = groups().replaceInstances(TARGET, ['i-a']);

    // Assess
    await expect(replacement).rejects.toMatchObject({ name: 'CloudApiError', retryable: true });
  });

  it('makes no request for no instances, and refuses a target that is not an ASG', async () => {
    // Act
    const none = await groups().replaceInstances(TARGET, []);
    const foreign = groups().replaceInstances(
      { cloud: 'gcp', project: 'p', zone: 'us-west1-a', instanceGroupManager: 'fleet' },
      ['i-a'],
    );

    // Assess
    expect(none.size).toBe(0);
    await expect(foreign).rejects.toBeInstanceOf(CloudApiError);
    expect(autoScaling).not.toReceiveAnyCommand();
  });

  it('answers instances as retryable once the call is aborted: a request may have reached AWS', async () => {
    // Prepare
    const controller = new AbortController();
    withGroup(group([member('i-a'), member('i-b')]));
    autoScaling.on(SetInstanceHealthCommand).callsFake(() => {
      controller.abort();
      throw new DOMException('aborted', 'AbortError');
    });

    // Act
    const outcomes = await groups().replaceInstances(TARGET, ['i-a', 'i-b'], { signal: controller.signal });

    // Assess
    for (const id of ['i-a', 'i-b']) {
      expect(outcomes.get(id)).toEqual({ replaced: false, reason: expect.stringMatching(/aborted/), retryable: true });
    }
  });

  it('reads nothing once aborted before it starts', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();

    // Act
    const replacement = groups().replaceInstances(TARGET, ['i-a'], { signal: controller.signal });

    // Assess
    await expect(replacement).rejects.toBeInstanceOf(CloudApiError);
    expect(autoScaling).not.toReceiveAnyCommand();
  });
});

describe('createAsgInstanceGroups with onlyExited', () => {
  it('refuses every member, an ASG keeping no exited instance, and still tells strangers apart, without a change', async () => {
    // Prepare
    withGroup(group([member('i-a'), member('i-b', 'Pending'), member('i-gone', 'Terminating')]));

    // Act
    const removed = await groups().removeInstances(TARGET, ['i-a', 'i-elsewhere', 'i-gone'], { onlyExited: true });
    const replaced = await groups().replaceInstances(TARGET, ['i-b', 'i-elsewhere'], { onlyExited: true });

    // Assess
    expect(Object.fromEntries(removed)).toEqual({
      'i-a': { removed: false, reason: expect.stringMatching(/not exited.*InService/), retryable: false },
      'i-elsewhere': { removed: false, reason: 'not in the group', retryable: false },
      'i-gone': { removed: false, reason: expect.stringMatching(/already leaving/), retryable: false },
    });
    expect(Object.fromEntries(replaced)).toEqual({
      'i-b': { replaced: false, reason: expect.stringMatching(/not exited.*Pending/), retryable: false },
      'i-elsewhere': { replaced: false, reason: 'not in the group', retryable: false },
    });
    expect(autoScaling).toReceiveCommandTimes(DescribeAutoScalingGroupsCommand, 2);
    expect(autoScaling).not.toReceiveCommand(TerminateInstanceInAutoScalingGroupCommand);
    expect(autoScaling).not.toReceiveCommand(SetInstanceHealthCommand);
  });
});
