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
  SetInstanceHealthCommand,
  type SetInstanceHealthCommandInput,
  SetInstanceProtectionCommand,
  type SetInstanceProtectionCommandInput,
  TerminateInstanceInAutoScalingGroupCommand,
  type TerminateInstanceInAutoScalingGroupCommandInput,
  type TerminateInstanceInAutoScalingGroupCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { privateDnsNameOf } from '../../../local/aws/ec2.ts';

export interface BackendInstance {
  readonly id: string;
  readonly state: LifecycleState;
  readonly protectedFromScaleIn?: boolean;
  /** Known to EC2 only when it has a host name: EC2 answers `InvalidInstanceID.NotFound` for the others. */
  readonly hostname?: string;
  /** Epoch milliseconds, EC2's `LaunchTime`. */
  readonly launchedAt?: number;
}

export interface BackendGroup {
  readonly region: string;
  readonly name: string;
  desired: number;
  readonly min: number;
  readonly max: number;
  instances: readonly BackendInstance[];
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
      ProtectedFromScaleIn: instance.protectedFromScaleIn ?? false,
    })),
  };
}

/** The ValidationError messages Auto Scaling answers TerminateInstanceInAutoScalingGroup with. */
const notManaged = (id: string) =>
  validation(`Instance Id not found - No managed instance found for instance ID: ${id}`);
