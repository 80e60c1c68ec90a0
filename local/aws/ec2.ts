import type { Clock } from '../../shared/ports/clock.ts';
import { type Emulator, type EmulatorRequest, type EmulatorResponse, startEmulator } from '../http/emulator.ts';
import type { InstanceState, World } from '../world/world.ts';
import { ACCOUNT_ID } from './auto-scaling-render.ts';
import { EC2_VERSION, ec2Error, ec2Faults, ec2Response } from './ec2-protocol.ts';
import { AwsServiceError } from './errors.ts';
import { pageOf } from './paging.ts';
import { parseQueryParams, type QueryParams } from './query-params.ts';
import { isSigned, signedRegion } from './request-auth.ts';
import type { XmlFields } from './xml.ts';

/** DescribeInstances' MaxResults bounds; it may not be combined with instance ids. */
const MIN_RESULTS = 5;
const MAX_RESULTS = 1000;
/** Explicit instance ids per request (the figure the EC2 API reference gives for its other Describe* calls). */
const MAX_INSTANCE_IDS = 1000;

export type Ec2InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** EC2's numeric state codes, which it sends next to the names. */
const STATE_CODES: Readonly<Record<Ec2InstanceState, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const FROM_WORLD: Readonly<Record<InstanceState, Ec2InstanceState>> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  terminated: 'terminated',
};

/** An instance outside the simulated world, e.g. one an Auto Scaling test seeded with a lifecycle state of its own. */
export interface Ec2InstanceSpec {
  readonly id: string;
  /** `ip-a-b-c-d`, as EC2 derives it from the private address. */
  readonly hostname: string;
  /** Default: the emulator's region. */
  readonly region?: string;
  /** Epoch milliseconds. Default: now. */
  readonly launchedAt?: number;
  /** Default `running`. */
  readonly state?: Ec2InstanceState;
}

export interface Ec2EmulatorOptions {
  /** The world's instances of AWS groups (`aws:<region>:<group>`) are the EC2 instances of that region. */
  readonly world: World;
  /** Default: the world's clock. */
  readonly clock?: Clock;
  /** Region of unsigned-scope requests and of instances added without one. Default `us-east-1`. */
  readonly region?: string;
  /**
   * At most this many instances per page, even when instance ids are given (EC2 itself pages only with MaxResults):
   * checks that callers follow NextToken. Default: no limit beyond MaxResults.
   */
  readonly pageSize?: number;
  readonly port?: number;
}

interface Ec2Instance {
  readonly id: string;
  readonly region: string;
  readonly hostname: string;
  readonly launchedAt: number;
  readonly state: Ec2InstanceState;
  readonly group?: string;
}

export type Ec2Emulator = Awaited<ReturnType<typeof startEc2Emulator>>;

