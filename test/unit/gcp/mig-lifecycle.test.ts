import { describe, expect, it } from 'vitest';
import {
  knownMigLifecycle,
  MIG_ACTIONS,
  MIG_STATUSES,
  migLifecycle,
  migState,
} from '../../../shared/gcp/mig-lifecycle.ts';

describe('migLifecycle', () => {
  it.each([
    ['CREATING', undefined, 'booting'],
    ['CREATING', 'PROVISIONING', 'booting'],
    ['CREATING', 'STAGING', 'booting'],
    ['CREATING_WITHOUT_RETRIES', 'STAGING', 'booting'],
    ['RECREATING', 'RUNNING', 'booting'],
    ['VERIFYING', 'RUNNING', 'booting'],
    ['STARTING', 'STAGING', 'booting'],
    ['RESUMING', 'SUSPENDED', 'booting'],
    ['RESTARTING', 'RUNNING', 'booting'],
    ['REFRESHING', 'RUNNING', 'booting'],
    ['NONE', 'PROVISIONING', 'booting'],
    ['NONE', 'STAGING', 'booting'],
    ['NONE', 'REPAIRING', 'booting'],
    ['NONE', 'RUNNING', 'in-service'],
    [undefined, 'RUNNING', 'in-service'],
    ['DELETING', 'RUNNING', 'leaving'],
    ['DELETING', 'STOPPING', 'leaving'],
    ['ABANDONING', 'RUNNING', 'leaving'],
    ['STOPPING', 'RUNNING', 'leaving'],
    ['SUSPENDING', 'RUNNING', 'leaving'],
    ['NONE', 'STOPPING', 'leaving'],
    ['NONE', 'SUSPENDING', 'leaving'],
    ['NONE', 'STOPPED', 'exited'],
    ['NONE', 'SUSPENDED', 'standby'],
    ['NONE', 'TERMINATED', 'exited'],
  ])('maps %s / %s to %s', (currentAction, instanceStatus, lifecycle) => {
    // Act
    const mapped = migLifecycle({ currentAction, instanceStatus });

    // Assess
    expect(mapped).toBe(lifecycle);
  });

  it('counts an action or status it does not know as booting, and says it does not know it', () => {
    // Prepare
    const novel = [
      { currentAction: 'TELEPORTING', instanceStatus: 'RUNNING' },
      { currentAction: 'NONE', instanceStatus: 'HIBERNATING' },
    ];

    // Act
    const mapped = novel.map((instance) => [knownMigLifecycle(instance), migLifecycle(instance), migState(instance)]);

    // Assess
    expect(mapped).toEqual([
      [undefined, 'booting', 'TELEPORTING/RUNNING'],
      [undefined, 'booting', 'NONE/HIBERNATING'],
    ]);
  });

  it('knows every action and status of the installed @google-cloud/compute enums', async () => {
    // Prepare
    const { protos } = await import('@google-cloud/compute');
    const { CurrentAction, InstanceStatus } = protos.google.cloud.compute.v1.ManagedInstance;
    const names = (values: object) =>
      Object.keys(values).filter((name) => !name.startsWith('UNDEFINED_') && Number.isNaN(Number(name)));

    // Act
    const unknownActions = names(CurrentAction).filter((name) => !MIG_ACTIONS.includes(name));
    const unknownStatuses = names(InstanceStatus).filter((name) => !MIG_STATUSES.includes(name));

    // Assess
    expect(unknownActions).toEqual([]);
    expect(unknownStatuses).toEqual([]);
  });
});
