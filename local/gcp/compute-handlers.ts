import * as z from 'zod';
import type { EmulatorRequest, EmulatorResponse } from '../http/emulator.ts';
import { computeError, computeFaults, invalidField, notFound } from './compute-errors.ts';
import { parseComputeFilter } from './compute-filter.ts';
import {
  type CurrentAction,
  type GroupEnv,
  type GroupState,
  type InstanceStatus,
  type ManagedVm,
  reconcile,
  recreate,
  startDeleting,
  targetVersionOf,
  viewOf,
  zonesOf,
} from './compute-groups.ts';
import { isValidRequestId, type Operations } from './compute-operations.ts';
import { applyPatch, patchBody } from './compute-rolls.ts';
import type { ComputeRoute } from './compute-routes.ts';
import { autoscalerJson, groupJson, groupPath, instanceJson, managedInstanceJson, scopePath } from './compute-views.ts';
import { json, readJson, tokenOffset } from './google-json.ts';

export interface ComputeContext {
  readonly env: GroupEnv;
  readonly operations: Operations;
  readonly groupsIn: (project: string, scopeKind: string, location: string) => readonly GroupState[];
  /** Every group of the project, zonal and regional. */
  readonly groupsOf: (project: string) => readonly GroupState[];
  /** Every deleteInstances that reached a group, in order. */
  readonly deletions: DeletionRequest[];
}

/** One deleteInstances a group was asked for, accepted or not, with the state of each VM it named at that moment. */
export interface DeletionRequest {
  readonly at: number;
  readonly group: string;
  readonly instances: readonly {
    readonly ref: string;
    /** Absent for a VM that is not a member. */
    readonly instanceStatus?: InstanceStatus;
    readonly currentAction?: CurrentAction;
  }[];
}

type GroupRoute = Extract<ComputeRoute, { kind: 'group' }>;

/** `deleteInstances` takes at most this many instances per request. */
const MAX_DELETE = 1000;
/** `maxResults` default and ceiling of listManagedInstances (PAGINATED groups) and instances.list. */
const MAX_RESULTS = 500;

const recreateBody = z.object({ instances: z.array(z.string()).optional() });

const deleteBody = z.object({
  instances: z.array(z.string()).optional(),
  skipInstancesOnValidationError: z.boolean().optional(),
});

export function handleGroup(context: ComputeContext, group: GroupState, route: GroupRoute, request: EmulatorRequest) {
  const { env, operations } = context;
  reconcile(group, env);
  if (route.action === 'get') {
    return json(200, groupJson(group, env));
  }
  if (route.action === 'listManagedInstances') {
    return listManagedInstances(context, group, request.query);
  }
  const requestId = request.query.get('requestId');
  if (requestId !== null && !isValidRequestId(requestId)) {
    return invalidField('requestId', requestId, 'The request ID must be a valid UUID, and not the zero UUID.');
  }
  const replayed = operations.replay(group.project, group.scope, requestId);
  if (replayed !== undefined) {
    return json(200, operations.json(replayed));
  }
  if (route.action === 'deleteInstances') {
    context.deletions.push(deletionOf(group, request, env));
  }
  if (group.held > 0 && route.action !== 'patch') {
    // A write refused for quota, as Compute answers a burst of mutations; nothing changes.
    group.held -= 1;
    return computeFaults.throttled();
  }
  const refused =
    route.action === 'patch'
      ? patch(group, request)
      : route.action === 'resize'
        ? resize(group, request.query)
        : route.action === 'recreateInstances'
          ? recreateInstances(group, request, env)
          : deleteInstances(group, request, env);
  if (refused !== undefined) {
    return refused;
  }
  reconcile(group, env);
  const prefix = group.scope.kind === 'zone' ? 'instanceGroupManagers' : 'regionInstanceGroupManagers';
  const operation = operations.start(
    {
      project: group.project,
      scope: group.scope,
      operationType: `compute.${prefix}.${route.action}`,
      targetPath: groupPath(group),
      targetId: group.id,
    },
    requestId,
  );
  return json(200, operations.json(operation, true));
}

