import {
  AutoscalersClient,
  InstanceGroupManagersClient,
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
import { defineInstanceGroupsContract, GCP_CONTRACT_TARGETS } from '../contract/instance-groups.contract.ts';

type ManagedInstance = protos.google.cloud.compute.v1.IManagedInstance;

/** One Compute state per lifecycle, as `listManagedInstances` reports it; the full mapping has unit tests. */
const MIG_STATE: Readonly<Record<InstanceLifecycle, ManagedInstance>> = {
  booting: { currentAction: 'CREATING', instanceStatus: 'STAGING' },
  'in-service': { currentAction: 'NONE', instanceStatus: 'RUNNING' },
  leaving: { currentAction: 'DELETING', instanceStatus: 'STOPPING' },
  standby: { currentAction: 'NONE', instanceStatus: 'SUSPENDED' },
};

let compute: ComputeEmulator;
let clients: MigClients;
/** Instances the contract named, per group: the emulator names and boots its own VMs and has no standby state. */
let seededInstances: Map<string, ManagedInstance[]>;

/**
 * The real client, except that `listManagedInstances` for a group the contract seeded with named instances answers
 * those instances in Compute's own vocabulary. Everything else, including every other group's instances, is the
 * emulator's answer.
 */
function withSeededInstances<T extends object>(client: T): T {
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
        const instances = seededInstances.get(key);
        return instances === undefined ? value.call(target, request, options) : [instances, null, undefined];
      };
    },
  });
}

beforeEach(async () => {
  // A fresh emulator per case: groups cannot be removed from one, and the contract seeds the same names every time.
  compute = await startComputeEmulator({ world: createWorld({ clock: Date.now }) });
  const options = gcpClientOptions(compute.emulator);
  clients = {
    zonal: withSeededInstances(new InstanceGroupManagersClient(options)),
    regional: withSeededInstances(new RegionInstanceGroupManagersClient(options)),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
  };
  seededInstances = new Map();
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

/** The emulator applies a resize when it answers, so the answer is all there is to wait for. */
async function resizeAroundThePort(target: GcpGroupTarget, size: number) {
  const { project, instanceGroupManager } = target;
  if (target.zone === undefined) {
    await clients.regional.resize({ project, region: target.region, instanceGroupManager, size });
  } else {
    await clients.zonal.resize({ project, zone: target.zone, instanceGroupManager, size });
  }
}

defineInstanceGroupsContract(
  'MIG adapter over the Compute emulator (real clients, REST)',
  () => {
    // A MIG has no min/max: the composition root gives the adapter the fleet's bounds, and so does the subject.
    const bounds = new Map<string, GroupBounds>();
    const adapter = createMigInstanceGroups(clients, { bounds: (target) => bounds.get(targetKey(target)) });
    // Re-seeding an existing group resizes it through the API; calls through the port wait for that to land.
    let setup: Promise<unknown> = Promise.resolve();
    const groups: InstanceGroups = {
      describe: async (targets, options) => {
        await setup;
        return adapter.describe(targets, options);
      },
      setDesiredSize: async (target, size, options) => {
        await setup;
        return adapter.setDesiredSize(target, size, options);
      },
    };
    return {
      groups,
      seed: (...seeds) => {
        for (const { target: anyTarget, desired, min, max, instances, scalingPolicies = [] } of seeds) {
          const target = gcp(anyTarget);
          const key = targetKey(target);
          bounds.set(key, { min, max });
          const autoscaler =
            scalingPolicies[0] === undefined
              ? undefined
              : { name: scalingPolicies[0], mode: 'ON' as const, minReplicas: min, maxReplicas: max };
          const existing = compute.group(target.project, locationOf(target), target.instanceGroupManager);
          if (existing === undefined) {
            const { project, instanceGroupManager: name } = target;
            const scope = target.zone === undefined ? { region: target.region } : { zone: target.zone };
            compute.addGroup({ project, name, targetSize: desired, queues: ['codeintel'], autoscaler, ...scope });
          } else {
            existing.setAutoscaler(autoscaler);
            if (existing.targetSize() !== desired) {
              setup = Promise.all([setup, resizeAroundThePort(target, desired)]);
            }
          }
          if (instances !== undefined) {
            seededInstances.set(
              key,
              instances.map(({ id, lifecycle }) => ({ name: id, ...MIG_STATE[lifecycle] })),
            );
          }
        }
      },
      desiredOf: (target) =>
        compute.group(gcp(target).project, locationOf(gcp(target)), gcp(target).instanceGroupManager)?.targetSize(),
      holdScaling: (target, times) =>
        compute.emulator.injectFault({
          kind: 'throttle',
          times,
          operation:
            gcp(target).zone === undefined ? 'regionInstanceGroupManagers.resize' : 'instanceGroupManagers.resize',
        }),
    };
  },
  GCP_CONTRACT_TARGETS,
);