/** EC2's DescribeInstances over the world's VMs: what Auto Scaling does not tell (host name, launch time). */
export async function startEc2Emulator(options: Ec2EmulatorOptions) {
  const { world } = options;
  const clock = options.clock ?? world.clock;
  const defaultRegion = options.region ?? 'us-east-1';
  const added = new Map<string, Ec2Instance>();

  /** Every instance EC2 knows in `region`: the world's, then those added directly. */
  function instancesIn(region: string): Ec2Instance[] {
    const fromWorld = world.instances().flatMap((instance): Ec2Instance[] => {
      const [cloud, instanceRegion, ...group] = instance.group.split(':');
      if (cloud !== 'aws' || instanceRegion !== region) {
        return [];
      }
      return [
        {
          id: instance.id,
          region,
          hostname: instance.hostname,
          launchedAt: instance.launchedAt,
          state: FROM_WORLD[instance.state],
          group: group.join(':'),
        },
      ];
    });
    return [...fromWorld, ...[...added.values()].filter((instance) => instance.region === region)];
  }

  const actions: Readonly<Record<string, (params: QueryParams, region: string) => EmulatorResponse>> = {
    DescribeInstances(params, region) {
      if (params.string('Filter.1.Name') !== undefined) {
        throw new AwsServiceError('InvalidParameterValue', 'Filters are not supported by the local EC2 emulator');
      }
      const ids = params.flatList('InstanceId') ?? [];
      const maxResults = maxResultsOf(params, ids.length > 0);
      if (ids.length > MAX_INSTANCE_IDS) {
        throw new AwsServiceError(
          'InvalidParameterValue',
          `The request names ${ids.length} instance IDs; at most ${MAX_INSTANCE_IDS} are allowed`,
        );
      }
      const known = new Map(instancesIn(region).map((instance) => [instance.id, instance]));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        // One unknown id fails the whole request, as EC2 answers it.
        throw new AwsServiceError(
          'InvalidInstanceID.NotFound',
          unknown.length === 1
            ? `The instance ID '${unknown[0]}' does not exist`
            : `The instance IDs '${unknown.join(', ')}' do not exist`,
        );
      }
      const matching =
        ids.length === 0
          ? [...known.values()]
          : [...new Set(ids)].flatMap((id) => {
              const instance = known.get(id);
              return instance === undefined ? [] : [instance];
            });
      const size = Math.min(maxResults ?? Number.POSITIVE_INFINITY, options.pageSize ?? Number.POSITIVE_INFINITY);
      const scope = `instances:${region}:${ids.join(',')}`;
      const page = Number.isFinite(size)
        ? pageOf(matching, params.string('NextToken'), size, scope)
        : { items: matching, nextToken: undefined };
      return ec2Response('DescribeInstances', {
        reservationSet: page.items.map(reservationFields),
        nextToken: page.nextToken,
      });
    },
  };

  function handle(request: EmulatorRequest): EmulatorResponse {
    try {
      if (!isSigned(request.headers)) {
        throw new AwsServiceError('AuthFailure', 'AWS was not able to validate the provided access credentials', {
          status: 401,
        });
      }
      const params = parseQueryParams(request.method === 'GET' ? request.query.toString() : request.text);
      const action = params.action === undefined || params.version !== EC2_VERSION ? undefined : actions[params.action];
      if (action === undefined) {
        throw new AwsServiceError(
          'InvalidAction',
          `The action ${params.action ?? '(none)'} is not valid for this web service.`,
        );
      }
      return action(params, signedRegion(request.headers) ?? defaultRegion);
    } catch (error) {
      if (error instanceof AwsServiceError) {
        return ec2Error(error);
      }
      throw error;
    }
  }

  const emulator: Emulator = await startEmulator({
    name: 'ec2',
    handle,
    operationOf: (request) => parseQueryParams(request.text).action,
    faults: ec2Faults,
    clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    region: defaultRegion,
    /** Adds (or replaces) an instance the world does not hold. */
    addInstance(spec: Ec2InstanceSpec): void {
      added.set(spec.id, {
        id: spec.id,
        region: spec.region ?? defaultRegion,
        hostname: spec.hostname,
        launchedAt: spec.launchedAt ?? clock(),
        state: spec.state ?? 'running',
      });
    },
    /** Forgets the instances added with `addInstance`; the world's stay. */
    clearInstances: () => added.clear(),
    close: () => emulator.close(),
  };
}

function maxResultsOf(params: QueryParams, withIds: boolean): number | undefined {
  const raw = params.string('MaxResults');
  if (raw === undefined) {
    return undefined;
  }
  if (withIds) {
    throw new AwsServiceError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < MIN_RESULTS || value > MAX_RESULTS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `Value ( ${raw} ) for parameter maxResults is invalid. Expecting a value between ${MIN_RESULTS} and ${MAX_RESULTS}.`,
    );
  }
  return value;
}

/** EC2's private DNS name: `ec2.internal` in us-east-1, `<region>.compute.internal` everywhere else. */
export function privateDnsNameOf(hostname: string, region: string): string {
  return `${hostname}.${region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`}`;
}

/** `ip-10-0-1-2` → `10.0.1.2`; a host name of another shape has no address to show. */
function privateIpOf(hostname: string): string | undefined {
  const match = /^ip-(\d+)-(\d+)-(\d+)-(\d+)$/.exec(hostname);
  return match === null ? undefined : match.slice(1).join('.');
}

/** One reservation per instance, as Auto Scaling launches them one at a time. */
function reservationFields(instance: Ec2Instance): XmlFields {
  // A terminated instance has given up its private address, and EC2 shows its names empty.
  const gone = instance.state === 'terminated';
  return {
    reservationId: `r-${instance.id.replace(/^i-/, '')}`,
    ownerId: ACCOUNT_ID,
    groupSet: [],
    instancesSet: [
      {
        instanceId: instance.id,
        imageId: 'ami-0123456789abcdef0',
        instanceState: { code: STATE_CODES[instance.state], name: instance.state },
        privateDnsName: gone ? '' : privateDnsNameOf(instance.hostname, instance.region),
        dnsName: '',
        amiLaunchIndex: 0,
        instanceType: 'm6i.large',
        launchTime: new Date(instance.launchedAt),
        placement: { availabilityZone: `${instance.region}a`, tenancy: 'default' },
        monitoring: { state: 'disabled' },
        privateIpAddress: gone ? undefined : privateIpOf(instance.hostname),
        architecture: 'x86_64',
        rootDeviceType: 'ebs',
        tagSet: instance.group === undefined ? [] : [{ key: 'aws:autoscaling:groupName', value: instance.group }],
      },
    ],
  };
}