/**
 * `patch` of the group's `versions` and `updatePolicy` (a rolling update or replace). The operation is DONE once the
 * group is patched, as Compute's is; the VMs are replaced afterwards, which `listManagedInstances` shows.
 */
function patch(group: GroupState, request: EmulatorRequest): EmulatorResponse | undefined {
  const raw = readJson(request);
  const body = raw.ok ? patchBody.safeParse(raw.value) : undefined;
  if (body === undefined || !body.success) {
    return computeError(400, 'parseError', 'Invalid JSON payload received.');
  }
  const patched = applyPatch(
    {
      project: group.project,
      regional: group.scope.kind === 'region',
      zones: zonesOf(group.scope).length,
      targetSize: group.targetSize,
      versions: group.versions,
      updatePolicy: group.updatePolicy,
    },
    body.data,
  );
  if (!patched.ok) {
    return patched.refused;
  }
  group.versions = patched.versions;
  group.updatePolicy = patched.updatePolicy;
  return undefined;
}

function resize(group: GroupState, query: URLSearchParams): EmulatorResponse | undefined {
  const raw = query.get('size');
  if (raw === null) {
    return computeError(400, 'required', "Required field 'size' not specified");
  }
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0) {
    return invalidField('size', raw, 'Must be greater than or equal to 0.');
  }
  // Compute refuses to resize a group an autoscaler drives: one owner per group.
  const mode = group.autoscaler?.mode;
  if (mode === 'ON' || mode === 'ONLY_SCALE_OUT') {
    return computeError(
      412,
      'conditionNotMet',
      `Resize is not allowed while the group is autoscaled (mode ${mode}): remove the autoscaler or set autoscaling policy mode to OFF.`,
    );
  }
  // DONE means scheduled, not finished: the MIG picks victims or launches VMs, and listManagedInstances shows progress.
  group.targetSize = size;
  return undefined;
}

function deleteInstances(group: GroupState, request: EmulatorRequest, env: GroupEnv): EmulatorResponse | undefined {
  const raw = readJson(request);
  const body = raw.ok ? deleteBody.safeParse(raw.value) : undefined;
  if (body === undefined || !body.success) {
    return computeError(400, 'parseError', 'Invalid JSON payload received.');
  }
  const refs = body.data.instances ?? [];
  if (refs.length === 0) {
    return computeError(400, 'required', "Required field 'instances' not specified");
  }
  if (refs.length > MAX_DELETE) {
    return invalidField('instances', refs.length, `At most ${MAX_DELETE} instances can be deleted per request.`);
  }
  const named: { ref: string; instance: InstanceRef }[] = [];
  // Refused whatever skipInstancesOnValidationError says: the flag only covers non-members and VMs already leaving.
  for (const ref of refs) {
    const instance = parseInstanceRef(ref);
    if (instance === undefined) {
      return invalidField('instances', ref, 'The instance URL is malformed.');
    }
    if (instance.zone !== undefined && !inScope(group, instance.project ?? group.project, instance.zone)) {
      return invalidField('instances', ref, `The instance is not in the zone or region of ${groupPath(group)}.`);
    }
    named.push({ ref, instance });
  }
  if (new Set(named.map(({ instance }) => instance.zone === undefined)).size > 1) {
    return invalidField('instances', refs.join(','), 'Instance URLs and instance names cannot be mixed.');
  }
  const found: ManagedVm[] = [];
  for (const { ref, instance } of named) {
    const vm = group.vms.find(
      (candidate) => candidate.name === instance.name && candidate.zone === (instance.zone ?? candidate.zone),
    );
    const invalid =
      vm === undefined
        ? `The instance '${ref}' is not a member of ${groupPath(group)}.`
        : vm.deletingSince === undefined
          ? undefined
          : `The instance '${ref}' is already being deleted.`;
    if (invalid !== undefined && body.data.skipInstancesOnValidationError !== true) {
      // Without the skip flag one bad instance fails the whole request and nothing is deleted.
      return computeError(400, 'invalid', invalid);
    }
    if (invalid === undefined && vm !== undefined && !found.includes(vm)) {
      found.push(vm);
    }
  }
  for (const vm of found) {
    startDeleting(group, vm, env);
    group.targetSize -= 1;
  }
  return undefined;
}

