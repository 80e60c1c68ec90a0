import type { Clock } from '../../shared/ports/clock.ts';
import { type Emulator, type EmulatorRequest, type EmulatorResponse, startEmulator } from '../http/emulator.ts';
import type { World } from '../world/world.ts';
import { createGroupStore } from './auto-scaling-groups.ts';
import { parseRefreshRequest } from './auto-scaling-refresh-params.ts';
import {
  groupFields,
  type PolicyEntry,
  policyFields,
  refreshFields,
  terminationActivityFields,
} from './auto-scaling-render.ts';
import {
  type GroupSpec,
  type GroupState,
  HEALTH_STATUSES,
  type HealthStatus,
  type HoldCode,
} from './auto-scaling-spec.ts';
import { AwsServiceError } from './errors.ts';
import { pageOf } from './paging.ts';
import { parseQueryParams, type QueryParams } from './query-params.ts';
import { queryError, queryFaults, queryResponse } from './query-protocol.ts';
import { isSigned, signedRegion } from './request-auth.ts';

const NAMESPACE = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const VERSION = '2011-01-01';
/** Records per page when the caller sets no MaxRecords, and the most it may ask for (DescribeAutoScalingGroups, DescribePolicies). */
const DEFAULT_RECORDS = 50;
const MAX_RECORDS = 100;
/** Instance ids per request: TerminateInstanceInAutoScalingGroup (batch form) and SetInstanceProtection. */
const MAX_TERMINATE_IDS = 100;
const MAX_PROTECTION_IDS = 50;
/** Length limits of SetInstanceHealth's strings, as the API reference gives them. */
const MAX_INSTANCE_ID_CHARS = 19;
const MAX_HEALTH_STATUS_CHARS = 32;
/** DescribeInstanceRefreshes reports the refreshes of the previous six weeks. */
const REFRESH_RETENTION_MS = 42 * 24 * 3_600_000;

export interface AutoScalingEmulatorOptions {
  readonly world: World;
  /** Default: the world's clock, so lifecycle and request log agree with the world. */
  readonly clock?: Clock;
  /** Region of unsigned-scope requests and of groups added without one. Default `us-east-1`. */
  readonly region?: string;
  /** At most this many records per page, even when MaxRecords asks for more: AWS may return short pages. */
  readonly pageSize?: number;
  /** Milliseconds a scaled-in instance stays listed as `Terminating`. Default 5000. */
  readonly terminatingMs?: number;
  /** Milliseconds an instance refresh stays `Pending` before it replaces anything. Default 10000. */
  readonly refreshStartMs?: number;
  /** Uniform in [0, 1), for instance ids; fixed, it makes a run repeatable. Default: crypto random bytes. */
  readonly random?: () => number;
  readonly port?: number;
}

export interface AutoScalingInstanceView {
  readonly id: string;
  readonly lifecycleState: string;
  readonly availabilityZone: string;
  readonly protectedFromScaleIn: boolean;
  readonly healthStatus: HealthStatus;
}

export interface AutoScalingGroupView {
  readonly name: string;
  readonly region: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  /** The group's name in the world (`aws:<region>:<name>`), for `world.instances(group)`. */
  readonly worldGroup: string;
  readonly instances: readonly AutoScalingInstanceView[];
}

/** One TerminateInstanceInAutoScalingGroup the emulator was asked for, accepted or not. */
export interface TerminationRequest {
  readonly at: number;
  readonly region: string;
  /** The group named, or for the single-instance form the group holding the instance (absent if none does). */
  readonly group: string | undefined;
  readonly instanceIds: readonly string[];
  readonly decrement: boolean;
}

/** One SetInstanceHealth the emulator was asked for, accepted or not. */
export interface HealthRequest {
  readonly at: number;
  readonly region: string;
  /** The group holding the instance, absent if none does. */
  readonly group: string | undefined;
  readonly instanceId: string;
  readonly healthStatus: HealthStatus;
  readonly respectGracePeriod: boolean;
}

