import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { startComputeEmulator } from '../../local/gcp/compute.ts';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { createWorld } from '../../local/world/world.ts';
import type { GcpGroupTarget } from '../../shared/domain/fleet.ts';
import type { MigClients } from '../../shared/gcp/mig-calls.ts';
import { createMigFleetRoller } from '../../shared/gcp/mig-fleet-roller.ts';
import { defineFleetRollerContract } from '../contract/fleet-roll.contract.ts';

const PROJECT = 'fleetplane-test';
const ZONE = 'us-central1-a';

defineFleetRollerContract('MIG rolling replace over the Compute emulator (real clients, REST)', async ({ size }) => {
  const time = { now: Date.UTC(2026, 0, 12, 9) };
  const world = createWorld({ clock: () => time.now, bootDelayMs: 20_000 });
  const compute = await startComputeEmulator({ world });
  const options = gcpClientOptions(compute.emulator);
  const clients: MigClients = {
    zonal: new InstanceGroupManagersClient(options),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
  // Zonal: the contract's percentages are refused for regional groups under 10 VMs, as Compute refuses them.
  const target: GcpGroupTarget = { cloud: 'gcp', project: PROJECT, zone: ZONE, instanceGroupManager: 'executors' };
  const group = compute.addGroup({
    project: PROJECT,
    zone: ZONE,
    name: 'executors',
    targetSize: size,
    queues: ['codeintel'],
  });
  time.now += 60_000;
  return {
    roller: createMigFleetRoller(clients, { clock: () => time.now }),
    target,
    missing: { ...target, instanceGroupManager: 'nowhere' },
    now: () => time.now,
    advance: async (ms) => {
      time.now += ms;
      world.advance();
    },
    // A MIG's instance ids are instance names; VMs being deleted are on their way out of the group.
    instanceIds: async () =>
      group
        .instances()
        .filter((vm) => vm.currentAction !== 'DELETING')
        .map((vm) => vm.name),
    // What `gcloud compute instance-groups managed rolling-action replace` sends, with the group's default limits.
    startForeignRoll: async () => {
      const [current] = await clients.zonal.get({ project: PROJECT, zone: ZONE, instanceGroupManager: 'executors' });
      const name = `0/${new Date(time.now).toISOString()}`;
      await clients.zonal.patch({
        project: PROJECT,
        zone: ZONE,
        instanceGroupManager: 'executors',
        instanceGroupManagerResource: {
          versions: (current.versions ?? []).map((version) => ({ instanceTemplate: version.instanceTemplate, name })),
          updatePolicy: { type: 'PROACTIVE', minimalAction: 'REPLACE' },
        },
      });
    },
    close: async () => {
      await Promise.all(Object.values(clients).map((client) => client.close()));
      await compute.emulator.close();
    },
  };
});
