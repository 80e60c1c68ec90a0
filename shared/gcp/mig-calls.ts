import type {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  protos,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import type { GcpGroupTarget } from '../domain/fleet.ts';
import { quoted } from './filter-value.ts';

/**
 * The Compute calls the MIG adapter makes, one function per call that picks the zonal or the regional client: the two
 * APIs are the same but for `zone`/`region` and their clients' request types. Every call takes the cycle's signal
 * (gax cancels the HTTP request) and checks it first, so a spent deadline starts nothing.
 */

export interface MigClients {
  readonly zonal: InstanceGroupManagersClient;
  readonly regional: RegionInstanceGroupManagersClient;
  readonly zoneOperations: ZoneOperationsClient;
  readonly regionOperations: RegionOperationsClient;
  readonly autoscalers: AutoscalersClient;
  readonly regionAutoscalers: RegionAutoscalersClient;
  /** Zonal `instances.list`, for what managed instance lists leave out (creation times). */
  readonly instances: InstancesClient;
}

export type InstanceGroupManager = protos.google.cloud.compute.v1.IInstanceGroupManager;
export type ManagedInstance = protos.google.cloud.compute.v1.IManagedInstance;
export type ComputeOperation = protos.google.cloud.compute.v1.IOperation;
export type ComputeInstance = protos.google.cloud.compute.v1.IInstance;

/** `zone us-west1-a` or `region europe-west1`, for messages. */
export const locationOf = (target: GcpGroupTarget): string =>
  target.zone === undefined ? `region ${target.region}` : `zone ${target.zone}`;

export async function getGroup(clients: MigClients, target: GcpGroupTarget, signal?: AbortSignal) {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const [group] =
    target.zone === undefined
      ? await clients.regional.get({ project, region: target.region, instanceGroupManager }, { signal })
      : await clients.zonal.get({ project, zone: target.zone, instanceGroupManager }, { signal });
  return group;
}

/**
 * The id fleetplane gives a managed instance: its name, which is unique in the group and the VM's host name. Older
 * answers without a name still carry the instance URL, whose last segment is the name.
 */
export function managedInstanceName(instance: ManagedInstance): string | undefined {
  return instance.name || instance.instance?.split('/').at(-1) || undefined;
}

/** The zone a managed instance's VM lives in, from its URL (`…/zones/us-west1-a/instances/vm`). */
export function managedInstanceZone(instance: ManagedInstance): string | undefined {
  return /\/zones\/([^/]+)\/instances\/[^/]+$/.exec(instance.instance ?? '')?.[1];
}

/** Every page: `autoPaginate` follows `nextPageToken` (PAGINATED groups); PAGELESS groups answer in one. */
export async function listInstances(clients: MigClients, target: GcpGroupTarget, signal?: AbortSignal) {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const options = { autoPaginate: true, signal };
  const [instances] =
    target.zone === undefined
      ? await clients.regional.listManagedInstances({ project, region: target.region, instanceGroupManager }, options)
      : await clients.zonal.listManagedInstances({ project, zone: target.zone, instanceGroupManager }, options);
  return instances;
}

/** The autoscaler named `name` in the group's location, or undefined when it is gone. */
export async function findAutoscaler(clients: MigClients, target: GcpGroupTarget, name: string, signal?: AbortSignal) {
  signal?.throwIfAborted();
  const { project } = target;
  const request = { project, filter: `name = ${quoted(name)}` };
  const options = { autoPaginate: true, signal };
  const [items] =
    target.zone === undefined
      ? await clients.regionAutoscalers.list({ ...request, region: target.region }, options)
      : await clients.autoscalers.list({ ...request, zone: target.zone }, options);
  return items.find((item) => item.name === name);
}

/**
 * Starts a resize and returns its operation's name. `requestId` makes a retry of this very request (by gax or a
 * proxy) a no-op for an hour instead of a second resize.
 */
export async function startResize(
  clients: MigClients,
  target: GcpGroupTarget,
  size: number,
  requestId: string,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const request = { project, instanceGroupManager, size, requestId };
  const [operation] =
    target.zone === undefined
      ? await clients.regional.resize({ ...request, region: target.region }, { signal })
      : await clients.zonal.resize({ ...request, zone: target.zone }, { signal });
  return operationName(operation, 'resize');
}

/**
 * Starts deleting exactly these instances (URLs as `listManagedInstances` reports them), which also lowers the target
 * size by as many, and returns the operation's name. `skipInstancesOnValidationError`: an instance that left the
 * group or is already leaving since it was listed is skipped instead of failing the request for all the others.
 */
export async function startDeleteInstances(
  clients: MigClients,
  target: GcpGroupTarget,
  instanceUrls: readonly string[],
  requestId: string,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const body = { instances: [...instanceUrls], skipInstancesOnValidationError: true };
  const [operation] =
    target.zone === undefined
      ? await clients.regional.deleteInstances(
          {
            project,
            region: target.region,
            instanceGroupManager,
            requestId,
            regionInstanceGroupManagersDeleteInstancesRequestResource: body,
          },
          { signal },
        )
      : await clients.zonal.deleteInstances(
          {
            project,
            zone: target.zone,
            instanceGroupManager,
            requestId,
            instanceGroupManagersDeleteInstancesRequestResource: body,
          },
          { signal },
        );
  return operationName(operation, 'deleteInstances');
}

/** Starts `recreateInstances` (a fresh VM under each name, the target size unchanged); answers the operation's name. */
export async function startRecreateInstances(
  clients: MigClients,
  target: GcpGroupTarget,
  instanceUrls: readonly string[],
  requestId: string,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const body = { instances: [...instanceUrls] };
  const [operation] =
    target.zone === undefined
      ? await clients.regional.recreateInstances(
          {
            project,
            region: target.region,
            instanceGroupManager,
            requestId,
            regionInstanceGroupManagersRecreateRequestResource: body,
          },
          { signal },
        )
      : await clients.zonal.recreateInstances(
          {
            project,
            zone: target.zone,
            instanceGroupManager,
            requestId,
            instanceGroupManagersRecreateInstancesRequestResource: body,
          },
          { signal },
        );
  return operationName(operation, 'recreateInstances');
}

/** The named instances of one zone, all pages; the filter keeps the answer to them (`(name = "a") OR (name = "b")`). */
export async function listZoneInstances(
  clients: MigClients,
  project: string,
  zone: string,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<ComputeInstance[]> {
  signal?.throwIfAborted();
  const filter = names.map((name) => `(name = ${quoted(name)})`).join(' OR ');
  const [instances] = await clients.instances.list({ project, zone, filter }, { autoPaginate: true, signal });
  return instances;
}

/** gax answers a Compute mutation with an LRO wrapper whose `latestResponse` is the Compute operation. */
function operationName(
  operation: { readonly latestResponse?: { readonly name?: string | null } | null; readonly name?: string | null },
  method: string,
): string {
  const name = operation.latestResponse?.name ?? operation.name;
  if (!name) {
    throw new Error(`the ${method} answer named no operation`);
  }
  return name;
}

/** One `operations.wait`: returns when the operation is DONE or after about two minutes, whichever is first. */
export async function waitOperation(
  clients: MigClients,
  target: GcpGroupTarget,
  operation: string,
  signal?: AbortSignal,
): Promise<ComputeOperation> {
  signal?.throwIfAborted();
  const { project } = target;
  const [waited] =
    target.zone === undefined
      ? await clients.regionOperations.wait({ project, region: target.region, operation }, { signal })
      : await clients.zoneOperations.wait({ project, zone: target.zone, operation }, { signal });
  return waited;
}
