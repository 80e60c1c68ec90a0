import { AutoScalingClient, type LifecycleState } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll } from 'vitest';
import { type AutoScalingEmulator, awsClientConfig, startAutoScalingEmulator } from '../../local/aws/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { createAsgInstanceGroups } from '../../shared/aws/asg-instance-groups.ts';
import type { InstanceLifecycle } from '../../shared/ports/instance-groups.ts';
import { awsTarget, defineInstanceGroupsContract } from '../contract/instance-groups.contract.ts';

/** One ASG state per lifecycle, as the contract's mock-backed run uses. */
const ASG_STATE: Readonly<Record<InstanceLifecycle, LifecycleState>> = {
  booting: 'Pending:Wait',
  'in-service': 'InService',
  leaving: 'Terminating:Wait',
  standby: 'Standby',
};

let asg: AutoScalingEmulator;
const clients = new Map<string, AutoScalingClient>();
/** One client per region, as the composition root builds them; the emulator tells regions apart by the signature. */
const clientFor = (region: string) => {
  const client =
    clients.get(region) ?? new AutoScalingClient({ ...awsClientConfig(asg.emulator, region), maxAttempts: 1 });
  clients.set(region, client);
  return client;
};

beforeAll(async () => {
  const world = createWorld({ clock: Date.now });
  // One record a page: the adapter must follow NextToken for every describe.
  asg = await startAutoScalingEmulator({ world, pageSize: 1 });
});
afterAll(async () => {
  for (const client of clients.values()) {
    client.destroy();
  }
  await asg.close();
});

defineInstanceGroupsContract('ASG adapter over the Auto Scaling emulator (real SDK, loopback HTTP)', () => {
  asg.clearGroups();
  asg.emulator.clearFaults();
  return {
    // No policy cache: the contract seeds between calls, as a real backend's state would change.
    groups: createAsgInstanceGroups(clientFor, { policyCacheMs: 0 }),
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
            : { instances: instances.map(({ id, lifecycle }) => ({ id, state: ASG_STATE[lifecycle] })) }),
        });
      }
    },
    desiredOf: (target) => asg.group(awsTarget(target).autoScalingGroup, awsTarget(target).region)?.desired,
    holdScaling: (target, times) =>
      asg.holdScaling(awsTarget(target).autoScalingGroup, times, { region: awsTarget(target).region }),
  };
});
