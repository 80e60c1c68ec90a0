import {
  AutoscalersClient,
  InstanceGroupManagersClient,
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
    const options = gcpClientOptions(compute.emulator);
    clients = {
      zonal: new InstanceGroupManagersClient(options),
      regional: new RegionInstanceGroupManagersClient(options),
      zoneOperations: new ZoneOperationsClient(options),
      regionOperations: new RegionOperationsClient(options),
      autoscalers: new AutoscalersClient(options),
      regionAutoscalers: new RegionAutoscalersClient(options),
    };
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