export type AutoScalingEmulator = Awaited<ReturnType<typeof startAutoScalingEmulator>>;

/** A string longer than the service takes, refused in the service's words. */
function atMostChars(value: string, max: number, member: string): void {
  if (value.length > max) {
    throw new AwsServiceError(
      'ValidationError',
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
}

function isHealthStatus(value: string): value is HealthStatus {
  return (HEALTH_STATUSES as readonly string[]).includes(value);
}

/** A list longer than the service takes, refused in the service's words. */
function atMost(items: readonly string[], max: number, member: string): void {
  if (items.length > max) {
    throw new AwsServiceError(
      'ValidationError',
      `1 validation error detected: Value '[${items.join(', ')}]' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
}

export async function startAutoScalingEmulator(options: AutoScalingEmulatorOptions) {
  const clock = options.clock ?? options.world.clock;
  const defaultRegion = options.region ?? 'us-east-1';
  const pageSize = options.pageSize ?? MAX_RECORDS;
  const store = createGroupStore({
    world: options.world,
    clock,
    defaultRegion,
    terminatingMs: options.terminatingMs ?? 5_000,
    refreshStartMs: options.refreshStartMs ?? 10_000,
    ...(options.random === undefined ? {} : { random: options.random }),
  });

  const terminationRequests: TerminationRequest[] = [];
  const healthRequests: HealthRequest[] = [];

  const view = (group: GroupState): AutoScalingGroupView => ({
    name: group.name,
    region: group.region,
    min: group.min,
    max: group.max,
    desired: group.desired,
    worldGroup: store.worldGroup(group),
    instances: group.instances.map((instance) => ({
      id: instance.id,
      lifecycleState: store.lifecycleState(instance),
      availabilityZone: instance.availabilityZone,
      protectedFromScaleIn: instance.protectedFromScaleIn,
      healthStatus: instance.health ?? 'Healthy',
    })),
  });

  const records = (params: QueryParams) =>
    Math.min(params.integer('MaxRecords', { min: 1, max: MAX_RECORDS }) ?? DEFAULT_RECORDS, pageSize);

  const actions: Readonly<Record<string, (params: QueryParams, region: string) => EmulatorResponse>> = {
    DescribeAutoScalingGroups(params, region) {
      if (params.string('Filters.member.1.Name') !== undefined) {
        throw new AwsServiceError('ValidationError', 'Filters are not supported by the local Auto Scaling emulator');
      }
      const names = params.list('AutoScalingGroupNames') ?? [];
      // Unknown names are simply absent from the answer, as AWS answers them.
      const groups = store.inRegion(region).filter((group) => names.length === 0 || names.includes(group.name));
      const scope = `groups:${region}:${names.join(',')}`;
      const page = pageOf(groups, params.string('NextToken'), records(params), scope);
      const withInstances = params.boolean('IncludeInstances') ?? true;
      return queryResponse(NAMESPACE, 'DescribeAutoScalingGroups', {
        AutoScalingGroups: page.items.map((group) => {
          const fields = groupFields(group, store.lifecycleState);
          return withInstances ? fields : { ...fields, Instances: undefined };
        }),
        NextToken: page.nextToken,
      });
    },

    DescribePolicies(params, region) {
      const groupName = params.string('AutoScalingGroupName');
      const names = params.list('PolicyNames') ?? [];
      const types = params.list('PolicyTypes') ?? [];
      const policies = store
        .inRegion(region)
        .filter((group) => groupName === undefined || group.name === groupName)
        .flatMap((group) => group.policies.map((policy): PolicyEntry => ({ group, policy })))
        .filter(({ policy }) => names.length === 0 || names.includes(policy.name))
        .filter(({ policy }) => types.length === 0 || types.includes(policy.type ?? 'SimpleScaling'));
      const scope = `policies:${region}:${groupName ?? ''}:${names.join(',')}:${types.join(',')}`;
      const page = pageOf(policies, params.string('NextToken'), records(params), scope);
      return queryResponse(NAMESPACE, 'DescribePolicies', {
        ScalingPolicies: page.items.map(policyFields),
        NextToken: page.nextToken,
      });
    },

    SetDesiredCapacity(params, region) {
      const name = params.requiredString('AutoScalingGroupName');
      const desired = params.integer('DesiredCapacity');
      if (desired === undefined) {
        params.requiredString('DesiredCapacity');
      }
      // HonorCooldown is accepted and has no effect: the emulator models no cooldowns.
      params.boolean('HonorCooldown');
      store.setDesired(region, name, desired ?? 0);
      return queryResponse(NAMESPACE, 'SetDesiredCapacity');
    },

    TerminateInstanceInAutoScalingGroup(params, region) {
      const decrement = params.boolean('ShouldDecrementDesiredCapacity');
      if (decrement === undefined) {
        params.requiredString('ShouldDecrementDesiredCapacity');
      }
      const single = params.string('InstanceId');
      const batch = params.list('InstanceIds');
      if ((single === undefined) === (batch === undefined)) {
        throw new AwsServiceError('ValidationError', 'Specify either InstanceId or InstanceIds, but not both.');
      }
      const name = params.string('AutoScalingGroupName');
      if (batch !== undefined && name === undefined) {
        throw new AwsServiceError('ValidationError', 'AutoScalingGroupName is required when InstanceIds is specified.');
      }
      const ids = single === undefined ? (batch ?? []) : [single];
      atMost(ids, MAX_TERMINATE_IDS, 'instanceIds');
      terminationRequests.push({
        at: clock(),
        region,
        group: name ?? store.inRegion(region).find((group) => group.instances.some((i) => i.id === single))?.name,
        instanceIds: ids,
        decrement: decrement ?? false,
      });
      const terminated = store.terminate(region, {
        ...(single === undefined ? { name } : {}),
        instanceIds: ids,
        decrement: decrement ?? false,
      });
      const activities = terminated.map((instance) => terminationActivityFields(instance, clock()));
      return queryResponse(
        NAMESPACE,
        'TerminateInstanceInAutoScalingGroup',
        single === undefined ? { Activities: activities } : { Activity: activities[0] },
      );
    },

    SetInstanceHealth(params, region) {
      const instanceId = params.requiredString('InstanceId');
      const healthStatus = params.requiredString('HealthStatus');
      atMostChars(instanceId, MAX_INSTANCE_ID_CHARS, 'instanceId');
      atMostChars(healthStatus, MAX_HEALTH_STATUS_CHARS, 'healthStatus');
      if (!isHealthStatus(healthStatus)) {
        throw new AwsServiceError(
          'ValidationError',
          `Valid instance health states are: [${HEALTH_STATUSES.join(', ')}].`,
        );
      }
      // Absent, the grace period is respected, as AWS documents.
      const respectGracePeriod = params.boolean('ShouldRespectGracePeriod') ?? true;
      healthRequests.push({
        at: clock(),
        region,
        group: store.inRegion(region).find((group) => group.instances.some((i) => i.id === instanceId))?.name,
        instanceId,
        healthStatus,
        respectGracePeriod,
      });
      store.setHealth(region, instanceId, healthStatus, respectGracePeriod);
      // SetInstanceHealth has no output: the answer is the bare response with its metadata.
      return queryResponse(NAMESPACE, 'SetInstanceHealth');
    },

    StartInstanceRefresh(params, region) {
      const name = params.requiredString('AutoScalingGroupName');
      const request = parseRefreshRequest(params);
      const refresh = store.startRefresh(region, name, request);
      return queryResponse(NAMESPACE, 'StartInstanceRefresh', { InstanceRefreshId: refresh.id });
    },

    DescribeInstanceRefreshes(params, region) {
      const name = params.requiredString('AutoScalingGroupName');
      const ids = params.list('InstanceRefreshIds') ?? [];
      const size = records(params);
      const group = store.existing(region, name);
      const now = clock();
      // Newest first, as the service lists them.
      const refreshes = [...group.refreshes]
        .reverse()
        .filter((refresh) => now - refresh.startTime <= REFRESH_RETENTION_MS)
        .filter((refresh) => ids.length === 0 || ids.includes(refresh.id));
      const page = pageOf(refreshes, params.string('NextToken'), size, `refreshes:${region}:${name}:${ids.join(',')}`);
      return queryResponse(NAMESPACE, 'DescribeInstanceRefreshes', {
        InstanceRefreshes: page.items.map((refresh) => refreshFields(group, refresh)),
        NextToken: page.nextToken,
      });
    },

    CancelInstanceRefresh(params, region) {
      const name = params.requiredString('AutoScalingGroupName');
      const refresh = store.cancelRefresh(region, name);
      return queryResponse(NAMESPACE, 'CancelInstanceRefresh', { InstanceRefreshId: refresh.id });
    },

    SetInstanceProtection(params, region) {
      const name = params.requiredString('AutoScalingGroupName');
      const ids = params.list('InstanceIds') ?? [];
      if (ids.length === 0) {
        params.requiredString('InstanceIds');
      }
      atMost(ids, MAX_PROTECTION_IDS, 'instanceIds');
      const protect = params.boolean('ProtectedFromScaleIn');
      if (protect === undefined) {
        params.requiredString('ProtectedFromScaleIn');
      }
      store.protect(region, name, ids, protect ?? false);
      return queryResponse(NAMESPACE, 'SetInstanceProtection', {});
    },
  };

  function handle(request: EmulatorRequest): EmulatorResponse {
    try {
      if (!isSigned(request.headers)) {
        throw new AwsServiceError('MissingAuthenticationToken', 'Request is missing Authentication Token', {
          status: 403,
        });
      }
      const params = parseQueryParams(request.method === 'GET' ? request.query.toString() : request.text);
      const action = params.action === undefined || params.version !== VERSION ? undefined : actions[params.action];
      if (action === undefined) {
        throw new AwsServiceError(
          'InvalidAction',
          `Could not find operation ${params.action ?? '(none)'} for version ${params.version ?? '(none)'}`,
        );
      }
      return action(params, signedRegion(request.headers) ?? defaultRegion);
    } catch (error) {
      if (error instanceof AwsServiceError) {
        return queryError(error);
      }
      throw error;
    }
  }

  const emulator: Emulator = await startEmulator({
    name: 'auto-scaling',
    handle,
    operationOf: (request) => parseQueryParams(request.text).action,
    faults: queryFaults,
    clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    region: defaultRegion,
    /** Adds (or replaces) a group; without seeded instances it launches `desired` of them into the world. */
    addGroup: (spec: GroupSpec): AutoScalingGroupView => view(store.add(spec)),
    group(name: string, region = defaultRegion): AutoScalingGroupView | undefined {
      const group = store.find(region, name);
      return group === undefined ? undefined : view(group);
    },
    /**
     * The next `times` SetDesiredCapacity or TerminateInstanceInAutoScalingGroup calls on the group that pass
     * validation fail with `code` (default `ScalingActivityInProgress`).
     */
    holdScaling(name: string, times: number, hold: { readonly region?: string; readonly code?: HoldCode } = {}) {
      store.hold(hold.region ?? defaultRegion, name, times, hold.code ?? 'ScalingActivityInProgress');
    },
    /** Every TerminateInstanceInAutoScalingGroup that passed the parameter checks, refused by the group or not. */
    terminationRequests: (): readonly TerminationRequest[] => terminationRequests,
    /** Every SetInstanceHealth that passed the parameter checks, refused by the group or not. */
    healthRequests: (): readonly HealthRequest[] => healthRequests,
    /** Removes every group and terminates their instances in the world. */
    clearGroups: () => store.clear(),
    close: () => {
      store.detach();
      return emulator.close();
    },
  };
}
