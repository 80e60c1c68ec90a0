import { LifecycleState } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import { ASG_LIFECYCLE_STATES, asgLifecycle, knownAsgLifecycle } from '../../../shared/aws/asg-lifecycle.ts';

describe('asgLifecycle', () => {
  it.each([
    ['Pending', 'booting'],
    ['Pending:Wait', 'booting'],
    ['Pending:Proceed', 'booting'],
    ['ReplacingRootVolume', 'booting'],
    ['RootVolumeReplaced', 'booting'],
    ['InService', 'in-service'],
    ['Terminating', 'leaving'],
    ['Terminating:Wait', 'leaving'],
    ['Terminating:Proceed', 'leaving'],
    ['Terminating:Retained', 'leaving'],
    ['Terminated', 'leaving'],
    ['Detaching', 'leaving'],
    ['Detached', 'leaving'],
    ['EnteringStandby', 'standby'],
    ['Standby', 'standby'],
    ['Quarantined', 'standby'],
    ['Warmed:Pending', 'standby'],
    ['Warmed:Running', 'standby'],
    ['Warmed:Terminating:Wait', 'standby'],
  ])('maps %s to %s', (state, lifecycle) => {
    // Act
    const mapped = asgLifecycle(state);

    // Assess
    expect(mapped).toBe(lifecycle);
  });

  it('knows every state of the SDK enum', () => {
    // Act
    const states = [...ASG_LIFECYCLE_STATES].sort();

    // Assess
    expect(states).toEqual(Object.values(LifecycleState).sort());
  });

  it('counts an unknown state as booting, which holds scale-in', () => {
    // Act
    const mapped = asgLifecycle('Hibernating:Somehow');

    // Assess
    expect(knownAsgLifecycle('Hibernating:Somehow')).toBeUndefined();
    expect(mapped).toBe('booting');
    expect(asgLifecycle(undefined)).toBe('booting');
  });
});