const belowMin = (group: BackendGroup) =>
  validation(
    `Currently, desiredSize equals minSize (${group.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
  );

/**
 * An EC2 Auto Scaling stand-in behind aws-sdk-client-mock, with the EC2 DescribeInstances it pairs with: one mocked
 * client per region and service over shared state, answering one record per page (AWS may return fewer than
 * MaxRecords) and refusing what the services refuse.
 */
export function createAutoScalingBackend(options: { readonly recordsPerPage?: number } = {}) {
  const recordsPerPage = options.recordsPerPage ?? 1;
  const groups = new Map<string, BackendGroup>();
  const activities = new Map<string, number>();
  const clients = new Map<string, AutoScalingClient>();
  const ec2Clients = new Map<string, EC2Client>();
  const key = (region: string, name: string) => `${region}/${name}`;
  const calls = { terminate: 0, protect: 0, health: 0, describeInstances: 0 };
  let launched = 0;

  /** Takes the instances out and the desired capacity down, or refuses all of them as AWS refuses the request. */
  const terminate = (group: BackendGroup, ids: readonly string[]) => {
    const unknown = ids.find((id) => !group.instances.some((instance) => instance.id === id));
    if (unknown !== undefined) {
      throw notManaged(unknown);
    }
    if (group.desired - ids.length < group.min) {
      throw belowMin(group);
    }
    group.instances = group.instances.filter((instance) => !ids.includes(instance.id));
    group.desired -= ids.length;
    return ids.map((id) => ({
      ActivityId: `activity-${id}`,
      AutoScalingGroupName: group.name,
      Description: `Terminating EC2 instance: ${id}`,
      Cause: `instance ${id} was taken out of service in response to a user request`,
      StartTime: new Date(0),
      StatusCode: 'InProgress' as const,
    }));
  };

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
    mock
      .on(TerminateInstanceInAutoScalingGroupCommand)
      .callsFake(
        (input: TerminateInstanceInAutoScalingGroupCommandInput): TerminateInstanceInAutoScalingGroupCommandOutput => {
          calls.terminate += 1;
          if (input.InstanceIds !== undefined) {
            const name = input.AutoScalingGroupName ?? '';
            const group = groups.get(key(region, name));
            if (group === undefined) {
              throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
            }
            if (input.InstanceIds.length > 100) {
              throw validation('InstanceIds holds at most 100 ids');
            }
            return { Activities: terminate(group, input.InstanceIds), $metadata: {} };
          }
          const id = input.InstanceId ?? '';
          const group = inRegion().find((candidate) => candidate.instances.some((instance) => instance.id === id));
          if (group === undefined) {
            throw notManaged(id);
          }
          return { Activity: terminate(group, [id])[0], $metadata: {} };
        },
      );
    mock.on(SetInstanceProtectionCommand).callsFake((input: SetInstanceProtectionCommandInput) => {
      calls.protect += 1;
      const name = input.AutoScalingGroupName ?? '';
      const ids = input.InstanceIds ?? [];
      const group = groups.get(key(region, name));
      if (group === undefined) {
        throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
      }
      if (ids.length > 50) {
        throw validation('InstanceIds holds at most 50 ids');
      }
      const stranger = ids.find((id) => !group.instances.some((instance) => instance.id === id));
      if (stranger !== undefined) {
        throw validation(`The instance ${stranger} is not part of Auto Scaling group ${name}.`);
      }
      group.instances = group.instances.map((instance) =>
        ids.includes(instance.id)
          ? { ...instance, protectedFromScaleIn: input.ProtectedFromScaleIn ?? false }
          : instance,
      );
      return { $metadata: {} };
    });
    mock.on(SetInstanceHealthCommand).callsFake((input: SetInstanceHealthCommandInput) => {
      calls.health += 1;
      const id = input.InstanceId ?? '';
      if (input.HealthStatus !== 'Healthy' && input.HealthStatus !== 'Unhealthy') {
        throw validation('Valid instance health states are: [Healthy, Unhealthy].');
      }
      const group = inRegion().find((candidate) => candidate.instances.some((instance) => instance.id === id));
      if (group === undefined) {
        throw notManaged(id);
      }
      if (input.HealthStatus === 'Unhealthy') {
        // The group terminates the instance and, still below its desired capacity, launches a replacement.
        launched += 1;
        const replacement: BackendInstance = { id: `i-0replacement${launched}`, state: 'Pending' };
        group.instances = [...group.instances.filter((instance) => instance.id !== id), replacement];
      }
      return { $metadata: {} };
    });
  };

  /** EC2 in `region`: knows the seeded instances that have a host name, and refuses a request naming any other. */
  const installEc2 = (region: string, client: EC2Client) => {
    mockClient(client)
      .on(DescribeInstancesCommand)
      .callsFake((input: DescribeInstancesCommandInput): DescribeInstancesCommandOutput => {
        calls.describeInstances += 1;
        const ids = input.InstanceIds ?? [];
        if (ids.length > 1000) {
          throw new EC2ServiceException({
            name: 'InvalidParameterValue',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'The maximum number of instance IDs is 1000',
          });
        }
        const known = new Map(
          [...groups.values()]
            .filter((group) => group.region === region)
            .flatMap((group) => group.instances)
            .filter((instance) => instance.hostname !== undefined)
            .map((instance) => [instance.id, instance]),
        );
        const unknown = ids.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          throw new EC2ServiceException({
            name: 'InvalidInstanceID.NotFound',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message:
              unknown.length === 1
                ? `The instance ID '${unknown[0]}' does not exist`
                : `The instance IDs '${unknown.join(', ')}' do not exist`,
          });
        }
        const described = ids.flatMap((id) => {
          const instance = known.get(id);
          return instance === undefined ? [] : [instance];
        });
        return {
          Reservations: described.map((instance) => ({
            ReservationId: `r-${instance.id.slice(2)}`,
            Instances: [
              {
                InstanceId: instance.id,
                PrivateDnsName: privateDnsNameOf(instance.hostname ?? '', region),
                ...(instance.launchedAt === undefined ? {} : { LaunchTime: new Date(instance.launchedAt) }),
                State: { Code: 16, Name: 'running' },
              },
            ],
          })),
          $metadata: {},
        };
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
    ec2For(region: string): EC2Client {
      const existing = ec2Clients.get(region);
      if (existing !== undefined) {
        return existing;
      }
      const client = new EC2Client({ region });
      installEc2(region, client);
      ec2Clients.set(region, client);
      return client;
    },
    /** Requests answered so far, by kind. */
    calls: (): Readonly<typeof calls> => ({ ...calls }),
    seed(group: BackendGroup): void {
      groups.set(key(group.region, group.name), { ...group });
    },
    group: (region: string, name: string): BackendGroup | undefined => groups.get(key(region, name)),
    holdScaling(region: string, name: string, times: number): void {
      activities.set(key(region, name), times);
    },
  };
}
