import { AutoScalingClient, type LifecycleState } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll } from 'vitest';
import {
  type AutoScalingEmulator,
  awsClientConfig,
  type Ec2Emulator,
  startAutoScalingEmulator,
  startEc2Emulator,
} from '../../local/aws/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { createAsgInstanceGroups } from '../../shared/aws/asg-instance-groups.ts';
import type { GroupTarget } from '../../shared/domain/fleet.ts';
import type { InstanceLifecycle } from '../../shared/ports/instance-groups.ts';
import {
  awsTarget,
  type ContractInstance,
  defineInstanceGroupsContract,
} from '../contract/instance-groups.contract.ts';

/** One ASG state per lifecycle, as the contract's mock-backed run uses. */
const ASG_STATE: Readonly<Record<Exclude<InstanceLifecycle, 'exited'>, LifecycleState>> = {
  booting: 'Pending:Wait',
  'in-service': 'InService',
  leaving: 'Terminating:Wait',
  standby: 'Standby',
};

function asgState(lifecycle: InstanceLifecycle): LifecycleState {
  if (lifecycle === 'exited') {
    throw new TypeError('an ASG keeps no exited instance: EC2 terminates a VM that powers itself off');
  }
  return ASG_STATE[lifecycle];
}

let asg: AutoScalingEmulator;
let ec2: Ec2Emulator;
const autoScalingClients = new Map<string, AutoScalingClient>();
const ec2Clients = new Map<string, EC2Client>();
/** One client per region, as the composition root builds them; the emulators tell regions apart by the signature. */
const autoScalingFor = (region: string) => {
  const client =
    autoScalingClients.get(region) ??
    new AutoScalingClient({ ...awsClientConfig(asg.emulator, region), maxAttempts: 1 });
  autoScalingClients.set(region, client);
  return client;
};
const ec2For = (region: string) => {
  const client = ec2Clients.get(region) ?? new EC2Client({ ...awsClientConfig(ec2.emulator, region), maxAttempts: 1 });
  ec2Clients.set(region, client);
  return client;
};

beforeAll(async () => {
  const world = createWorld({ clock: Date.now });
  // One record a page: the adapter must follow NextToken for every describe.
  asg = await startAutoScalingEmulator({ world, pageSize: 1 });
  ec2 = await startEc2Emulator({ world, pageSize: 1 });
});
afterAll(async () => {
  for (const client of [...autoScalingClients.values(), ...ec2Clients.values()]) {
    client.destroy();
  }
  await Promise.all([asg.close(), ec2.close()]);
});

/** On EC2 the host name is not derived from the id: an AWS subject reports the one it was seeded with. */
function seededHostname(instance: ContractInstance): string {
  if (instance.hostname === undefined) {
    throw new TypeError(`instance ${instance.id} was seeded without a host name; EC2 reports none for it`);
  }
  return instance.hostname;
}

defineInstanceGroupsContract('ASG adapter over the Auto Scaling and EC2 emulators (real SDK, loopback HTTP)', () => {
  asg.clearGroups();
  asg.emulator.clearFaults();
  ec2.clearInstances();
  ec2.emulator.clearFaults();
  const groupOf = (target: GroupTarget) => asg.group(awsTarget(target).autoScalingGroup, awsTarget(target).region);
  return {
    // No policy cache: the contract seeds between calls, as a real backend's state would change.
    groups: createAsgInstanceGroups({ autoScalingFor, ec2For }, { policyCacheMs: 0 }),
    seed: (...seeds) => {
      for (const { target: anyTarget, desired, min, max, instances, scalingPolicies = [] } of seeds) {
        const target = awsTarget(anyTarget);
        asg.addGroup({
          name: target.autoScalingGroup,
          region: target.region,
          min,
          max,
          desired,
          queues: ['codeintel'],
          policies: scalingPolicies.map((name) => ({ name })),
          ...(instances === undefined
            ? {}
            : { instances: instances.map(({ id, lifecycle }) => ({ id, state: asgState(lifecycle) })) }),
        });
        // Seeded instances live outside the world; those without a host name stay unknown to EC2, as one Auto
        // Scaling has only just launched may be.
        for (const { id, hostname, launchedAt } of instances ?? []) {
          if (hostname !== undefined) {
            ec2.addInstance({
              id,
              hostname,
              region: target.region,
              ...(launchedAt === undefined ? {} : { launchedAt }),
            });
          }
        }
      }
    },
    desiredOf: (target) => groupOf(target)?.desired,
    holdScaling: (target, times) =>
      asg.holdScaling(awsTarget(target).autoScalingGroup, times, { region: awsTarget(target).region }),
    hostnameOf: seededHostname,
    protectedOf: (target) =>
      groupOf(target)
        ?.instances.filter((instance) => instance.protectedFromScaleIn)
        .map((instance) => instance.id) ?? [],
    // Terminated instances stay listed as `Terminating` for a while; they are no longer held.
    instancesOf: (target) =>
      groupOf(target)
        ?.instances.filter((instance) => !instance.lifecycleState.startsWith('Terminat'))
        .map((instance) => instance.id) ?? [],
  };
});
