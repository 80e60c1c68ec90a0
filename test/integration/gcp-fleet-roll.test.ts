import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  type protos,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ComputeEmulator, startComputeEmulator } from '../../local/gcp/compute.ts';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { createWorld, type World } from '../../local/world/world.ts';
import type { GcpGroupTarget } from '../../shared/domain/fleet.ts';
import { DEFAULT_ROLL } from '../../shared/domain/roll.ts';
import type { MigClients } from '../../shared/gcp/mig-calls.ts';
import {
  createMigFleetRoller,
  limitsFor,
  rollVersionName,
  rollVersionNames,
} from '../../shared/gcp/mig-fleet-roller.ts';
import { CloudApiError } from '../../shared/ports/errors.ts';
import type { RollSettings } from '../../shared/ports/fleet-roll.ts';

type UpdatePolicy = protos.google.cloud.compute.v1.IInstanceGroupManagerUpdatePolicy;

const project = 'fleetplane-test';
const zone = 'us-central1-a';
const region = 'europe-west1';
const BOOT_MS = 30_000;
const DELETE_MS = 10_000;
const TEMPLATE = `https://www.googleapis.com/compute/v1/projects/${project}/global/instanceTemplates/executors-template`;
const ONE_AT_A_TIME: RollSettings = { maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } };

let now = Date.parse('2025-03-01T12:00:00Z');
let world: World;
let compute: ComputeEmulator;
let clients: MigClients;

