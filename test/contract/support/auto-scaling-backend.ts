import {
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandInput,
  type DescribeAutoScalingGroupsCommandOutput,
  DescribePoliciesCommand,
  type DescribePoliciesCommandInput,
  type DescribePoliciesCommandOutput,
  type LifecycleState,
  ScalingActivityInProgressFault,
  type ScalingPolicy,
  SetDesiredCapacityCommand,
  type SetDesiredCapacityCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';

export interface BackendGroup {
  readonly region: string;
  readonly name: string;
  desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances: readonly { readonly id: string; readonly state: LifecycleState }[];
  readonly policies: readonly string[];
}

const validation = (message: string) =>
  new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });

/** NextToken is an offset into the full answer; `size` records per page, never more than the caller's MaxRecords. */
function paginate<T>(items: readonly T[], token: string | undefined, maxRecords: number | undefined, size: number) {
  if (maxRecords !== undefined && (maxRecords < 1 || maxRecords > 100)) {
    throw validation('MaxRecords must be between 1 and 100');
  }
  const offset = Number(token ?? '0');
  const end = offset + Math.min(size, maxRecords ?? 50);
  return { page: items.slice(offset, end), next: end < items.length ? String(end) : undefined };
}

function toAsgGroup(group: BackendGroup): AutoScalingGroup {
  return {
    AutoScalingGroupName: group.name,
    MinSize: group.min,
    MaxSize: group.max,
    DesiredCapacity: group.desired,
    DefaultCooldown: 300,
    AvailabilityZones: [`${group.region}a`],
    HealthCheckType: 'EC2',
    CreatedTime: new Date(0),
    Instances: group.instances.map((instance) => ({
      InstanceId: instance.id,
      AvailabilityZone: `${group.region}a`,
      LifecycleState: instance.state,
      HealthStatus: 'Healthy',
      ProtectedFromScaleIn: false,
    })),
  };
}

/**
 * An EC2 Auto Scaling stand-in behind aws-sdk-client-mock: one mocked client per region over shared state, answering
 * one record per page (AWS may return fewer than MaxRecords) and refusing what the service refuses.
 */
export function createAutoScalingBackend(options: { readonly recordsPerPage?: number } = {}) {
  const recordsPerPage = options.recordsPerPage ?? 1;
  const groups = new Map<string, BackendGroup>();
  const activities = new Map<string, number>();
  const clients = new Map<string, AutoScalingClient>();
  const key = (region: string, name: string) => `${region}/${name}`;

  const install = (region: string, client: AutoScalingClient) => {
    const mock = mockClient(client);
    const inRegion = () => [...groups.values()].filter((group) => group.region === region);
    mock
      .on(DescribeAutoScalingGroupsCommand)
      .callsFake((input: DescribeAutoScalingGroupsCommandInput): DescribeAutoScalingGroupsCommandOutput => {
        const names = input.AutoScalingGroupNames ?? [];
        if (names.length > 100) {
          throw validation('AutoScalingGroupNames holds at most 100 names');
        }
        const matching = inRegion().filter((group) => names.length === 0 || names.includes(group.name));
        const { page, next } = paginate(matching, input.NextToken, input.MaxRecords, recordsPerPage);
        return { AutoScalingGroups: page.map(toAsgGroup), NextToken: next, $metadata: {} };
      });
    mock.on(DescribePoliciesCommand).callsFake((input: DescribePoliciesCommandInput): DescribePoliciesCommandOutput => {
      const policies = inRegion().flatMap((group) =>
        group.policies.map(
          (name): ScalingPolicy => ({
            AutoScalingGroupName: group.name,
            PolicyName: name,
            PolicyType: 'SimpleScaling',
            Enabled: true,
          }),
        ),
      );
      const { page, next } = paginate(policies, input.NextToken, input.MaxRecords, recordsPerPage);
      return { ScalingPolicies: page, NextToken: next, $metadata: {} };
    });
    mock.on(SetDesiredCapacityCommand).callsFake((input: SetDesiredCapacityCommandInput) => {
      const name = input.AutoScalingGroupName ?? '';
      const group = groups.get(key(region, name));
      const size = input.DesiredCapacity ?? Number.NaN;
      if (group === undefined) {
        throw validation(`AutoScalingGroup name not found - no such group: ${name}`);
      }
      if (size > group.max) {
        throw validation(
          `New SetDesiredCapacity value ${size} is above max value ${group.max} for the AutoScalingGroup.`,
        );
      }
      if (size < group.min) {
        throw validation(
          `New SetDesiredCapacity value ${size} is below min value ${group.min} for the AutoScalingGroup.`,
        );
      }
      const pending = activities.get(key(region, name)) ?? 0;
      if (pending > 0) {
        activities.set(key(region, name), pending - 1);
        throw new ScalingActivityInProgressFault({ message: 'Scaling activity in progress', $metadata: {} });
      }
      group.desired = size;
      return { $metadata: {} };
    });
  };

  return {
    clientFor(region: string): AutoScalingClient {
      const existing = clients.get(region);
      if (existing !== undefined) {
        return existing;
      }
      const client = new AutoScalingClient({ region });
      install(region, client);
      clients.set(region, client);
      return client;
    },
    seed(group: BackendGroup): void {
      groups.set(key(group.region, group.name), { ...group });
    },
    group: (region: string, name: string): BackendGroup | undefined => groups.get(key(region, name)),
    holdScaling(region: string, name: string, times: number): void {
      activities.set(key(region, name), times);
    },
  };
}
