import { AutoScalingClient, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { awsClientConfig, startAutoScalingEmulator } from '../../local/aws/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { createAsgFleetRoller } from '../../shared/aws/asg-fleet-roller.ts';
import type { AwsGroupTarget } from '../../shared/domain/fleet.ts';
import { defineFleetRollerContract } from '../contract/fleet-roll.contract.ts';

const REGION = 'us-east-1';

defineFleetRollerContract(
  'ASG instance refresh over the Auto Scaling emulator (real SDK, loopback HTTP)',
  async ({ size }) => {
    const time = { now: Date.UTC(2026, 0, 12, 9) };
    const world = createWorld({ clock: () => time.now, bootDelayMs: 20_000 });
    const asg = await startAutoScalingEmulator({ world, region: REGION });
    const client = new AutoScalingClient({ ...awsClientConfig(asg.emulator, REGION), maxAttempts: 1 });
    const target: AwsGroupTarget = { cloud: 'aws', region: REGION, autoScalingGroup: 'executors' };
    // The grace period is the refresh's default warm-up: each batch waits for boot plus a minute.
    asg.addGroup({
      name: 'executors',
      min: 0,
      max: 10,
      desired: size,
      queues: ['codeintel'],
      healthCheckGracePeriod: 60,
    });
    time.now += 60_000;
    return {
      roller: createAsgFleetRoller({ autoScalingFor: () => client }),
      target,
      missing: { ...target, autoScalingGroup: 'nowhere' },
      now: () => time.now,
      advance: async (ms) => {
        time.now += ms;
        world.advance();
      },
      // Instances being terminated are on their way out of the group.
      instanceIds: async () =>
        asg
          .group('executors')
          ?.instances.filter((instance) => !instance.lifecycleState.startsWith('Terminat'))
          .map((instance) => instance.id) ?? [],
      // A console refresh: the service's defaults for everything.
      startForeignRoll: async () => {
        await client.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'executors' }));
      },
      close: async () => {
        client.destroy();
        await asg.close();
      },
    };
  },
);
