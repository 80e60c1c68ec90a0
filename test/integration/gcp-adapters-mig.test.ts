import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ComputeEmulator, startComputeEmulator } from '../../local/gcp/compute.ts';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { createWorld } from '../../local/world/world.ts';
import { type GcpGroupTarget, type GroupTarget, targetKey } from '../../shared/domain/fleet.ts';
import { createMigInstanceGroups, type MigClients } from '../../shared/gcp/mig-instance-groups.ts';
import { CloudApiError } from '../../shared/ports/errors.ts';
import type { GroupDescription } from '../../shared/ports/instance-groups.ts';

const project = 'fleetplane-test';
const zonal: GcpGroupTarget = { cloud: 'gcp', project, zone: 'us-central1-a', instanceGroupManager: 'executors' };
const regional: GcpGroupTarget = {
  cloud: 'gcp',
  project,
  region: 'europe-west1',
  instanceGroupManager: 'executors-eu',
};
const BOOT_MS = 30_000;

/** Every Compute client the MIG adapter uses, each pointed at the emulator. */
function migClientsOf(compute: ComputeEmulator): MigClients {
  const options = gcpClientOptions(compute.emulator);
  return {
    zonal: new InstanceGroupManagersClient(options),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
}

const snapshotOf = (description: GroupDescription | undefined) => {
  if (description === undefined || !description.found) {
    throw new Error(`expected a found group, got ${JSON.stringify(description)}`);
  }
  return description.snapshot;
};

describe('MIG adapter against the Compute emulator', () => {
  let now: number;
  let compute: ComputeEmulator;
  let clients: MigClients;
  const calls = (operation: string) => compute.emulator.requests.filter((r) => r.operation === operation).length;
  const add = (
    target: GcpGroupTarget,
    targetSize: number,
    autoscaler?: Parameters<ComputeEmulator['addGroup']>[0]['autoscaler'],
  ) =>
    compute.addGroup({
      project,
      name: target.instanceGroupManager,
      targetSize,
      queues: ['codeintel'],
      autoscaler,
      ...(target.zone === undefined ? { region: target.region } : { zone: target.zone }),
    });

  beforeEach(async () => {
    now = Date.parse('2025-03-01T12:00:00Z');
    compute = await startComputeEmulator({
      world: createWorld({ clock: () => now, bootDelayMs: BOOT_MS }),
      deleteDelayMs: 10_000,
    });
    clients = migClientsOf(compute);
  });
  afterEach(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await compute.emulator.close();
  });

  it('counts CREATING (PROVISIONING, then STAGING) as booting, RUNNING as in service, DELETING as leaving', async () => {
    // Prepare
    add(zonal, 2);
    const groups = createMigInstanceGroups(clients);
    const lifecycles = async () =>
      snapshotOf((await groups.describe([zonal])).get(targetKey(zonal))).instances.map((i) => [i.lifecycle, i.state]);

    // Act
    const provisioning = await lifecycles();
    now += BOOT_MS / 2;
    const staging = await lifecycles();
    now += BOOT_MS / 2;
    const running = await lifecycles();
    const resized = await groups.setDesiredSize(zonal, 1);
    const shrinking = await lifecycles();

    // Assess
    expect(provisioning).toEqual([
      ['booting', 'CREATING/PROVISIONING'],
      ['booting', 'CREATING/PROVISIONING'],
    ]);
    expect(staging).toEqual([
      ['booting', 'CREATING/STAGING'],
      ['booting', 'CREATING/STAGING'],
    ]);
    expect(running).toEqual([
      ['in-service', 'NONE/RUNNING'],
      ['in-service', 'NONE/RUNNING'],
    ]);
    expect(resized).toEqual({ applied: true });
    expect(shrinking.map(([lifecycle]) => lifecycle).sort()).toEqual(['in-service', 'leaving']);
    expect(shrinking).toContainEqual(['leaving', 'DELETING/STOPPING']);
  });

  it('describes and resizes a regional group through the regional API and region operations', async () => {
    // Prepare
    add(regional, 1);
    const groups = createMigInstanceGroups(clients);

    // Act
    const outcome = await groups.setDesiredSize(regional, 3);
    const described = snapshotOf((await groups.describe([regional])).get(targetKey(regional)));

    // Assess
    expect(outcome).toEqual({ applied: true });
    expect(described).toMatchObject({ desired: 3, min: 0, max: 2000, competingScalers: [] });
    expect(described.instances).toHaveLength(3);
    expect(calls('regionInstanceGroupManagers.resize')).toBe(1);
    expect(calls('regionOperations.wait')).toBe(1);
    expect(compute.group(project, 'europe-west1', 'executors-eu')?.targetSize()).toBe(3);
  });

  it('reports an autoscaler in mode ON or ONLY_SCALE_OUT as competing, and one in mode OFF as not', async () => {
    // Prepare
    const scaled = (name: string): GcpGroupTarget => ({ ...zonal, instanceGroupManager: name });
    add(scaled('on'), 1, { name: 'on-scaler', mode: 'ON', minReplicas: 1, maxReplicas: 5 });
    add(scaled('out'), 1, { name: 'out-scaler', mode: 'ONLY_SCALE_OUT', minReplicas: 1, maxReplicas: 5 });
    add(scaled('off'), 1, { name: 'off-scaler', mode: 'OFF', minReplicas: 1, maxReplicas: 5 });
    add(scaled('none'), 1);
    const groups = createMigInstanceGroups(clients);

    // Act
    const described = await groups.describe(['on', 'out', 'off', 'none'].map(scaled));

    // Assess
    const competing = (name: string) => snapshotOf(described.get(targetKey(scaled(name)))).competingScalers;
    expect(competing('on')).toEqual(['autoscaler:on-scaler (mode ON)']);
    expect(competing('out')).toEqual(['autoscaler:out-scaler (mode ONLY_SCALE_OUT)']);
    expect(competing('off')).toEqual([]);
    expect(competing('none')).toEqual([]);
    // Only groups whose status names an autoscaler cost an autoscaler lookup.
    expect(calls('autoscalers.list')).toBe(3);
  });

  it('defers a resize the API throttles (429), and changes nothing', async () => {
    // Prepare
    add(zonal, 2);
    compute.emulator.injectFault({ kind: 'throttle', times: 1, operation: 'instanceGroupManagers.resize' });
    const groups = createMigInstanceGroups(clients);

    // Act
    const outcome = await groups.setDesiredSize(zonal, 4);

    // Assess
    expect(outcome).toEqual({ applied: false, deferred: expect.stringMatching(/^throttled \(.*Quota exceeded/) });
    expect(compute.group(project, 'us-central1-a', 'executors')?.targetSize()).toBe(2);
  });

  it('fails only the group that could not be read, and names a missing one', async () => {
    // Prepare
    add(zonal, 1);
    add(regional, 1);
    compute.emulator.injectFault({ kind: 'error', status: 500, operation: 'regionInstanceGroupManagers.get' });
    const ghost: GcpGroupTarget = { ...zonal, instanceGroupManager: 'ghost' };
    const aws: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors' };
    const groups = createMigInstanceGroups(clients);

    // Act
    const described = await groups.describe([zonal, regional, ghost, aws]);

    // Assess
    expect(snapshotOf(described.get(targetKey(zonal))).desired).toBe(1);
    expect(described.get(targetKey(regional))).toEqual({
      found: false,
      reason: expect.stringMatching(/^could not describe executors-eu in region europe-west1 .*code 13/),
    });
    expect(described.get(targetKey(ghost))).toEqual({
      found: false,
      reason: 'no managed instance group named ghost in zone us-central1-a of project fleetplane-test',
    });
    expect(described.get(targetKey(aws))).toEqual({ found: false, reason: 'not a GCE managed instance group' });
  });

  it('refuses sizes outside the bounds, a missing group, and a non-GCP target, without resizing', async () => {
    // Prepare
    add(zonal, 2);
    const groups = createMigInstanceGroups(clients, { bounds: () => ({ min: 1, max: 5 }) });
    const aws: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors' };

    // Act
    const results = await Promise.allSettled([
      groups.setDesiredSize(zonal, 6),
      groups.setDesiredSize(zonal, 0),
      groups.setDesiredSize({ ...zonal, instanceGroupManager: 'ghost' }, 1),
      groups.setDesiredSize(aws, 1),
    ]);

    // Assess
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: expect.any(CloudApiError) });
      expect(result).toMatchObject({ reason: { retryable: false } });
    }
    expect(calls('instanceGroupManagers.resize')).toBe(1);
    expect(compute.group(project, 'us-central1-a', 'executors')?.targetSize()).toBe(2);
  });

  it('reports host names and creation times, reading each zone once for every group in it', async () => {
    // Prepare
    const launched = Date.UTC(2025, 1, 27, 9, 30);
    compute.addGroup({
      project,
      region: 'europe-west1',
      name: 'executors-eu',
      targetSize: 3,
      queues: ['codeintel'],
      instances: ['a', 'b', 'c'].map((zone, index) => ({
        name: `eu-${zone}`,
        zone: `europe-west1-${zone}`,
        createdAt: launched + index * 60_000,
      })),
    });
    const zonalEu: GcpGroupTarget = { ...zonal, zone: 'europe-west1-b', instanceGroupManager: 'executors-b' };
    compute.addGroup({
      project,
      zone: 'europe-west1-b',
      name: 'executors-b',
      targetSize: 1,
      queues: ['batches'],
      instances: [{ name: 'b-only', createdAt: launched }],
    });
    const groups = createMigInstanceGroups(clients);

    // Act
    const described = await groups.describe([regional, zonalEu]);

    // Assess
    const reported = (target: GcpGroupTarget) =>
      snapshotOf(described.get(targetKey(target))).instances.map(({ id, hostname, launchedAt }) => ({
        id,
        hostname,
        launchedAt,
      }));
    expect(reported(regional)).toEqual([
      { id: 'eu-a', hostname: 'eu-a', launchedAt: launched },
      { id: 'eu-b', hostname: 'eu-b', launchedAt: launched + 60_000 },
      { id: 'eu-c', hostname: 'eu-c', launchedAt: launched + 120_000 },
    ]);
    expect(reported(zonalEu)).toEqual([{ id: 'b-only', hostname: 'b-only', launchedAt: launched }]);
    expect(calls('instances.list')).toBe(3);
  });

  it('still describes the group when creation times cannot be read', async () => {
    // Prepare
    add(zonal, 2);
    compute.emulator.injectFault({ kind: 'error', status: 500, operation: 'instances.list' });
    const groups = createMigInstanceGroups(clients);

    // Act
    const snapshot = snapshotOf((await groups.describe([zonal])).get(targetKey(zonal)));

    // Assess
    expect(snapshot.instances).toHaveLength(2);
    expect(snapshot.instances.every((i) => i.hostname !== undefined && i.launchedAt === undefined)).toBe(true);
  });

  it('removes exactly the named instances with one deleteInstances, never a resize, and holds the minimum', async () => {
    // Prepare
    add(zonal, 3);
    now += BOOT_MS;
    const groups = createMigInstanceGroups(clients, { bounds: () => ({ min: 1, max: 5 }) });
    const [first, second, third] = compute.group(project, 'us-central1-a', 'executors')?.instances() ?? [];

    // Act
    const outcomes = await groups.removeInstances(zonal, [
      third?.name ?? '',
      'ghost',
      first?.name ?? '',
      second?.name ?? '',
    ]);
    const after = compute.group(project, 'us-central1-a', 'executors');

    // Assess
    expect([...outcomes]).toEqual([
      [third?.name, { removed: true }],
      ['ghost', { removed: false, reason: 'ghost is not in the group', retryable: false }],
      [first?.name, { removed: true }],
      [second?.name, { removed: false, reason: 'the target size 1 is at the minimum 1', retryable: false }],
    ]);
    expect(after?.targetSize()).toBe(1);
    expect(after?.instances().map((vm) => [vm.name, vm.currentAction])).toEqual([
      [first?.name, 'DELETING'],
      [second?.name, 'NONE'],
      [third?.name, 'DELETING'],
    ]);
    expect(calls('instanceGroupManagers.deleteInstances')).toBe(1);
    expect(calls('instanceGroupManagers.resize')).toBe(0);
  });

  it('refuses to remove from a missing group or a non-GCP target, and protects without any request', async () => {
    // Prepare
    add(zonal, 1);
    const groups = createMigInstanceGroups(clients);
    const aws: GroupTarget = { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors' };
    const [vm] = compute.group(project, 'us-central1-a', 'executors')?.instances() ?? [];

    // Act
    const results = await Promise.allSettled([
      groups.removeInstances({ ...zonal, instanceGroupManager: 'ghost' }, ['vm']),
      groups.removeInstances(aws, ['i-1']),
      groups.protectFromScaleIn(aws, ['i-1']),
    ]);
    const before = compute.emulator.requests.length;
    await groups.protectFromScaleIn(zonal, [vm?.name ?? '']);

    // Assess
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: expect.any(CloudApiError) });
    }
    expect(results[0]).toMatchObject({ reason: { message: expect.stringMatching(/no such managed instance group/) } });
    expect(compute.emulator.requests.length).toBe(before);
    expect(compute.group(project, 'us-central1-a', 'executors')?.targetSize()).toBe(1);
  });

  it('starts no request once the signal has aborted', async () => {
    // Prepare
    add(zonal, 2);
    const groups = createMigInstanceGroups(clients);
    const signal = AbortSignal.abort(new Error('cycle budget spent'));

    // Act
    const described = await groups.describe([zonal], { signal });
    const resize = groups.setDesiredSize(zonal, 3, { signal });

    // Assess
    expect(described.get(targetKey(zonal))).toMatchObject({ found: false });
    await expect(resize).rejects.toBeInstanceOf(CloudApiError);
    expect(compute.emulator.requests).toEqual([]);
  });
});

