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
import { createWorld, type World } from '../../local/world/world.ts';

const project = 'fleetplane-test';
const zone = 'us-central1-a';
const region = 'europe-west1';
const BOOT_MS = 30_000;
const DELETE_MS = 10_000;

describe('Compute emulator with the real instance group manager clients (REST)', () => {
  let now = Date.parse('2025-03-01T12:00:00Z');
  let world: World;
  let compute: ComputeEmulator;
  let zonal: InstanceGroupManagersClient;
  let regional: RegionInstanceGroupManagersClient;
  let zoneOps: ZoneOperationsClient;
  let regionOps: RegionOperationsClient;

  beforeEach(async () => {
    world = createWorld({ clock: () => now, bootDelayMs: BOOT_MS });
    compute = await startComputeEmulator({ world, deleteDelayMs: DELETE_MS });
    const options = gcpClientOptions(compute.emulator);
    zonal = new InstanceGroupManagersClient(options);
    regional = new RegionInstanceGroupManagersClient(options);
    zoneOps = new ZoneOperationsClient(options);
    regionOps = new RegionOperationsClient(options);
  });

  afterEach(async () => {
    await Promise.all([zonal.close(), regional.close(), zoneOps.close(), regionOps.close()]);
    await compute.emulator.close();
  });

  const zonalGroup = { project, zone, instanceGroupManager: 'executors' };
  const listZonal = async () => {
    const [instances] = await zonal.listManagedInstances(zonalGroup, { autoPaginate: false });
    return instances.map((i) => ({ name: i.name, status: i.instanceStatus, action: i.currentAction }));
  };

  it('resizes up: operation, then CREATING VMs that run after the boot delay', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 0, queues: ['batches'] });

    // Act
    const [operation] = await zonal.resize({ ...zonalGroup, size: 2 });
    const [waited] = await zoneOps.wait({ project, zone, operation: operation.latestResponse.name ?? '' });
    const booting = await listZonal();
    const [duringBoot] = await zonal.get(zonalGroup);
    now += BOOT_MS / 2;
    const staging = await listZonal();
    now += BOOT_MS / 2;
    const booted = await listZonal();
    const [afterBoot] = await zonal.get(zonalGroup);

    // Assess
    expect(operation.latestResponse).toMatchObject({
      status: 'RUNNING',
      operationType: 'compute.instanceGroupManagers.resize',
    });
    expect(waited.status).toBe('DONE');
    expect(booting).toEqual([
      { name: expect.stringMatching(/^executors-[a-z0-9]{4}$/), status: 'PROVISIONING', action: 'CREATING' },
      { name: expect.stringMatching(/^executors-[a-z0-9]{4}$/), status: 'PROVISIONING', action: 'CREATING' },
    ]);
    expect(duringBoot).toMatchObject({
      targetSize: 2,
      currentActions: { creating: 2, none: 0 },
      status: { isStable: false },
    });
    expect(staging.map((i) => [i.status, i.action])).toEqual([
      ['STAGING', 'CREATING'],
      ['STAGING', 'CREATING'],
    ]);
    expect(booted.map((i) => [i.status, i.action])).toEqual([
      ['RUNNING', 'NONE'],
      ['RUNNING', 'NONE'],
    ]);
    expect(afterBoot).toMatchObject({ currentActions: { creating: 0, none: 2 }, status: { isStable: true } });
    expect(world.instances().map((i) => [i.hostname, i.state])).toEqual(booted.map((i) => [i.name, 'running']));
  });

  it('deleteInstances removes exactly the named VMs and lowers targetSize; resize down takes booting VMs first', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 3, queues: ['batches'] });
    now += BOOT_MS;
    const [first, second, third] = await listZonal();
    await zonal.resize({ ...zonalGroup, size: 4 });
    const [, , , fresh] = await listZonal();

    // Act
    await zonal.deleteInstances({
      ...zonalGroup,
      instanceGroupManagersDeleteInstancesRequestResource: {
        instances: [`zones/${zone}/instances/${second?.name}`, `zones/${zone}/instances/not-a-member`],
        skipInstancesOnValidationError: true,
      },
    });
    const deleting = await listZonal();
    await zonal.resize({ ...zonalGroup, size: 2 });
    now += DELETE_MS;
    const remaining = await listZonal();
    const [group] = await zonal.get(zonalGroup);

    // Assess
    expect(deleting.find((i) => i.name === second?.name)).toMatchObject({ status: 'STOPPING', action: 'DELETING' });
    expect(fresh?.action).toBe('CREATING');
    expect(remaining.map((i) => i.name)).toEqual([first?.name, third?.name]);
    expect(group?.targetSize).toBe(2);
  });

  it('refuses a non-member without skipInstancesOnValidationError and changes nothing', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 1, queues: ['batches'] });

    // Act
    const refused = await zonal
      .deleteInstances({
        ...zonalGroup,
        instanceGroupManagersDeleteInstancesRequestResource: { instances: [`zones/${zone}/instances/ghost`] },
      })
      .catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ code: 3, message: expect.stringMatching(/not a member/) });
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(1);
  });

  it('deleteInstances stops the VM in the world, interrupting its jobs, and its operation reads DONE on wait', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 2, queues: ['batches'] });
    now += BOOT_MS;
    const vms = await listZonal();
    const [job] = world.enqueue('batches', 1, { durationMs: 600_000 });
    const ranOn = world.jobs().find((j) => j.id === job?.id)?.executor;
    const busy = vms.find((vm) => ranOn?.startsWith(`${vm.name}-`));

    // Act
    const [operation] = await zonal.deleteInstances({
      ...zonalGroup,
      requestId: 'b1a2c3d4-0000-4000-8000-000000000001',
      instanceGroupManagersDeleteInstancesRequestResource: {
        instances: [`zones/${zone}/instances/${busy?.name}`],
      },
    });
    const [waited] = await zoneOps.wait({ project, zone, operation: operation.latestResponse.name ?? '' });
    const requeued = world.jobs().find((j) => j.id === job?.id);

    // Assess
    expect(busy).toBeDefined();
    expect(operation.latestResponse).toMatchObject({ operationType: 'compute.instanceGroupManagers.deleteInstances' });
    expect(waited.status).toBe('DONE');
    // Back in the queue, and at once taken by the VM left.
    expect(requeued).toMatchObject({ interruptions: 1, state: 'processing' });
    expect(requeued?.executor).not.toBe(ranOn);
    expect(world.instances().filter((i) => i.state === 'terminated')).toHaveLength(1);
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(1);
  });

  it('fails deleteInstances for a malformed URL, another zone, or URLs mixed with names, even when skipping validation errors', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 1, queues: ['batches'] });
    const [vm] = await listZonal();
    const attempt = (instances: string[]) =>
      zonal
        .deleteInstances({
          ...zonalGroup,
          instanceGroupManagersDeleteInstancesRequestResource: { instances, skipInstancesOnValidationError: true },
        })
        .catch((e: unknown) => e);

    // Act
    const refused = [
      await attempt([`zones/${zone}/instances/${vm?.name}`, 'zones//instances/x']),
      await attempt([`zones/us-east1-b/instances/${vm?.name}`]),
      await attempt([`zones/${zone}/instances/${vm?.name}`, 'other-vm']),
    ];

    // Assess
    expect(refused.map((e) => (e instanceof Error ? [Reflect.get(e, 'code'), e.message] : e))).toEqual([
      [3, expect.stringMatching(/malformed/)],
      [3, expect.stringMatching(/not in the zone or region/)],
      [3, expect.stringMatching(/cannot be mixed/)],
    ]);
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(1);
    expect((await listZonal()).map((i) => i.action)).toEqual(['CREATING']);
  });

  it('deletes by bare name; a VM already being deleted fails the request unless validation errors are skipped', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 3, queues: ['batches'] });
    const [first, second] = await listZonal();
    const remove = (instances: string[], skipInstancesOnValidationError?: boolean) =>
      zonal.deleteInstances({
        ...zonalGroup,
        instanceGroupManagersDeleteInstancesRequestResource: { instances, skipInstancesOnValidationError },
      });

    // Act
    await remove([first?.name ?? '']);
    const again = await remove([first?.name ?? '', second?.name ?? '']).catch((e: unknown) => e);
    await remove([first?.name ?? '', second?.name ?? ''], true);
    const [group] = await zonal.get(zonalGroup);

    // Assess
    expect(again).toMatchObject({ code: 3, message: expect.stringMatching(/already being deleted/) });
    expect(group?.targetSize).toBe(1);
    expect(group?.currentActions).toMatchObject({ deleting: 2 });
  });

  it('refuses a regional deleteInstances naming a VM outside the region', async () => {
    // Prepare
    compute.addGroup({ project, region, name: 'executors', targetSize: 2, queues: ['codeintel'] });
    const regionalGroup = { project, region, instanceGroupManager: 'executors' };

    // Act
    const refused = await regional
      .deleteInstances({
        ...regionalGroup,
        regionInstanceGroupManagersDeleteInstancesRequestResource: {
          instances: ['zones/us-central1-a/instances/elsewhere'],
          skipInstancesOnValidationError: true,
        },
      })
      .catch((e: unknown) => e);

    // Assess
    expect(refused).toMatchObject({ code: 3 });
    expect(compute.group(project, region, 'executors')?.targetSize()).toBe(2);
  });

  it('lists the VMs of every group in a zone with their creation time, by name filter and in pages', async () => {
    // Prepare
    const instances = new InstancesClient(gcpClientOptions(compute.emulator));
    compute.addGroup({
      project,
      region,
      name: 'executors',
      targetSize: 3,
      queues: ['codeintel'],
      instances: [{ name: 'seeded-vm', zone: `${region}-b`, createdAt: Date.UTC(2025, 0, 2, 3, 4, 5, 678) }],
    });
    compute.addGroup({ project, zone: `${region}-b`, name: 'zonal', targetSize: 2, queues: ['batches'] });

    // Act
    const [filtered] = await instances.list(
      { project, zone: `${region}-b`, filter: '(name = "seeded-vm") OR (name = "not-there")' },
      { autoPaginate: false },
    );
    const [all] = await instances.list({ project, zone: `${region}-b`, maxResults: 2 }, { autoPaginate: true });
    const [elsewhere] = await instances.list({ project, zone: 'us-east1-b' }, { autoPaginate: false });
    const badFilter = await instances.list({ project, zone, filter: '(name = "a") OR' }).catch((e: unknown) => e);
    await instances.close();

    // Assess
    expect(filtered).toEqual([
      expect.objectContaining({
        name: 'seeded-vm',
        creationTimestamp: '2025-01-01T19:04:05.678-08:00',
        status: 'PROVISIONING',
        zone: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${region}-b`,
      }),
    ]);
    expect(Date.parse(filtered[0]?.creationTimestamp ?? '')).toBe(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    expect(all.map((i) => i.name)).toEqual([...all.map((i) => i.name)].sort());
    expect(all).toHaveLength(3);
    expect(elsewhere).toEqual([]);
    expect(badFilter).toMatchObject({ code: 3 });
    expect(compute.emulator.requests.filter((r) => r.operation === 'instances.list')).toHaveLength(5);
  });

  it('treats a repeated requestId as the same operation', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 1, queues: ['batches'] });
    const requestId = '6f1c1b52-3f1e-4c43-9a7e-0c8f7a1d2b3c';

    // Act
    const [firstTry] = await zonal.resize({ ...zonalGroup, size: 5, requestId });
    await zonal.resize({ ...zonalGroup, size: 2 });
    const [retry] = await zonal.resize({ ...zonalGroup, size: 5, requestId });
    const badId = await zonal.resize({ ...zonalGroup, size: 5, requestId: 'not-a-uuid' }).catch((e: unknown) => e);

    // Assess
    expect(retry.latestResponse.name).toBe(firstTry.latestResponse.name);
    expect(compute.group(project, zone, 'executors')?.targetSize()).toBe(2);
    expect(badId).toMatchObject({ code: 3 });
  });

  it('serves regional groups spread over zones, with region operations', async () => {
    // Prepare
    compute.addGroup({ project, region, name: 'executors', targetSize: 0, queues: ['codeintel'] });
    const regionalGroup = { project, region, instanceGroupManager: 'executors' };

    // Act
    const [operation] = await regional.resize({ ...regionalGroup, size: 3 });
    const [waited] = await regionOps.wait({ project, region, operation: operation.latestResponse.name ?? '' });
    const [listed] = await regional.listManagedInstances(regionalGroup, { autoPaginate: false });
    const victim = listed[0]?.instance ?? '';
    await regional.deleteInstances({
      ...regionalGroup,
      regionInstanceGroupManagersDeleteInstancesRequestResource: {
        instances: [victim.replace(/^.*\/zones\//, 'zones/')],
      },
    });
    const [group] = await regional.get(regionalGroup);

    // Assess
    expect(waited.status).toBe('DONE');
    expect(listed.map((i) => i.instance?.match(/zones\/([^/]+)\//)?.[1]).sort()).toEqual([
      'europe-west1-a',
      'europe-west1-b',
      'europe-west1-c',
    ]);
    expect(group).toMatchObject({ targetSize: 2, currentActions: { deleting: 1, creating: 2 } });
  });

  it('lists an attached autoscaler, which owns the size in mode ON and refuses a resize', async () => {
    // Prepare
    const options = gcpClientOptions(compute.emulator);
    const autoscalers = new AutoscalersClient(options);
    const regionAutoscalers = new RegionAutoscalersClient(options);
    compute.addGroup({
      project,
      zone,
      name: 'executors',
      targetSize: 1,
      queues: ['batches'],
      autoscaler: { mode: 'ON', minReplicas: 1, maxReplicas: 10, recommendedSize: 4 },
    });

    // Act
    const [items] = await autoscalers.list(
      { project, zone, filter: 'target eq .*/executors' },
      { autoPaginate: false },
    );
    const [none] = await regionAutoscalers.list({ project, region }, { autoPaginate: false });
    const resize = zonal.resize({ ...zonalGroup, size: 2 });
    await expect(resize).rejects.toThrow(/autoscaled.*mode ON.*set autoscaling policy mode to OFF/);
    const [group] = await zonal.get(zonalGroup);
    await Promise.all([autoscalers.close(), regionAutoscalers.close()]);

    // Assess
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ autoscalingPolicy: { mode: 'ON' }, target: expect.stringMatching(/executors$/) });
    expect(none).toEqual([]);
    expect(group?.status?.autoscaler).toBe(items[0]?.selfLink);
    expect(group?.targetSize).toBe(4);
  });

  it('answers an unknown group with 404 and retries a 503 on get', async () => {
    // Prepare
    compute.addGroup({ project, zone, name: 'executors', targetSize: 1, queues: ['batches'] });
    compute.emulator.injectFault({ kind: 'error', status: 503, times: 1, operation: 'instanceGroupManagers.get' });

    // Act
    const [group] = await zonal.get(zonalGroup);
    const missing = await zonal.get({ ...zonalGroup, instanceGroupManager: 'nope' }).catch((e: unknown) => e);

    // Assess
    expect(group?.targetSize).toBe(1);
    expect(missing).toMatchObject({ code: 5 });
    expect(compute.emulator.requests.map((r) => r.status)).toEqual([503, 200, 404]);
  });
});
