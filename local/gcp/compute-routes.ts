import type { EmulatorRequest } from '../http/emulator.ts';

/**
 * The Compute v1 paths the product calls, zonal and regional. Names follow Compute's own method ids
 * (`instanceGroupManagers.resize`, `regionOperations.wait`) so fault rules and the request log read like Google's
 * audit log.
 */

export type ScopeKind = 'zones' | 'regions';
export type GroupAction = 'get' | 'patch' | 'resize' | 'listManagedInstances' | 'deleteInstances' | 'recreateInstances';

interface Located {
  readonly project: string;
  readonly scopeKind: ScopeKind;
  readonly location: string;
}

export type ComputeRoute =
  | (Located & { readonly kind: 'group'; readonly name: string; readonly action: GroupAction })
  | (Located & { readonly kind: 'operation'; readonly name: string; readonly wait: boolean })
  | (Located & { readonly kind: 'autoscalers' })
  /** `instances.list`: zonal only (regional groups' VMs live in zones too). */
  | (Located & { readonly kind: 'instances'; readonly scopeKind: 'zones' });

const PREFIX = '^/compute/v1/projects/([^/]+)/(zones|regions)/([^/]+)';
const GROUP = new RegExp(
  `${PREFIX}/instanceGroupManagers/([^/]+)(?:/(resize|listManagedInstances|deleteInstances|recreateInstances))?$`,
);
const OPERATION = new RegExp(`${PREFIX}/operations/([^/]+?)(/wait)?$`);
const AUTOSCALERS = new RegExp(`${PREFIX}/autoscalers$`);
const INSTANCES = new RegExp(`${PREFIX}/instances$`);

const isScopeKind = (value: string | undefined): value is ScopeKind => value === 'zones' || value === 'regions';

export function routeOf(request: EmulatorRequest): ComputeRoute | undefined {
  const located = (match: RegExpExecArray): Located | undefined => {
    const [, project, scopeKind, location] = match;
    return project && location && isScopeKind(scopeKind) ? { project, scopeKind, location } : undefined;
  };
  const group = GROUP.exec(request.path);
  if (group !== null) {
    const base = located(group);
    // The group's own URL is `get` with GET and `patch` (a JSON merge patch) with PATCH; its sub-paths are POSTs.
    const action = group[5] ?? (request.method === 'PATCH' ? 'patch' : 'get');
    const method = action === 'get' ? 'GET' : action === 'patch' ? 'PATCH' : 'POST';
    if (base === undefined || group[4] === undefined || request.method !== method || !isAction(action)) {
      return undefined;
    }
    return { ...base, kind: 'group', name: group[4], action };
  }
  const operation = OPERATION.exec(request.path);
  if (operation !== null) {
    const base = located(operation);
    const wait = operation[5] !== undefined;
    if (base === undefined || operation[4] === undefined || request.method !== (wait ? 'POST' : 'GET')) {
      return undefined;
    }
    return { ...base, kind: 'operation', name: operation[4], wait };
  }
  const instances = INSTANCES.exec(request.path);
  if (instances !== null) {
    const base = located(instances);
    return base?.scopeKind === 'zones' && request.method === 'GET'
      ? { ...base, scopeKind: 'zones', kind: 'instances' }
      : undefined;
  }
  const autoscalers = AUTOSCALERS.exec(request.path);
  const base = autoscalers === null ? undefined : located(autoscalers);
  return base !== undefined && request.method === 'GET' ? { ...base, kind: 'autoscalers' } : undefined;
}

function isAction(value: string): value is GroupAction {
  return ['get', 'patch', 'resize', 'listManagedInstances', 'deleteInstances', 'recreateInstances'].includes(value);
}

export function methodId(route: ComputeRoute): string {
  const zonal = route.scopeKind === 'zones';
  switch (route.kind) {
    case 'group':
      return `${zonal ? 'instanceGroupManagers' : 'regionInstanceGroupManagers'}.${route.action}`;
    case 'operation':
      return `${zonal ? 'zoneOperations' : 'regionOperations'}.${route.wait ? 'wait' : 'get'}`;
    case 'autoscalers':
      return `${zonal ? 'autoscalers' : 'regionAutoscalers'}.list`;
    case 'instances':
      return 'instances.list';
  }
}
