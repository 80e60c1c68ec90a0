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
import { PassThroughClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import type { GcpGroupTarget } from '../../../shared/domain/fleet.ts';
import type { MigClients } from '../../../shared/gcp/mig-calls.ts';
import { MAX_DELETE_PER_REQUEST, planRemoval, removeManagedInstances } from '../../../shared/gcp/mig-removal.ts';
import { CloudApiError } from '../../../shared/ports/errors.ts';

type ManagedInstance = protos.google.cloud.compute.v1.IManagedInstance;
type Operation = protos.google.cloud.compute.v1.IOperation;
type DeleteRequest = protos.google.cloud.compute.v1.IDeleteInstancesInstanceGroupManagerRequest;

const target: GcpGroupTarget = { cloud: 'gcp', project: 'p1', zone: 'us-west1-a', instanceGroupManager: 'executors' };
const url = (name: string) => `https://www.googleapis.com/compute/v1/projects/p1/zones/us-west1-a/instances/${name}`;
const running = (name: string): ManagedInstance => ({
  name,
  instance: url(name),
  currentAction: 'NONE',
  instanceStatus: 'RUNNING',
});
const googleError = (message: string, code: number, httpStatusCode: number) =>
  Object.assign(new Error(message), { code, httpStatusCode });

interface Script {
  readonly targetSize?: number;
  /** Each listManagedInstances answers the next list; the last one repeats. */
  readonly lists: readonly ManagedInstance[][];
  readonly deleteInstances?: () => Promise<unknown>;
  /** Each wait answers the next operation, or throws it when it is an Error. */
  readonly waits?: readonly (Operation | Error)[];
}

/** Real clients that never reach the network: the zonal group and zone operations answer as scripted. */
function scripted(script: Script) {
  const options = { fallback: true, authClient: new PassThroughClient() };
  const deletes: DeleteRequest[] = [];
  const lists = [...script.lists];
  const waits = [...(script.waits ?? [{ status: 'DONE' }])];
  const stub = <T extends object>(client: T, methods: Record<string, (request: never) => Promise<unknown>>): T =>
    new Proxy(client, {
      get: (real, property) =>
        typeof property === 'string' && property in methods ? methods[property] : Reflect.get(real, property, real),
    });
  const clients: MigClients = {
    zonal: stub(new InstanceGroupManagersClient(options), {
      get: async () => [{ targetSize: script.targetSize ?? 3 }],
      listManagedInstances: async () => [(lists.length > 1 ? lists.shift() : lists[0]) ?? []],
      deleteInstances: async (request: DeleteRequest) => {
        deletes.push(request);
        return script.deleteInstances === undefined
          ? [{ latestResponse: { name: 'op-1', status: 'RUNNING' } }]
          : script.deleteInstances();
      },
    }),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations: stub(new ZoneOperationsClient(options), {
      wait: async () => {
        const next = waits.length > 1 ? waits.shift() : waits[0];
        if (next instanceof Error) {
          throw next;
        }
        return [next ?? {}];
      },
    }),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
  return { clients, deletes };
}

describe('planRemoval', () => {
  it('answers per instance in the order asked: unknown, leaving and URL-less instances are refused for good', () => {
    // Prepare
    const members = [
      running('vm-a'),
      { ...running('vm-b'), currentAction: 'DELETING' },
      { ...running('vm-c'), currentAction: 'ABANDONING' },
      { name: 'vm-d', currentAction: 'CREATING' },
      running('vm-e'),
    ];

    // Act
    const plan = planRemoval(members, ['vm-x', 'vm-a', 'vm-b', 'vm-c', 'vm-d', 'vm-e', 'vm-a'], 5, 0);

    // Assess
    expect(plan.chosen).toEqual([
      { id: 'vm-a', url: url('vm-a') },
      { id: 'vm-e', url: url('vm-e') },
    ]);
    expect(Object.fromEntries(plan.refused)).toEqual({
      'vm-x': { removed: false, reason: 'vm-x is not in the group', retryable: false },
      'vm-b': { removed: false, reason: 'vm-b is already leaving the group (DELETING)', retryable: false },
      'vm-c': { removed: false, reason: 'vm-c is already leaving the group (ABANDONING)', retryable: false },
      'vm-d': { removed: false, reason: 'vm-d has no instance URL yet', retryable: false },
    });
  });

  it('refuses, not retryable, every removal that would take the target size below the minimum', () => {
    // Act
    const plan = planRemoval(['vm-a', 'vm-b', 'vm-c'].map(running), ['vm-a', 'vm-b', 'vm-c'], 3, 2);

    // Assess
    expect(plan.chosen.map(({ id }) => id)).toEqual(['vm-a']);
    expect(Object.fromEntries(plan.refused)).toEqual({
      'vm-b': { removed: false, reason: 'the target size 2 is at the minimum 2', retryable: false },
      'vm-c': { removed: false, reason: 'the target size 2 is at the minimum 2', retryable: false },
    });
  });

  it('leaves what one request cannot take for a later call, as retryable', () => {
    // Prepare
    const names = Array.from({ length: MAX_DELETE_PER_REQUEST + 1 }, (_, index) => `vm-${index}`);

    // Act
    const plan = planRemoval(names.map(running), names, names.length, 0);

    // Assess
    expect(plan.chosen).toHaveLength(MAX_DELETE_PER_REQUEST);
    expect(plan.refused.get(`vm-${MAX_DELETE_PER_REQUEST}`)).toMatchObject({ removed: false, retryable: true });
  });
});

describe('removeManagedInstances', () => {
  it('deletes the chosen instances by URL in one request that skips validation errors, and reports each', async () => {
    // Prepare
    const { clients, deletes } = scripted({ targetSize: 3, lists: [['vm-a', 'vm-b', 'vm-c'].map(running)] });

    // Act
    const report = await removeManagedInstances(clients, { target, instanceIds: ['vm-a', 'vm-x', 'vm-c'], min: 0 });

    // Assess
    expect([...report.outcomes]).toEqual([
      ['vm-a', { removed: true }],
      ['vm-x', { removed: false, reason: 'vm-x is not in the group', retryable: false }],
      ['vm-c', { removed: true }],
    ]);
    expect(report.operation).toBe('op-1');
    expect(deletes).toEqual([
      {
        project: 'p1',
        zone: 'us-west1-a',
        instanceGroupManager: 'executors',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        instanceGroupManagersDeleteInstancesRequestResource: {
          instances: [url('vm-a'), url('vm-c')],
          skipInstancesOnValidationError: true,
        },
      },
    ]);
  });

  it('sends nothing when every instance is refused', async () => {
    // Prepare
    const { clients, deletes } = scripted({ targetSize: 1, lists: [[running('vm-a')]] });

    // Act
    const report = await removeManagedInstances(clients, { target, instanceIds: ['vm-a'], min: 1 });

    // Assess
    expect(report.outcomes.get('vm-a')).toMatchObject({ removed: false, retryable: false });
    expect(deletes).toEqual([]);
  });

  it('answers retryable for every instance sent when the request is throttled or the group is busy', async () => {
    // Prepare
    const throttled = scripted({
      lists: [[running('vm-a')]],
      deleteInstances: async () => {
        throw googleError('Quota exceeded for quota metric', 8, 429);
      },
    });
    const busy = scripted({
      lists: [[running('vm-a')]],
      waits: [
        {
          status: 'DONE',
          httpErrorStatusCode: 400,
          error: { errors: [{ code: 'RESOURCE_NOT_READY', message: "The resource 'executors' is not ready" }] },
        },
      ],
    });

    // Act
    const outcomes = await Promise.all(
      [throttled, busy].map(({ clients }) =>
        removeManagedInstances(clients, { target, instanceIds: ['vm-a'], min: 0 }),
      ),
    );

    // Assess
    expect(outcomes.map((report) => report.outcomes.get('vm-a'))).toEqual([
      { removed: false, reason: expect.stringMatching(/^throttled/), retryable: true },
      { removed: false, reason: expect.stringMatching(/op-1 failed: RESOURCE_NOT_READY/), retryable: true },
    ]);
  });

  it('answers not retryable for an operation refused for good', async () => {
    // Prepare
    const { clients } = scripted({
      lists: [[running('vm-a')]],
      waits: [
        {
          status: 'DONE',
          httpErrorStatusCode: 403,
          error: { errors: [{ code: 'PERMISSION_DENIED', message: 'Required compute.instances.delete' }] },
        },
      ],
    });

    // Act
    const report = await removeManagedInstances(clients, { target, instanceIds: ['vm-a'], min: 0 });

    // Assess
    expect(report.outcomes.get('vm-a')).toEqual({
      removed: false,
      reason: 'operation op-1 failed: PERMISSION_DENIED: Required compute.instances.delete',
      retryable: false,
    });
  });

  it('reads the group again while the operation runs: leaving instances are removed, the others retryable', async () => {
    // Prepare
    const { clients } = scripted({
      lists: [
        [running('vm-a'), running('vm-b')],
        [{ ...running('vm-a'), currentAction: 'DELETING' }, running('vm-b')],
      ],
      waits: [{ status: 'RUNNING' }],
    });

    // Act
    const report = await removeManagedInstances(clients, { target, instanceIds: ['vm-a', 'vm-b'], min: 0 });

    // Assess
    expect(Object.fromEntries(report.outcomes)).toEqual({
      'vm-a': { removed: true },
      'vm-b': { removed: false, reason: 'operation op-1 is still RUNNING', retryable: true },
    });
  });

  it('counts an instance gone from the group after a failed wait as removed', async () => {
    // Prepare
    const { clients } = scripted({
      lists: [[running('vm-a'), running('vm-b')], [running('vm-b')]],
      waits: [googleError('socket hang up', 14, 503)],
    });

    // Act
    const report = await removeManagedInstances(clients, { target, instanceIds: ['vm-a', 'vm-b'], min: 0 });

    // Assess
    expect(report.outcomes.get('vm-a')).toEqual({ removed: true });
    expect(report.outcomes.get('vm-b')).toEqual({
      removed: false,
      reason: expect.stringMatching(/^waiting for operation op-1 failed: socket hang up/),
      retryable: true,
    });
  });

  it.each([
    ['a missing group', googleError('not found', 5, 404), /no such managed instance group/, false],
    ['a permission error', googleError('Required compute.instanceGroupManagers.update', 7, 403), /403/, false],
    ['a server fault', googleError('Internal error', 13, 500), /500/, true],
  ])('throws CloudApiError when the request fails with %s', async (_, error, message, retryable) => {
    // Prepare
    const { clients } = scripted({
      lists: [[running('vm-a')]],
      deleteInstances: async () => {
        throw error;
      },
    });

    // Act
    const removal = removeManagedInstances(clients, { target, instanceIds: ['vm-a'], min: 0 });

    // Assess
    await expect(removal).rejects.toBeInstanceOf(CloudApiError);
    await expect(removal).rejects.toMatchObject({ message: expect.stringMatching(message), retryable });
  });
});