beforeEach(async () => {
  world = createWorld({ clock: () => now, bootDelayMs: BOOT_MS });
  compute = await startComputeEmulator({ world, deleteDelayMs: DELETE_MS });
  const options = gcpClientOptions(compute.emulator);
  clients = {
    zonal: new InstanceGroupManagersClient(options),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
});

afterEach(async () => {
  await Promise.all(Object.values(clients).map((client) => client.close()));
  await compute.emulator.close();
});

const zonalGroup = { project, zone, instanceGroupManager: 'executors' };
const regionalGroup = { project, region, instanceGroupManager: 'executors' };
const zonalTarget: GcpGroupTarget = { cloud: 'gcp', ...zonalGroup };
const regionalTarget: GcpGroupTarget = { cloud: 'gcp', ...regionalGroup };

/** A group of `size` VMs, all booted. */
function addRunningGroup(size: number, scope: { zone: string } | { region: string } = { zone }) {
  compute.addGroup({ project, name: 'executors', targetSize: size, queues: ['batches'], ...scope });
  now += BOOT_MS;
}

/** What gcloud's rolling-action replace sends: every version renamed, a PROACTIVE REPLACE policy. */
async function patchZonal(name: string, updatePolicy: UpdatePolicy) {
  const [operation] = await clients.zonal.patch({
    ...zonalGroup,
    instanceGroupManagerResource: { versions: [{ name, instanceTemplate: TEMPLATE }], updatePolicy },
  });
  return operation.latestResponse;
}
const replacePolicy = (limits: UpdatePolicy): UpdatePolicy => ({
  type: 'PROACTIVE',
  minimalAction: 'REPLACE',
  ...limits,
});

async function listZonal() {
  const [instances] = await clients.zonal.listManagedInstances(zonalGroup);
  return instances.map((i) => ({
    name: i.name ?? '',
    status: i.instanceStatus,
    action: i.currentAction,
    version: i.version?.name,
  }));
}

/**
 * Looks at the group every `stepMs` until its version target is reached, checking the update's limits at each look:
 * at least `minAvailable` VMs RUNNING and idle, at most `maxLive` not being deleted.
 */
async function rollUntilReached(stepMs: number, minAvailable: number, maxLive: number): Promise<number> {
  for (let looks = 1; looks <= 200; looks++) {
    const instances = await listZonal();
    const available = instances.filter((i) => i.status === 'RUNNING' && i.action === 'NONE').length;
    expect(available).toBeGreaterThanOrEqual(minAvailable);
    expect(instances.filter((i) => i.action !== 'DELETING').length).toBeLessThanOrEqual(maxLive);
    const [group] = await clients.zonal.get(zonalGroup);
    if (group.status?.versionTarget?.isReached) {
      return looks;
    }
    now += stepMs;
  }
  throw new Error('the roll never finished');
}

describe('Compute emulator: rolling replace through instanceGroupManagers.patch', () => {
  it('maxUnavailable 1, maxSurge 0: deletes one VM, boots its replacement, then the next, keeping the size', async () => {
    // Prepare
    addRunningGroup(3);
    const before = await listZonal();

    // Act
    const operation = await patchZonal('r1', replacePolicy({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 1 } }));
    const [waited] = await clients.zoneOperations.wait({ project, zone, operation: operation.name ?? '' });
    const first = await listZonal();
    const [patched] = await clients.zonal.get(zonalGroup);
    await rollUntilReached(5_000, 2, 3);
    // Reached once the last old VM is gone; its replacement, created as it was deleted, is still booting.
    now += BOOT_MS;
    const after = await listZonal();
    const [done] = await clients.zonal.get(zonalGroup);

    // Assess
    expect(operation).toMatchObject({ status: 'RUNNING', operationType: 'compute.instanceGroupManagers.patch' });
    expect(waited.status).toBe('DONE');
    expect(patched).toMatchObject({
      versions: [{ name: 'r1', instanceTemplate: TEMPLATE, targetSize: { calculated: 3 } }],
      updatePolicy: {
        type: 'PROACTIVE',
        minimalAction: 'REPLACE',
        replacementMethod: 'SUBSTITUTE',
        maxSurge: { fixed: 0, calculated: 0 },
        maxUnavailable: { fixed: 1, calculated: 1 },
      },
      status: { versionTarget: { isReached: false } },
    });
    expect(first.filter((i) => i.action === 'DELETING')).toHaveLength(1);
    expect(first.filter((i) => i.action === 'CREATING').map((i) => i.version)).toEqual(['r1']);
    expect(after).toHaveLength(3);
    expect(after.every((i) => i.version === 'r1' && i.status === 'RUNNING')).toBe(true);
    expect(after.map((i) => i.name).filter((name) => before.some((old) => old.name === name))).toEqual([]);
    expect(done).toMatchObject({ targetSize: 3, status: { isStable: true, versionTarget: { isReached: true } } });
    expect(world.instances().filter((i) => i.state === 'terminated')).toHaveLength(3);
  });

  it('maxSurge 1, maxUnavailable 0: creates a VM above the size first and deletes an old one once it runs', async () => {
    // Prepare
    addRunningGroup(3);

    // Act
    await patchZonal('r1', replacePolicy({ maxSurge: { fixed: 1 }, maxUnavailable: { fixed: 0 } }));
    const first = await listZonal();
    const looks = await rollUntilReached(5_000, 3, 4);

    // Assess
    expect(first.map((i) => i.action).sort()).toEqual(['CREATING', 'NONE', 'NONE', 'NONE']);
    expect(looks).toBeGreaterThan(3);
  });

  it('progresses in simulated time however rarely the group is looked at', async () => {
    // Prepare
    addRunningGroup(3);

    // Act: one VM at a time takes a deletion (10 s) and a boot (30 s), started together: 3 × 30 s.
    await patchZonal('r1', replacePolicy({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 1 } }));
    now += 3 * BOOT_MS + 1;
    const [group] = await clients.zonal.get(zonalGroup);
    const instances = await listZonal();

    // Assess
    expect(group.status?.versionTarget?.isReached).toBe(true);
    expect(instances.map((i) => [i.version, i.status, i.action])).toEqual(Array(3).fill(['r1', 'RUNNING', 'NONE']));
  });

  it('a later patch with another version name supersedes the roll under way', async () => {
    // Prepare
    addRunningGroup(3);
    await patchZonal('r1', replacePolicy({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 1 } }));
    now += BOOT_MS;

    // Act
    await patchZonal('r2', {});
    now += 4 * BOOT_MS;
    const instances = await listZonal();

    // Assess
    expect(instances.map((i) => i.version)).toEqual(['r2', 'r2', 'r2']);
  });

  it('OPPORTUNISTIC: a new version name replaces nothing, only VMs created afterwards run it', async () => {
    // Prepare
    addRunningGroup(2);

    // Act
    await patchZonal('r1', { type: 'OPPORTUNISTIC' });
    await clients.zonal.resize({ ...zonalGroup, size: 3 });
    now += 10 * BOOT_MS;
    const instances = await listZonal();
    const [group] = await clients.zonal.get(zonalGroup);

    // Assess
    expect(instances.map((i) => i.version ?? null)).toEqual([null, null, 'r1']);
    expect(group.status?.versionTarget?.isReached).toBe(false);
  });

  it('regional: fixed limits of 0 or at least the zone count; the replacements land in the zones emptied', async () => {
    // Prepare
    addRunningGroup(3, { region });
    const patch = (updatePolicy: UpdatePolicy) =>
      clients.regional.patch({
        ...regionalGroup,
        instanceGroupManagerResource: { versions: [{ name: 'r1', instanceTemplate: TEMPLATE }], updatePolicy },
      });

    // Act
    const tooFew = await patch(replacePolicy({ maxUnavailable: { fixed: 1 }, maxSurge: { fixed: 0 } })).catch(
      (e: unknown) => e,
    );
    const percent = await patch(replacePolicy({ maxUnavailable: { percent: 50 }, maxSurge: { fixed: 0 } })).catch(
      (e: unknown) => e,
    );
    await patch(replacePolicy({ maxUnavailable: { fixed: 0 }, maxSurge: { fixed: 3 } }));
    const [surging] = await clients.regional.listManagedInstances(regionalGroup);
    now += 2 * BOOT_MS + DELETE_MS;
    const [instances] = await clients.regional.listManagedInstances(regionalGroup);

    // Assess
    expect(tooFew).toMatchObject({
      code: 3,
      message: expect.stringContaining(
        "Invalid value for field 'resource.updatePolicy.maxUnavailable.fixed': '1'. Fixed updatePolicy.maxUnavailable for regional managed instance group has to be either 0 or at least equal to the number of zones.",
      ),
    });
    expect(percent).toMatchObject({ code: 3, message: expect.stringMatching(/only allowed .* size at least 10/) });
    expect(surging).toHaveLength(6);
    expect(instances.map((i) => [i.version?.name, i.instanceStatus])).toEqual(Array(3).fill(['r1', 'RUNNING']));
    expect(new Set(instances.map((i) => i.instance?.split('/')[8]))).toEqual(
      new Set(['europe-west1-a', 'europe-west1-b', 'europe-west1-c']),
    );
  });

  it.each([
    [
      'both limits zero',
      { maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 0 } },
      /At least one of maxSurge or maxUnavailable must be greater than 0/,
    ],
    [
      'a surge with RECREATE',
      { replacementMethod: 'RECREATE', maxSurge: { fixed: 1 }, maxUnavailable: { fixed: 1 } },
      /'resource\.updatePolicy\.maxSurge': '\{ {2}"fixed": 1\}'\. maxSurge must be equal to 0 when replacement method is set to RECREATE/,
    ],
    ['fixed and percent at once', { maxSurge: { fixed: 1, percent: 10 } }, /Only one of fixed or percent/],
    ['an unknown type', { type: 'EVENTUALLY' }, /'resource\.updatePolicy\.type': 'EVENTUALLY'/],
  ])('refuses an update policy with %s, and the group is left as it was', async (_, limits, message) => {
    // Prepare
    addRunningGroup(2);

    // Act
    const refused = await patchZonal('r1', replacePolicy(limits)).catch((e: unknown) => e);
    const [group] = await clients.zonal.get(zonalGroup);

    // Assess
    expect(refused).toMatchObject({ code: 3, message: expect.stringMatching(message) });
    expect(group.versions?.[0]?.name ?? null).toBeNull();
    expect(group.updatePolicy?.type).toBe('OPPORTUNISTIC');
  });
});

