import { randomInt } from 'node:crypto';
import type { QueueName } from '../../shared/domain/queues.ts';
import { type Emulator, startEmulator } from '../http/emulator.ts';
import type { World } from '../world/world.ts';
import { computeError, computeFaults, notFound } from './compute-errors.ts';
import {
  ACTIONS_ON_FAILURE,
  type ActionOnFailure,
  type AutoscalerSpec,
  adopt,
  type GroupEnv,
  type GroupState,
  type InstanceSeed,
  onVmPoweredOff,
  reconcile,
  type VmView,
  viewOf,
  worldGroupKey,
} from './compute-groups.ts';
import {
  type ComputeContext,
  type DeletionRequest,
  handleAutoscalers,
  handleGroup,
  handleInstances,
  handleOperation,
} from './compute-handlers.ts';
import { createOperations } from './compute-operations.ts';
import { defaultUpdatePolicy } from './compute-rolls.ts';
import { methodId, routeOf } from './compute-routes.ts';
import { API_ROOT, groupPath, scopePath, templateOf } from './compute-views.ts';

export type { ActionOnFailure, AutoscalerMode, AutoscalerSpec, InstanceSeed, VmView } from './compute-groups.ts';
export type { DeletionRequest } from './compute-handlers.ts';

export interface ComputeEmulatorOptions {
  readonly world: World;
  /** Epoch ms; defaults to the world's clock, which boots must follow. */
  readonly clock?: () => number;
  /** Uniform in [0, 1), for instance name suffixes. */
  readonly random?: () => number;
  /** Milliseconds a deleted VM is listed as DELETING before it is gone (default 10 s). */
  readonly deleteDelayMs?: number;
  /**
   * Milliseconds a REPAIR group takes to start recreating a VM that stopped by itself (default 10 s): it reads
   * TERMINATED/RECREATING meanwhile, then the new VM boots (still RECREATING) like any other.
   */
  readonly repairDelayMs?: number;
  /** Milliseconds until a mutation's operation reads DONE (default 0: DONE at the first look after it). */
  readonly operationDelayMs?: number;
  readonly port?: number;
}

export type GroupSpec = {
  readonly project: string;
  readonly name: string;
  readonly targetSize: number;
  readonly queues: readonly QueueName[];
  readonly autoscaler?: AutoscalerSpec;
  /** `PAGINATED` makes listManagedInstances honour maxResults; the API's default is `PAGELESS`. */
  readonly listManagedInstancesResults?: 'PAGELESS' | 'PAGINATED';
  /** VMs the group holds from the start, before it creates its own to reach `targetSize` (or deletes some of these). */
  readonly instances?: readonly InstanceSeed[];
  /** What the group does with a VM that stops by itself; `defaultActionOnFailure` defaults to `REPAIR`, as the API's. */
  readonly instanceLifecyclePolicy?: { readonly defaultActionOnFailure?: ActionOnFailure };
} & (
  | { readonly zone: string; readonly region?: never }
  /** Regional groups spread VMs over `zones` (default: the region's `-a`, `-b`, `-c`). */
  | { readonly region: string; readonly zones?: readonly string[]; readonly zone?: never }
);

export interface ComputeGroup {
  readonly name: string;
  /** The world group its VMs belong to. */
  readonly worldGroup: string;
  readonly selfLink: string;
  targetSize(): number;
  instances(): readonly VmView[];
  setAutoscaler(spec: AutoscalerSpec | undefined): void;
}

export interface ComputeEmulator {
  readonly emulator: Emulator;
  addGroup(spec: GroupSpec): ComputeGroup;
  /** `location` is the zone of a zonal group or the region of a regional one. */
  group(project: string, location: string, name: string): ComputeGroup | undefined;
  /** Every deleteInstances that reached a group (past injected faults), throttled by a hold or not. */
  deletionRequests(): readonly DeletionRequest[];
  /**
   * The group's next `times` resize and deleteInstances calls are refused as throttled (HTTP 429 rateLimitExceeded,
   * which the Compute client does not retry for these methods); `0` lifts the hold.
   */
  holdChanges(project: string, location: string, name: string, times: number): void;
}

/**
 * Compute Engine v1 instance group managers, operations, autoscaler lists and zonal instance lists, as the
 * `@google-cloud/compute` REST clients call them.
 */
