import { InstanceGroupManagersClient, InstancesClient } from '@google-cloud/compute';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ActionOnFailure, type ComputeEmulator, startComputeEmulator } from '../../local/gcp/compute.ts';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';

/**
 * Executors that retire (EXECUTOR_NUM_TOTAL_JOBS) power their VM off; the template's `automatic_restart = false`
 * leaves it TERMINATED, and the MIG's `instanceLifecyclePolicy.defaultActionOnFailure` decides what follows.
 */

const project = 'fleetplane-test';
const zone = 'us-central1-a';
const START = Date.parse('2026-03-02T10:00:00Z');
const BOOT_MS = 30_000;
const JOB_MS = 60_000;
const REPAIR_MS = 15_000;
const DELETE_MS = 10_000;
const group = { project, zone, instanceGroupManager: 'executors' };

describe('Compute emulator: VMs whose executor retires', () => {
  let now = START;
  let world: World;
  let compute: ComputeEmulator;
  let migs: InstanceGroupManagersClient;
  let instances: InstancesClient;

  beforeEach(async () => {
    now = START;
    world = createWorld({
      clock: () => now,
      bootDelayMs: BOOT_MS,
      jobDurationMs: JOB_MS,
      maxJobsPerExecutor: 1,
      retireAfterJobs: 1,
    });
    compute = await startComputeEmulator({ world, repairDelayMs: REPAIR_MS, deleteDelayMs: DELETE_MS });
    migs = new InstanceGroupManagersClient(gcpClientOptions(compute.emulator));
    instances = new InstancesClient(gcpClientOptions(compute.emulator));
  });
  afterEach(async () => {
    await Promise.all([migs.close(), instances.close()]);
    await compute.emulator.close();
  });

  /** Two VMs in service, one of which runs the only job, which is its executor's last. */
  async function twoVmsOneRetiring(defaultActionOnFailure?: ActionOnFailure) {
    compute.addGroup({
      project,
      zone,
      name: 'executors',
      targetSize: 2,
      queues: ['batches'],
      ...(defaultActionOnFailure === undefined ? {} : { instanceLifecyclePolicy: { defaultActionOnFailure } }),
    });
    now += BOOT_MS;
    const [job] = world.enqueue('batches', 1);
    const runningOn = world.instances().find((instance) => job && instance.executor?.running.has(job.id));
    return runningOn?.hostname ?? '';
  }

  const listed = async () => {
    const [managed] = await migs.listManagedInstances(group, { autoPaginate: false });
    return managed.map((vm) => ({ name: vm.name, id: vm.id, status: vm.instanceStatus, action: vm.currentAction }));
  };

  it('REPAIR (the default): TERMINATED and RECREATING, then the same name boots again with a new id and executor', async () => {
    // Prepare
    const retiring = await twoVmsOneRetiring();
    const before = (await listed()).find((vm) => vm.name === retiring);

    // Act: the job ends at START + BOOT + JOB; look while the MIG is about to recreate, while it boots, after
    now += JOB_MS + REPAIR_MS - 1;
    const stopped = await listed();
    const [stoppedGroup] = await migs.get(group);
    const [stoppedVm] = await instances.list({ project, zone, filter: `name = "${retiring}"` });
    now += 1;
    const recreating = await listed();
    now += BOOT_MS;
    const running = await listed();

    // Assess
    expect(stopped.find((vm) => vm.name === retiring)).toEqual({
      ...before,
      status: 'TERMINATED',
      action: 'RECREATING',
    });
    expect(stoppedGroup).toMatchObject({
      targetSize: 2,
      currentActions: { none: 1, recreating: 1 },
      status: { isStable: false },
      instanceLifecyclePolicy: { defaultActionOnFailure: 'REPAIR', forceUpdateOnRepair: 'NO' },
    });
    expect(stoppedVm[0]).toMatchObject({
      status: 'TERMINATED',
      lastStopTimestamp: '2026-03-02T02:01:30.000-08:00',
      scheduling: { automaticRestart: false },
    });
    const again = recreating.find((vm) => vm.name === retiring);
    expect(again).toMatchObject({ status: 'PROVISIONING', action: 'RECREATING' });
    expect(again?.id).not.toBe(before?.id);
    expect(running.map((vm) => [vm.status, vm.action])).toEqual([
      ['RUNNING', 'NONE'],
      ['RUNNING', 'NONE'],
    ]);
    const executors = world.executors().filter((executor) => executor.hostname === retiring);
    expect(executors.map((executor) => executor.exitedAt === undefined)).toEqual([true, false]);
    expect(world.stats()).toMatchObject({ executorsRetired: 1, jobsInterrupted: 0, instancesLaunched: 3 });
  });

  it('DO_NOTHING: stays TERMINATED and counted until deleteInstances removes it and lowers targetSize', async () => {
    // Prepare
    const retiring = await twoVmsOneRetiring('DO_NOTHING');

    // Act
    now += JOB_MS + REPAIR_MS + BOOT_MS;
    const stopped = await listed();
    const [stoppedGroup] = await migs.get(group);
    await migs.deleteInstances({
      ...group,
      instanceGroupManagersDeleteInstancesRequestResource: { instances: [`zones/${zone}/instances/${retiring}`] },
    });
    const deleting = await listed();
    now += DELETE_MS;
    const after = await listed();
    const [afterGroup] = await migs.get(group);

    // Assess
    expect(stopped.map((vm) => [vm.name === retiring, vm.status, vm.action]).sort()).toEqual([
      [false, 'RUNNING', 'NONE'],
      [true, 'TERMINATED', 'NONE'],
    ]);
    expect(stoppedGroup).toMatchObject({
      targetSize: 2,
      currentActions: { none: 2, recreating: 0 },
      instanceLifecyclePolicy: { defaultActionOnFailure: 'DO_NOTHING' },
    });
    expect(deleting.find((vm) => vm.name === retiring)).toMatchObject({ status: 'TERMINATED', action: 'DELETING' });
    expect(after.map((vm) => vm.name)).not.toContain(retiring);
    expect(after).toHaveLength(1);
    expect(afterGroup?.targetSize).toBe(1);
    expect(world.stats()).toMatchObject({ executorsRetired: 1, instancesLaunched: 2, jobsInterrupted: 0 });
  });

  it('REPAIR: a VM deleted while the MIG is about to recreate it is not recreated', async () => {
    // Prepare
    const retiring = await twoVmsOneRetiring('REPAIR');
    now += JOB_MS + 1_000;

    // Act
    await migs.deleteInstances({
      ...group,
      instanceGroupManagersDeleteInstancesRequestResource: { instances: [`zones/${zone}/instances/${retiring}`] },
    });
    now += REPAIR_MS + DELETE_MS + BOOT_MS;
    const after = await listed();

    // Assess
    expect(after.map((vm) => vm.name)).not.toContain(retiring);
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(1);
    expect(world.stats().instancesLaunched).toBe(2);
  });

  it('records each deleteInstances with the state of the VMs it named; a hold refuses changes as throttled', async () => {
    // Prepare
    const retiring = await twoVmsOneRetiring('DO_NOTHING');
    now += JOB_MS;
    const running = (await listed()).find((vm) => vm.name !== retiring)?.name ?? '';
    compute.holdChanges(project, zone, 'executors', 2);
    const remove = (names: string[]) =>
      migs.deleteInstances({
        ...group,
        instanceGroupManagersDeleteInstancesRequestResource: {
          instances: names.map((n) => `zones/${zone}/instances/${n}`),
        },
      });

    // Act
    const throttled = await remove([retiring, running]).catch((error: unknown) => error);
    const resizeThrottled = await migs.resize({ ...group, size: 3 }).catch((error: unknown) => error);
    await remove([retiring]);

    // Assess
    expect(throttled).toMatchObject({ code: 8, message: expect.stringMatching(/Quota exceeded/) });
    expect(resizeThrottled).toMatchObject({ code: 8 });
    expect(compute.deletionRequests().map((request) => request.instances)).toEqual([
      [
        { ref: `zones/${zone}/instances/${retiring}`, instanceStatus: 'TERMINATED', currentAction: 'NONE' },
        { ref: `zones/${zone}/instances/${running}`, instanceStatus: 'RUNNING', currentAction: 'NONE' },
      ],
      [{ ref: `zones/${zone}/instances/${retiring}`, instanceStatus: 'TERMINATED', currentAction: 'NONE' }],
    ]);
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(1);
    expect(() => compute.holdChanges(project, zone, 'nope', 1)).toThrow(RangeError);
  });

  it('refuses a lifecycle policy the API does not know', () => {
    // Prepare: a value from outside the type, as a caller in plain JavaScript (or a newer API) would pass it
    const instanceLifecyclePolicy: { defaultActionOnFailure: ActionOnFailure } = JSON.parse(
      '{"defaultActionOnFailure":"DELETE"}',
    );

    // Act
    const add = () =>
      compute.addGroup({
        project,
        zone,
        name: 'executors',
        targetSize: 0,
        queues: ['batches'],
        instanceLifecyclePolicy,
      });

    // Assess
    expect(add).toThrow(/defaultActionOnFailure.*Must be one of \[REPAIR, DO_NOTHING\]/);
  });
});
