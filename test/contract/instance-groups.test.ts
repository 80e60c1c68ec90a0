import type { LifecycleState } from '@aws-sdk/client-auto-scaling';
import { createAsgInstanceGroups } from '../../shared/aws/asg-instance-groups.ts';
import { createInMemoryInstanceGroups } from '../../shared/fakes/index.ts';
import type { InstanceLifecycle } from '../../shared/ports/instance-groups.ts';
import { awsTarget, defineInstanceGroupsContract } from './instance-groups.contract.ts';
import { createAutoScalingBackend } from './support/auto-scaling-backend.ts';

defineInstanceGroupsContract('in-memory fake', () => {
  const groups = createInMemoryInstanceGroups();
  return {
    groups,
    seed: (...seeds) => {
      for (const { instances = [], scalingPolicies = [], ...seed } of seeds) {
        groups.addGroup({
          ...seed,
          instances: instances.map(({ id, lifecycle }) => ({ id, lifecycle, state: lifecycle })),
          competingScalers: scalingPolicies.map((name) => `policy:${name}`),
        });
      }
    },
    desiredOf: (target) => groups.getGroup(target)?.desired,
    holdScaling: (target, times) => groups.deferResizes(times, { target }),
  };
});

/** One ASG state per lifecycle; the full mapping is covered by the adapter's unit tests. */
const ASG_STATE: Readonly<Record<InstanceLifecycle, LifecycleState>> = {
  booting: 'Pending:Wait',
  'in-service': 'InService',
  leaving: 'Terminating:Wait',
  standby: 'Standby',
};

defineInstanceGroupsContract('ASG adapter over a stateful Auto Scaling mock', () => {
  const backend = createAutoScalingBackend();
  // No policy cache: the contract seeds between calls, as a real backend's state would change.
  const groups = createAsgInstanceGroups(backend.clientFor, { policyCacheMs: 0 });
  return {
    groups,
    seed: (...seeds) => {
      for (const { target: anyTarget, desired, min, max, instances = [], scalingPolicies = [] } of seeds) {
        const target = awsTarget(anyTarget);
        backend.seed({
          region: target.region,
          name: target.autoScalingGroup,
          desired,
          min,
          max,
          instances: instances.map(({ id, lifecycle }) => ({ id, state: ASG_STATE[lifecycle] })),
          policies: scalingPolicies,
        });
      }
    },
    desiredOf: (target) => backend.group(awsTarget(target).region, awsTarget(target).autoScalingGroup)?.desired,
    holdScaling: (target, times) =>
      backend.holdScaling(awsTarget(target).region, awsTarget(target).autoScalingGroup, times),
  };
});