export async function startComputeEmulator(options: ComputeEmulatorOptions): Promise<ComputeEmulator> {
  let counter = 0n;
  const env: GroupEnv = {
    world: options.world,
    clock: options.clock ?? options.world.clock,
    random: options.random ?? (() => randomInt(1_000_000) / 1_000_000),
    deleteDelayMs: options.deleteDelayMs ?? 10_000,
    repairDelayMs: options.repairDelayMs ?? 10_000,
    // Compute ids are unsigned 64-bit numbers, written as decimal strings.
    nextId: () => (4_611_686_018_427_387_904n + ++counter * 7_919n).toString(),
  };
  const operations = createOperations(env.clock, options.operationDelayMs ?? 0, env.nextId);
  const groups = new Map<string, GroupState>();
  const keyOf = (project: string, scopeKind: string, location: string, name: string) =>
    [project, scopeKind, location, name].join('|');
  const groupsIn = (project: string, scopeKind: string, location: string) =>
    [...groups.entries()]
      .filter(([key]) => key.startsWith(`${keyOf(project, scopeKind, location, '')}`))
      .map(([, g]) => g);
  // A VM that powered itself off (its executor retired) is up to its group's lifecycle policy, at that very moment.
  options.world.onPowerOff((instance, at) => {
    for (const group of groups.values()) {
      const vm = group.vms.find((candidate) => candidate.worldId === instance.id);
      if (vm !== undefined) {
        onVmPoweredOff(group, vm, env, at);
      }
    }
  });
  const context: ComputeContext = {
    env,
    operations,
    groupsIn,
    groupsOf: (project) => [...groups.values()].filter((group) => group.project === project),
    deletions: [],
  };

  const emulator = await startEmulator({
    name: 'gcp-compute',
    clock: env.clock,
    faults: computeFaults,
    operationOf: (request) => {
      const route = routeOf(request);
      return route === undefined ? undefined : methodId(route);
    },
    handle(request) {
      const route = routeOf(request);
      if (route === undefined) {
        return computeError(404, 'notFound', `The requested URL ${request.method} ${request.path} was not found.`);
      }
      if (route.kind === 'operation') {
        return handleOperation(context, route);
      }
      if (route.kind === 'autoscalers') {
        return handleAutoscalers(context, route, request.query);
      }
      if (route.kind === 'instances') {
        return handleInstances(context, route, request.query);
      }
      const group = groups.get(keyOf(route.project, route.scopeKind, route.location, route.name));
      if (group === undefined) {
        const scopePrefix = `projects/${route.project}/${route.scopeKind}/${route.location}`;
        return notFound(`${scopePrefix}/instanceGroupManagers/${route.name}`);
      }
      return handleGroup(context, group, route, request);
    },
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  const handle = (group: GroupState): ComputeGroup => ({
    name: group.name,
    worldGroup: worldGroupKey(group),
    selfLink: `${API_ROOT}/${groupPath(group)}`,
    targetSize: () => {
      reconcile(group, env);
      return group.targetSize;
    },
    instances: () => {
      reconcile(group, env);
      return group.vms.map((vm) => viewOf(group, vm, env));
    },
    setAutoscaler: (spec) => {
      group.autoscaler = spec;
    },
  });

  return {
    emulator,
    addGroup(spec) {
      const action = spec.instanceLifecyclePolicy?.defaultActionOnFailure ?? 'REPAIR';
      if (!ACTIONS_ON_FAILURE.includes(action)) {
        // What Compute answers a group insert with any other value (the API knows no other).
        throw new Error(
          `Invalid value for field 'resource.instanceLifecyclePolicy.defaultActionOnFailure': '${action}'. Must be one of [${ACTIONS_ON_FAILURE.join(', ')}].`,
        );
      }
      const scope =
        spec.zone !== undefined
          ? { kind: 'zone' as const, zone: spec.zone }
          : {
              kind: 'region' as const,
              region: spec.region,
              zones: spec.zones ?? ['a', 'b', 'c'].map((s) => `${spec.region}-${s}`),
            };
      const group: GroupState = {
        project: spec.project,
        scope,
        name: spec.name,
        id: env.nextId(),
        createdAt: env.clock(),
        queues: spec.queues,
        paginated: spec.listManagedInstancesResults === 'PAGINATED',
        targetSize: spec.targetSize,
        autoscaler: spec.autoscaler,
        defaultActionOnFailure: action,
        vms: [],
        held: 0,
        versions: [{ instanceTemplate: templateOf(spec.project, spec.name) }],
        updatePolicy: defaultUpdatePolicy(scope.kind === 'zone' ? 1 : scope.zones.length),
        wakes: new Set(),
      };
      const key = keyOf(spec.project, scope.kind === 'zone' ? 'zones' : 'regions', spec.zone ?? spec.region, spec.name);
      if (groups.has(key)) {
        throw new Error(`group ${scopePath(spec.project, scope)}/${spec.name} already exists`);
      }
      for (const seed of spec.instances ?? []) {
        adopt(group, env, seed);
      }
      groups.set(key, group);
      reconcile(group, env);
      return handle(group);
    },
    group(project, location, name) {
      const group =
        groups.get(keyOf(project, 'zones', location, name)) ?? groups.get(keyOf(project, 'regions', location, name));
      return group === undefined ? undefined : handle(group);
    },
    deletionRequests: () => context.deletions,
    holdChanges(project, location, name, times) {
      const group =
        groups.get(keyOf(project, 'zones', location, name)) ?? groups.get(keyOf(project, 'regions', location, name));
      if (group === undefined || !(Number.isInteger(times) && times >= 0)) {
        throw new RangeError(`cannot hold ${project}/${location}/${name} for ${times} calls`);
      }
      group.held = times;
    },
  };
}
