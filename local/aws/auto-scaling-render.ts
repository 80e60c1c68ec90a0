import { randomUUID } from 'node:crypto';
import type { TerminatedInstance } from './auto-scaling-groups.ts';
import { progressOf } from './auto-scaling-refresh.ts';
import type {
  GroupInstance,
  GroupState,
  InstanceRefresh,
  RefreshPreferences,
  ScalingPolicySpec,
} from './auto-scaling-spec.ts';
import { zonesOf } from './auto-scaling-spec.ts';
import type { XmlFields } from './xml.ts';

/** The emulator's stand-in account: AWS's documentation account id, as LocalStack-style fakes use too. */
export const ACCOUNT_ID = '000000000000';

/** Every group launches from one template; the id is fixed so describes stay stable across restarts. */
const launchTemplate = (group: GroupState): XmlFields => ({
  LaunchTemplateId: 'lt-0123456789abcdef0',
  LaunchTemplateName: `${group.name}-executor`,
  Version: '$Latest',
});

function instanceFields(group: GroupState, instance: GroupInstance, state: string): XmlFields {
  return {
    InstanceId: instance.id,
    InstanceType: 'm6i.large',
    AvailabilityZone: instance.availabilityZone,
    LifecycleState: state,
    HealthStatus: instance.health ?? 'Healthy',
    LaunchTemplate: launchTemplate(group),
    ProtectedFromScaleIn: instance.protectedFromScaleIn,
  };
}

/** One `<member>` of DescribeAutoScalingGroups, with the fields the SDK model marks required plus the usual ones. */
export function groupFields(group: GroupState, stateOf: (instance: GroupInstance) => string): XmlFields {
  return {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: `arn:aws:autoscaling:${group.region}:${ACCOUNT_ID}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${group.name}`,
    LaunchTemplate: launchTemplate(group),
    MinSize: group.min,
    MaxSize: group.max,
    DesiredCapacity: group.desired,
    DefaultCooldown: 300,
    AvailabilityZones: zonesOf(group.region),
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: group.healthCheckGracePeriod,
    Instances: group.instances.map((instance) => instanceFields(group, instance, stateOf(instance))),
    CreatedTime: new Date(group.createdAt),
    SuspendedProcesses: [],
    VPCZoneIdentifier: '',
    EnabledMetrics: [],
    Tags: [],
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
    ServiceLinkedRoleARN: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: false,
  };
}

export interface PolicyEntry {
  readonly group: GroupState;
  readonly policy: ScalingPolicySpec;
}

export function policyFields({ group, policy }: PolicyEntry): XmlFields {
  const type = policy.type ?? 'SimpleScaling';
  return {
    AutoScalingGroupName: group.name,
    PolicyName: policy.name,
    PolicyARN: `arn:aws:autoscaling:${group.region}:${ACCOUNT_ID}:scalingPolicy:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${group.name}:policyName/${policy.name}`,
    PolicyType: type,
    ...(type === 'SimpleScaling' ? { AdjustmentType: 'ChangeInCapacity', ScalingAdjustment: 1, Cooldown: 300 } : {}),
    Alarms: [],
    Enabled: policy.enabled ?? true,
  };
}

/** The scaling activity AWS starts for an instance terminated on request, as TerminateInstanceInAutoScalingGroup answers. */
export function terminationActivityFields(terminated: TerminatedInstance, at: number): XmlFields {
  const { group, instanceId, from, to } = terminated;
  const when = new Date(at);
  const shrinking = from === to ? '' : `, shrinking the capacity from ${from} to ${to}`;
  return {
    ActivityId: randomUUID(),
    AutoScalingGroupName: group.name,
    Description: `Terminating EC2 instance: ${instanceId}`,
    Cause: `At ${when.toISOString().replace(/\.\d{3}Z$/, 'Z')} instance ${instanceId} was taken out of service in response to a user request${shrinking}.`,
    StartTime: when,
    StatusCode: 'InProgress',
    Progress: 0,
  };
}

/** One `<member>` of DescribeInstanceRefreshes, its elements in the API model's order. */
export function refreshFields(group: GroupState, refresh: InstanceRefresh): XmlFields {
  const { instancesToUpdate, percentageComplete } = progressOf(group, refresh);
  return {
    InstanceRefreshId: refresh.id,
    AutoScalingGroupName: group.name,
    Status: refresh.status,
    StatusReason: refresh.statusReason,
    StartTime: new Date(refresh.startTime),
    EndTime: refresh.endTime === undefined ? undefined : new Date(refresh.endTime),
    PercentageComplete: percentageComplete,
    InstancesToUpdate: instancesToUpdate,
    ProgressDetails: {
      LivePoolProgress: { PercentageComplete: percentageComplete, InstancesToUpdate: instancesToUpdate },
    },
    Preferences: preferenceFields(refresh.preferences),
    DesiredConfiguration: refresh.desiredConfiguration ? { LaunchTemplate: launchTemplate(group) } : undefined,
    Strategy: 'Rolling',
  };
}

function preferenceFields(preferences: RefreshPreferences): XmlFields {
  return {
    MinHealthyPercentage: preferences.minHealthyPercentage,
    InstanceWarmup: preferences.instanceWarmup,
    CheckpointPercentages: preferences.checkpointPercentages,
    CheckpointDelay: preferences.checkpointDelay,
    SkipMatching: preferences.skipMatching,
    AutoRollback: preferences.autoRollback,
    ScaleInProtectedInstances: preferences.scaleInProtectedInstances,
    StandbyInstances: preferences.standbyInstances,
    AlarmSpecification: preferences.alarms === undefined ? undefined : { Alarms: preferences.alarms },
    MaxHealthyPercentage: preferences.maxHealthyPercentage,
    BakeTime: preferences.bakeTime,
  };
}