/**
 * `recreateInstances`: every instance named must be a member not being deleted, or the whole request fails (there is
 * no skip flag); each is recreated at once, the target size unchanged, from the version meant for it.
 */
function recreateInstances(group: GroupState, request: EmulatorRequest, env: GroupEnv): EmulatorResponse | undefined {
  const raw = readJson(request);
  const body = raw.ok ? recreateBody.safeParse(raw.value) : undefined;
  if (body === undefined || !body.success) {
    return computeError(400, 'parseError', 'Invalid JSON payload received.');
  }
  const refs = body.data.instances ?? [];
  if (refs.length === 0) {
    return computeError(400, 'required', "Required field 'instances' not specified");
  }
  const found: ManagedVm[] = [];
  for (const ref of refs) {
    const instance = parseInstanceRef(ref);
    if (instance?.zone === undefined) {
      return invalidField('instances', ref, 'The instance URL is malformed.');
    }
    const vm = group.vms.find((candidate) => candidate.name === instance.name && candidate.zone === instance.zone);
    if (vm === undefined) {
      return computeError(400, 'invalid', `The instance '${ref}' is not a member of ${groupPath(group)}.`);
    }
    if (vm.deletingSince !== undefined) {
      return computeError(400, 'invalid', `The instance '${ref}' is being deleted.`);
    }
    if (!found.includes(vm)) {
      found.push(vm);
    }
  }
  for (const vm of found) {
    recreate(group, vm, env, env.clock(), targetVersionOf(group, vm));
  }
  return undefined;
}

/** What a deleteInstances named, read leniently: a body the handler will refuse still names nothing. */
function deletionOf(group: GroupState, request: EmulatorRequest, env: GroupEnv): DeletionRequest {
  const raw = readJson(request);
  const body = raw.ok ? deleteBody.safeParse(raw.value) : undefined;
  const refs = body?.success === true ? (body.data.instances ?? []) : [];
  return {
    at: env.clock(),
    group: group.name,
    instances: refs.map((ref) => {
      const named = parseInstanceRef(ref);
      const vm = group.vms.find((c) => c.name === named?.name && c.zone === (named?.zone ?? c.zone));
      if (vm === undefined) {
        return { ref };
      }
      const view = viewOf(group, vm, env);
      return { ref, instanceStatus: view.instanceStatus, currentAction: view.currentAction };
    }),
  };
}

interface InstanceRef {
  readonly name: string;
  /** Absent when the instance was named without a URL (how queued instances are deleted). */
  readonly zone?: string;
  readonly project?: string;
}

const INSTANCE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const INSTANCE_URL =
  /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\/)?(?:projects\/([^/]+)\/)?zones\/([^/]+)\/instances\/([^/]+)$/;

/** The group's own zone, or for a regional group any zone of its region. */
function inScope(group: GroupState, project: string, zone: string): boolean {
  if (project !== group.project) {
    return false;
  }
  return group.scope.kind === 'zone' ? zone === group.scope.zone : zone.startsWith(`${group.scope.region}-`);
}

/** A full URL, `projects/p/zones/z/instances/vm`, `zones/z/instances/vm` or a bare name, as Compute accepts them. */
function parseInstanceRef(ref: string): InstanceRef | undefined {
  if (INSTANCE_NAME.test(ref)) {
    return { name: ref };
  }
  const match = INSTANCE_URL.exec(ref);
  if (match === null) {
    return undefined;
  }
  const [, project, zone, name] = match;
  return name === undefined || zone === undefined
    ? undefined
    : { name, zone, ...(project === undefined ? {} : { project }) };
}