describe('MIG adapter: VMs whose executor exited', () => {
  it('reports a stopped VM as exited, and whether the group recreates such VMs', async () => {
    // Prepare: executors that exit after one job, in a group that keeps stopped VMs and one that repairs them
    let now = Date.parse('2025-03-01T12:00:00Z');
    const world = createWorld({ clock: () => now, bootDelayMs: 1_000, retireAfterJobs: 1, jobDurationMs: 5_000 });
    const compute = await startComputeEmulator({ world });
    const clients = migClientsOf(compute);
    const keeps: GcpGroupTarget = { ...zonal, instanceGroupManager: 'keeps-stopped' };
    const repairs: GcpGroupTarget = { ...zonal, instanceGroupManager: 'repairs' };
    const spec = { project, zone: zonal.zone, targetSize: 1, queues: ['codeintel'] as const };
    compute.addGroup({
      ...spec,
      name: keeps.instanceGroupManager,
      instanceLifecyclePolicy: { defaultActionOnFailure: 'DO_NOTHING' },
    });
    compute.addGroup({ ...spec, name: repairs.instanceGroupManager });
    now += 2_000;
    world.enqueue('codeintel', 2);
    now += 6_000;
    try {
      // Act
      const described = await createMigInstanceGroups(clients).describe([keeps, repairs]);

      // Assess
      const kept = snapshotOf(described.get(targetKey(keeps)));
      expect(kept.instances.map(({ lifecycle, state }) => ({ lifecycle, state }))).toEqual([
        { lifecycle: 'exited', state: 'NONE/TERMINATED' },
      ]);
      expect(kept.recreatesExited).toBe(false);
      expect(snapshotOf(described.get(targetKey(repairs))).recreatesExited).toBe(true);
    } finally {
      await Promise.all(Object.values(clients).map((client) => client.close()));
      await compute.emulator.close();
    }
  });
});