describe('MIG fleet roller over the Compute emulator (real clients, REST)', () => {
  it('zonal, one at a time: never rolled, started, already started, then succeeded with every VM new', async () => {
    // Prepare
    addRunningGroup(3);
    const roller = createMigFleetRoller(clients);
    const originals =
      compute
        .group(project, zone, 'executors')
        ?.instances()
        .map((vm) => vm.name) ?? [];
    const request = { name: '3f1c1c9e-5d0b-4a4e-9a51-0c1f3a7d2b10', settings: ONE_AT_A_TIME };

    // Act
    const never = await roller.latest(zonalTarget);
    const started = await roller.start(zonalTarget, request);
    now += BOOT_MS + 1;
    const midway = await roller.latest(zonalTarget);
    const again = await roller.start(zonalTarget, request);
    now += 3 * BOOT_MS;
    const finished = await roller.latest(zonalTarget);
    const afterwards = await roller.start(zonalTarget, request);
    const members = compute.group(project, zone, 'executors')?.instances() ?? [];

    // Assess
    const id = `fleetplane-${request.name}`;
    expect(never).toBeUndefined();
    expect(started).toEqual({
      started: true,
      roll: { id, state: 'in-progress', remaining: 3, percentComplete: 0 },
    });
    expect(midway).toEqual({ id, state: 'in-progress', remaining: 2, percentComplete: 33 });
    expect(again).toEqual({ started: false, why: 'already-started', roll: midway });
    expect(finished).toEqual({ id, state: 'succeeded', remaining: 0, percentComplete: 100 });
    expect(afterwards).toEqual({ started: false, why: 'already-started', roll: finished });
    expect(members).toHaveLength(3);
    expect(members.filter((vm) => originals.includes(vm.name))).toEqual([]);
  });

  it('answers busy while a foreign rolling update runs, and starts a new roll once it is done', async () => {
    // Prepare
    addRunningGroup(2);
    const roller = createMigFleetRoller(clients);
    const foreign = '0/2025-03-01 12:00:30.123456+00:00';
    await patchZonal(foreign, replacePolicy({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 1 } }));

    // Act
    const busy = await roller.start(zonalTarget, { name: 'rotation-2', settings: ONE_AT_A_TIME });
    now += 4 * BOOT_MS;
    const foreignDone = await roller.latest(zonalTarget);
    const started = await roller.start(zonalTarget, { name: 'rotation-2', settings: ONE_AT_A_TIME });

    // Assess
    expect(busy).toEqual({
      started: false,
      why: 'busy',
      roll: { id: foreign, state: 'in-progress', remaining: 2, percentComplete: 0 },
    });
    expect(foreignDone).toMatchObject({ id: foreign, state: 'succeeded' });
    expect(started).toMatchObject({ started: true, roll: { id: 'fleetplane-rotation-2', state: 'in-progress' } });
  });

  it('regional, with a surge of one VM per zone: the roll replaces every VM and keeps the size', async () => {
    // Prepare
    addRunningGroup(6, { region });
    const roller = createMigFleetRoller(clients);
    const settings: RollSettings = { maxUnavailable: { fixed: 0 }, maxSurge: { fixed: 3 } };

    // Act
    const started = await roller.start(regionalTarget, { name: 'r', settings });
    now += 2 * BOOT_MS + DELETE_MS;
    const finished = await roller.latest(regionalTarget);
    const [group] = await clients.regional.get(regionalGroup);

    // Assess
    expect(started).toMatchObject({ started: true, roll: { remaining: 6 } });
    expect(finished).toEqual({ id: 'fleetplane-r', state: 'succeeded', remaining: 0, percentComplete: 100 });
    expect(group).toMatchObject({ targetSize: 6, updatePolicy: { replacementMethod: 'SUBSTITUTE' } });
  });

  it('keeps a canary group’s templates and target sizes, naming each version apart', async () => {
    // Prepare
    addRunningGroup(4);
    const canary = `https://www.googleapis.com/compute/v1/projects/${project}/global/instanceTemplates/canary`;
    await clients.zonal.patch({
      ...zonalGroup,
      instanceGroupManagerResource: {
        versions: [{ instanceTemplate: TEMPLATE }, { instanceTemplate: canary, targetSize: { fixed: 1 } }],
      },
    });
    const roller = createMigFleetRoller(clients);

    // Act
    const started = await roller.start(zonalTarget, { name: 'r', settings: ONE_AT_A_TIME });
    now += 10 * BOOT_MS;
    const finished = await roller.latest(zonalTarget);
    const [group] = await clients.zonal.get(zonalGroup);
    const instances = await listZonal();

    // Assess
    expect(started).toMatchObject({ roll: { id: 'fleetplane-r-0,fleetplane-r-1', remaining: 4 } });
    expect(finished).toMatchObject({ state: 'succeeded', remaining: 0 });
    expect(group.versions?.map((v) => [v.name, v.instanceTemplate, v.targetSize?.fixed ?? null])).toEqual([
      ['fleetplane-r-0', TEMPLATE, null],
      ['fleetplane-r-1', canary, 1],
    ]);
    expect(instances.map((i) => i.version).sort()).toEqual([
      'fleetplane-r-0',
      'fleetplane-r-0',
      'fleetplane-r-0',
      'fleetplane-r-1',
    ]);
  });

  it('a throttled patch is a retryable CloudApiError, and the roll starts on the next try', async () => {
    // Prepare
    addRunningGroup(2);
    const roller = createMigFleetRoller(clients);
    compute.emulator.injectFault({ kind: 'throttle', operation: 'instanceGroupManagers.patch', times: 1 });

    // Act
    const throttled = await roller.start(zonalTarget, { name: 'r', settings: ONE_AT_A_TIME }).catch((e: unknown) => e);
    const retried = await roller.start(zonalTarget, { name: 'r', settings: ONE_AT_A_TIME });

    // Assess
    expect(throttled).toBeInstanceOf(CloudApiError);
    expect(throttled).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/^startRoll: .*Quota exceeded/),
    });
    expect(retried).toMatchObject({ started: true });
  });

  it('rolls a small regional group by rounding its limits up to the zone count Compute insists on', async () => {
    // Prepare
    addRunningGroup(3, { region });
    const roller = createMigFleetRoller(clients);

    // Act
    const start = await roller.start(regionalTarget, { name: 'r', settings: ONE_AT_A_TIME });

    // Assess
    expect(start).toMatchObject({ started: true });
    expect(limitsFor(ONE_AT_A_TIME, 3, 3)).toEqual({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 3 } });
    expect(limitsFor(DEFAULT_ROLL, 2, 1)).toEqual({ maxSurge: { fixed: 0 }, maxUnavailable: { fixed: 2 } });
    expect(limitsFor({ maxUnavailable: { percent: 10 }, maxSurge: { fixed: 0 } }, 3, 1)).toEqual({
      maxSurge: { fixed: 0 },
      maxUnavailable: { fixed: 1 },
    });
  });

  it('a missing group is a non-retryable CloudApiError', async () => {
    // Prepare
    const roller = createMigFleetRoller(clients);
    const missing: GcpGroupTarget = { ...zonalTarget, instanceGroupManager: 'nope' };

    // Act
    const errors = await Promise.all([
      roller.latest(missing).catch((e: unknown) => e),
      roller.start(missing, { name: 'r', settings: ONE_AT_A_TIME }).catch((e: unknown) => e),
    ]);

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(CloudApiError);
      expect(error).toMatchObject({ retryable: false });
    }
    expect(errors.map((error) => (error instanceof Error ? error.message : ''))).toEqual([
      expect.stringMatching(/^latestRoll: no managed instance group named nope in zone us-central1-a/),
      expect.stringMatching(/^startRoll: no managed instance group named nope/),
    ]);
  });
});

describe('roll version names', () => {
  it('keep a rotation id as it is, and turn anything else into a short, safe, distinct name', () => {
    // Prepare
    const uuid = '3f1c1c9e-5d0b-4a4e-9a51-0c1f3a7d2b10';
    const odd = ['Rotation 2025/03', 'rotation 2025/03', 'x'.repeat(200)];

    // Act
    const names = odd.map(rollVersionName);

    // Assess
    expect(rollVersionName(uuid)).toBe(`fleetplane-${uuid}`);
    expect(rollVersionNames(uuid, 2)).toEqual([`fleetplane-${uuid}-0`, `fleetplane-${uuid}-1`]);
    expect(names.every((name) => /^fleetplane-[a-z0-9-]+$/.test(name) && name.length <= 58)).toBe(true);
    expect(new Set(names).size).toBe(3);
    expect(odd.map(rollVersionName)).toEqual(names);
  });
});