function listManagedInstances(context: ComputeContext, group: GroupState, query: URLSearchParams) {
  const filter = parseComputeFilter(query.get('filter') ?? '');
  if (typeof filter === 'string') {
    return invalidField('filter', query.get('filter'), filter);
  }
  const all = managedInstanceJson(group, context.env).filter(filter);
  if (!group.paginated) {
    // PAGELESS, the API's default: maxResults and pageToken are ignored and everything comes in one answer.
    return json(200, { managedInstances: all });
  }
  const page = pageOf(all, query);
  return page.ok ? json(200, { managedInstances: page.items, ...page.next }) : page.refused;
}

/** One page of `items` as `maxResults` and `pageToken` ask, or the error answer for a bad token. */
function pageOf<T>(
  items: readonly T[],
  query: URLSearchParams,
): { ok: true; items: T[]; next: { nextPageToken?: string } } | { ok: false; refused: EmulatorResponse } {
  const size = Math.min(Number(query.get('maxResults') ?? MAX_RESULTS) || MAX_RESULTS, MAX_RESULTS);
  const offset = tokenOffset(query.get('pageToken'), 'plain');
  if (offset === undefined) {
    return { ok: false, refused: invalidField('pageToken', query.get('pageToken'), 'The page token is not valid.') };
  }
  const next = offset + size;
  return {
    ok: true,
    items: items.slice(offset, next),
    next: next < items.length ? { nextPageToken: String(next) } : {},
  };
}

/**
 * `instances.list` in one zone: every VM of every group of the project that lives there (regional groups included),
 * in name order as Compute sorts by default, paginated as Compute always paginates this list.
 */
export function handleInstances(
  context: ComputeContext,
  route: Extract<ComputeRoute, { kind: 'instances' }>,
  query: URLSearchParams,
) {
  const filter = parseComputeFilter(query.get('filter') ?? '');
  if (typeof filter === 'string') {
    return invalidField('filter', query.get('filter'), filter);
  }
  const all = context
    .groupsOf(route.project)
    .flatMap((group) => {
      reconcile(group, context.env);
      return group.vms.filter((vm) => vm.zone === route.location).map((vm) => instanceJson(group, vm, context.env));
    })
    .filter(filter)
    .sort((a, b) => a.name.localeCompare(b.name));
  const page = pageOf(all, query);
  if (!page.ok) {
    return page.refused;
  }
  const path = `projects/${route.project}/zones/${route.location}/instances`;
  return json(200, {
    kind: 'compute#instanceList',
    id: path,
    ...(page.items.length === 0 ? {} : { items: page.items }),
    ...page.next,
    selfLink: `https://www.googleapis.com/compute/v1/${path}`,
  });
}

export function handleOperation(context: ComputeContext, route: Extract<ComputeRoute, { kind: 'operation' }>) {
  const scope =
    route.scopeKind === 'zones'
      ? { kind: 'zone' as const, zone: route.location }
      : { kind: 'region' as const, region: route.location, zones: [] };
  const operation = context.operations.find(route.project, scope, route.name);
  if (operation === undefined) {
    return notFound(`${scopePath(route.project, scope)}/operations/${route.name}`);
  }
  // `wait` returns at once: with an injected clock nothing progresses while the request blocks, and the API itself
  // only promises to return by DONE or a deadline.
  return json(200, context.operations.json(operation));
}

export function handleAutoscalers(context: ComputeContext, route: ComputeRoute, query: URLSearchParams) {
  const filter = parseComputeFilter(query.get('filter') ?? '');
  if (typeof filter === 'string') {
    return invalidField('filter', query.get('filter'), filter);
  }
  const items = context
    .groupsIn(route.project, route.scopeKind, route.location)
    .flatMap((group) => {
      reconcile(group, context.env);
      const item = autoscalerJson(group);
      return item === undefined ? [] : [item];
    })
    .filter(filter);
  const path = `projects/${route.project}/${route.scopeKind}/${route.location}/autoscalers`;
  return json(200, {
    kind: route.scopeKind === 'zones' ? 'compute#autoscalerList' : 'compute#regionAutoscalerList',
    id: path,
    ...(items.length === 0 ? {} : { items }),
    selfLink: `https://www.googleapis.com/compute/v1/${path}`,
  });
}
