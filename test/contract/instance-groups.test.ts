import type { LifecycleState } from '@aws-sdk/client-auto-scaling';
import { createAsgInstanceGroups } from '../../shared/aws/asg-instance-groups.ts';
import type { GroupTarget } from '../../shared/domain/fleet.ts';
import { createInMemoryInstanceGroups } from '../../shared/fakes/index.ts';
import type { InstanceLifecycle } from '../../shared/ports/instance-groups.ts';
import { awsTarget, type ContractInstance, defineInstanceGroupsContract } from './instance-groups.contract.ts';
import { createAutoScalingBackend } from './support/auto-scaling-backend.ts';

defineInstanceGroupsContract('in-memory fake', () => {
  const groups = createInMemoryInstanceGroups();
  return {
    groups,
    seed: (...seeds) => {
      for (const { instances = [], scalingPolicies = [], ...seed } of seeds) {
        groups.addGroup({
          ...seed,
          instances: instances.map((instance) => ({ ...instance, state: instance.lifecycle })),
          competingScalers: scalingPolicies.map((name) => `policy:${name}`),
        });
      }
    },
    desiredOf: (target) => groups.getGroup(target)?.desired,
    holdScaling: (target, times) => groups.deferResizes(times, { target }),
    hostnameOf: (instance) => instance.hostname ?? instance.id,
    protectedOf: (target) => groups.protectedInstances(target),
    instancesOf: (target) => groups.getGroup(target)?.instances.map((instance) => instance.id) ?? [],
  };
});

/** One ASG state per lifecycle; the full mapping is covered by the adapter's unit tests. */
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

/** On EC2 the host name is not derived from the id: an AWS subject reports the one it was seeded with. */
function seededHostname(instance: ContractInstance): string {
  if (instance.hostname === undefined) {
    throw new TypeError(`instance ${instance.id} was seeded without a host name; EC2 reports none for it`);
  }
  return instance.hostname;
}

defineInstanceGroupsContract('ASG adapter over a stateful Auto Scaling mock', () => {
  const backend = createAutoScalingBackend();
  // No policy cache: the contract seeds between calls, as a real backend's state would change.
  const groups = createAsgInstanceGroups(
    { autoScalingFor: backend.clientFor, ec2For: backend.ec2For },
    { policyCacheMs: 0 },
  );
  const groupOf = (target: GroupTarget) => backend.group(awsTarget(target).region, awsTarget(target).autoScalingGroup);
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
          // Instances seeded without a host name stay unknown to EC2, as one Auto Scaling has only just launched.
          instances: instances.map(({ lifecycle, ...instance }) => ({ ...instance, state: asgState(lifecycle) })),
          policies: scalingPolicies,
        });
      }
    },
    desiredOf: (target) => groupOf(target)?.desired,
    holdScaling: (target, times) =>
      backend.holdScaling(awsTarget(target).region, awsTarget(target).autoScalingGroup, times),
    hostnameOf: seededHostname,
    protectedOf: (target) =>
      groupOf(target)
        ?.instances.filter((instance) => instance.protectedFromScaleIn === true)
        .map((instance) => instance.id) ?? [],
    instancesOf: (target) => groupOf(target)?.instances.map((instance) => instance.id) ?? [],
  };
});
