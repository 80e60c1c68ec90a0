import { createInMemoryFleetRoller } from '../../shared/fakes/index.ts';
import { defineFleetRollerContract } from './fleet-roll.contract.ts';

defineFleetRollerContract('in-memory fake', async ({ size }) => {
  let now = Date.UTC(2026, 10, 28, 9, 0, 0);
  const roller = createInMemoryFleetRoller({ clock: () => now });
  const target = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors' } as const;
  roller.addGroup(
    target,
    Array.from({ length: size }, (_, i) => `i-${i}`),
  );
  return {
    roller,
    target,
    missing: { ...target, autoScalingGroup: 'nowhere' },
    now: () => now,
    advance: async (ms) => {
      now += ms;
    },
    instanceIds: async () => roller.instanceIds(target),
    startForeignRoll: async () => roller.startForeignRoll(target),
    close: async () => {},
  };
});
