import * as z from 'zod';
import type { EmulatorRequest, EmulatorResponse } from '../http/emulator.ts';
import { computeError, invalidField, notFound } from './compute-errors.ts';
import { parseComputeFilter } from './compute-filter.ts';
import { type GroupEnv, type GroupState, type ManagedVm, reconcile, startDeleting } from './compute-groups.ts';
import { isValidRequestId, type Operations } from './compute-operations.ts';
import type { ComputeRoute } from './compute-routes.ts';
import { autoscalerJson, groupJson, groupPath, managedInstanceJson, scopePath } from './compute-views.ts';
import { json, readJson, tokenOffset } from './google-json.ts';

export interface ComputeContext {
  readonly env: GroupEnv;
  readonly operations: Operations;
  readonly groupsIn: (project: string, scopeKind: string, location: string) => readonly GroupState[];
}

type GroupRoute = Extract<ComputeRoute, { kind: 'group' }>;

/** `deleteInstances` takes at most this many instances per request. */
const MAX_DELETE = 1000;
/** listManagedInstances `maxResults` default and ceiling, for PAGINATED groups. */
const MAX_RESULTS = 500;

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
  const refused = route.action === 'resize' ? resize(group, request.query) : deleteInstances(group, request, env);
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
  const found: ManagedVm[] = [];
  for (const ref of refs) {
    const vm = memberOf(group, ref);
    if (vm === undefined && body.data.skipInstancesOnValidationError !== true) {
      // Without the skip flag one bad name fails the whole request and nothing is deleted.
      return computeError(400, 'invalid', `The instance '${ref}' is not a member of ${groupPath(group)}.`);
    }
    if (vm !== undefined && !found.includes(vm)) {
      found.push(vm);
    }
  }
  for (const vm of found) {
    startDeleting(group, vm, env);
    group.targetSize -= 1;
  }
  return undefined;
}

/** Accepts a full URL, `projects/p/zones/z/instances/vm` or `zones/z/instances/vm`, as Compute does. */
function memberOf(group: GroupState, ref: string): ManagedVm | undefined {
  const match = /(?:^|\/)(?:projects\/([^/]+)\/)?zones\/([^/]+)\/instances\/([^/]+)$/.exec(ref);
  if (match === null || (match[1] !== undefined && match[1] !== group.project)) {
    return undefined;
  }
  return group.vms.find((vm) => vm.zone === match[2] && vm.name === match[3] && vm.deletingSince === undefined);
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
  const size = Math.min(Number(query.get('maxResults') ?? MAX_RESULTS) || MAX_RESULTS, MAX_RESULTS);
  const offset = tokenOffset(query.get('pageToken'), 'plain');
  if (offset === undefined) {
    return invalidField('pageToken', query.get('pageToken'), 'The page token is not valid.');
  }
  const next = offset + size;
  return json(200, {
    managedInstances: all.slice(offset, next),
    ...(next < all.length ? { nextPageToken: String(next) } : {}),
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
