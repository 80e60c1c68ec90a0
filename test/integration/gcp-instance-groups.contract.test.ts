import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  type protos,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { afterEach, beforeEach } from 'vitest';
import { type ComputeEmulator, startComputeEmulator } from '../../local/gcp/compute.ts';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { type GcpGroupTarget, type GroupTarget, targetKey } from '../../shared/domain/fleet.ts';
import { createMigInstanceGroups, type GroupBounds, type MigClients } from '../../shared/gcp/mig-instance-groups.ts';
import type { InstanceGroups, InstanceLifecycle } from '../../shared/ports/instance-groups.ts';
import {
  type ContractGroup,
  defineInstanceGroupsContract,
  GCP_CONTRACT_TARGETS,
} from '../contract/instance-groups.contract.ts';

type ManagedInstance = protos.google.cloud.compute.v1.IManagedInstance;

/** One Compute state per lifecycle, as `listManagedInstances` reports it; the full mapping has unit tests. */
const MIG_STATE: Readonly<Record<InstanceLifecycle, ManagedInstance>> = {
  booting: { currentAction: 'CREATING', instanceStatus: 'STAGING' },
  'in-service': { currentAction: 'NONE', instanceStatus: 'RUNNING' },
  leaving: { currentAction: 'DELETING', instanceStatus: 'STOPPING' },
  standby: { currentAction: 'NONE', instanceStatus: 'SUSPENDED' },
  exited: { currentAction: 'NONE', instanceStatus: 'TERMINATED' },
};

let compute: ComputeEmulator;
let clients: MigClients;
/** The states the contract gave its named instances, per group: the emulator boots its VMs itself and has no standby. */
let seededStates: Map<string, ReadonlyMap<string, ManagedInstance>>;

/**
 * The real client, except that `listManagedInstances` reports a seeded instance in the state the contract gave it,
 * in Compute's own vocabulary, until the emulator deletes it. Everything else, names and zones included, is the
 * emulator's answer.
 */
function withSeededStates<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') {
        return value;
      }
      if (property !== 'listManagedInstances') {
        return value.bind(target);
      }
      return async (
        request: { project: string; zone?: string; region?: string; instanceGroupManager: string },
        options: unknown,
      ) => {
        const key = `gcp:${request.project}:${request.zone ?? request.region}:${request.instanceGroupManager}`;
        const states = seededStates.get(key);
        const [instances, ...rest]: [ManagedInstance[], ...unknown[]] = await value.call(target, request, options);
        const restated = instances.map((instance) => {
          const state = states?.get(instance.name ?? '');
          return state === undefined || instance.currentAction === 'DELETING' ? instance : { ...instance, ...state };
        });
        return [restated, ...rest];
      };
    },
  });
}

beforeEach(async () => {
  // A fresh emulator per case: groups cannot be removed from one, and the contract seeds the same names every time.
  compute = await startComputeEmulator({ world: createWorld({ clock: Date.now }) });
  const options = gcpClientOptions(compute.emulator);
  clients = {
    zonal: withSeededStates(new InstanceGroupManagersClient(options)),
    regional: withSeededStates(new RegionInstanceGroupManagersClient(options)),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
  seededStates = new Map();
});
afterEach(async () => {
  await Promise.all(Object.values(clients).map((client) => client.close()));
  await compute.emulator.close();
});

const gcp = (target: GroupTarget): GcpGroupTarget => {
  if (target.cloud !== 'gcp') {
    throw new TypeError(`a GCP subject was given ${targetKey(target)}`);
  }
  return target;
};
const locationOf = (target: GcpGroupTarget) => target.zone ?? target.region;
const emulated = (target: GroupTarget) => {
  const { project, instanceGroupManager } = gcp(target);
  return compute.group(project, locationOf(gcp(target)), instanceGroupManager);
};

defineInstanceGroupsContract(
  'MIG adapter over the Compute emulator (real clients, REST)',
  () => {
    // A MIG has no min/max: the composition root gives the adapter the fleet's bounds, and so does the subject.
    const bounds = new Map<string, GroupBounds>();
    const adapter = createMigInstanceGroups(clients, { bounds: (target) => bounds.get(targetKey(target)) });
    /**
     * Seeds not applied yet. A group is created on first use, with its last seed, so the instances the contract names
     * are the group's own VMs from the start rather than a replacement for the ones the emulator would create.
     */
    const pending = new Map<string, ContractGroup>();
    const apply = () => {
      for (const { target: anyTarget, desired, instances, scalingPolicies = [], min, max } of pending.values()) {
        const target = gcp(anyTarget);
        const { project, instanceGroupManager: name } = target;
        const autoscaler =
          scalingPolicies[0] === undefined
            ? undefined
            : { name: scalingPolicies[0], mode: 'ON' as const, minReplicas: min, maxReplicas: max };
        const seeds = instances?.map(({ id, launchedAt }) => ({
          name: id,
          ...(launchedAt === undefined ? {} : { createdAt: launchedAt }),
        }));
        const scope = target.zone === undefined ? { region: target.region } : { zone: target.zone };
        compute.addGroup({
          project,
          name,
          targetSize: desired,
          queues: ['codeintel'],
          autoscaler,
          instances: seeds,
          ...scope,
        });
        if (instances !== undefined) {
          seededStates.set(
            targetKey(target),
            new Map(instances.map(({ id, lifecycle }) => [id, MIG_STATE[lifecycle]])),
          );
        }
      }
      pending.clear();
    };
    const groups: InstanceGroups = {
      describe: async (targets, options) => {
        apply();
        return adapter.describe(targets, options);
      },
      setDesiredSize: async (target, size, options) => {
        apply();
        return adapter.setDesiredSize(target, size, options);
      },
      removeInstances: async (target, instanceIds, options) => {
        apply();
        return adapter.removeInstances(target, instanceIds, options);
      },
      replaceInstances: async (target, instanceIds, options) => {
        apply();
        return adapter.replaceInstances(target, instanceIds, options);
      },
      protectFromScaleIn: async (target, instanceIds, options) => {
        apply();
        return adapter.protectFromScaleIn(target, instanceIds, options);
      },
    };
    return {
      groups,
      seed: (...seeds) => {
        for (const seed of seeds) {
          if (emulated(seed.target) !== undefined) {
            throw new Error(`${targetKey(seed.target)} is in use: the MIG subject takes seeds before the first call`);
          }
          pending.set(targetKey(seed.target), seed);
          bounds.set(targetKey(seed.target), { min: seed.min, max: seed.max });
        }
      },
      desiredOf: (target) => {
        apply();
        return emulated(target)?.targetSize();
      },
      holdScaling: (target, times) =>
        compute.emulator.injectFault({
          kind: 'throttle',
          times,
          operation:
            gcp(target).zone === undefined ? 'regionInstanceGroupManagers.resize' : 'instanceGroupManagers.resize',
        }),
      // GCE gives a VM its instance name as host name, and the contract's instance ids are instance names here.
      hostnameOf: (instance) => instance.id,
      // Compute has no per-instance scale-in protection: a MIG picks victims only when resized down.
      protectedOf: () => undefined,
      instancesOf: (target) => {
        apply();
        return (emulated(target)?.instances() ?? [])
          .filter((vm) => vm.currentAction !== 'DELETING')
          .map((vm) => vm.name);
      },
    };
  },
  GCP_CONTRACT_TARGETS,
);
