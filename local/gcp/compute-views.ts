import { type GroupEnv, type GroupState, type ManagedVm, type Scope, viewOf } from './compute-groups.ts';

/**
 * Compute resources in the JSON the v1 REST API returns. Compute writes enums as names (its clients send no
 * `enum-encoding=int`), 64-bit ids as decimal strings, int32 counts as numbers, and links as full
 * `https://www.googleapis.com/compute/v1/…` URLs whatever host answered.
 */

export const API_ROOT = 'https://www.googleapis.com/compute/v1';

export function scopePath(project: string, scope: Scope): string {
  return scope.kind === 'zone'
    ? `projects/${project}/zones/${scope.zone}`
    : `projects/${project}/regions/${scope.region}`;
}

export const groupPath = (group: GroupState): string =>
  `${scopePath(group.project, group.scope)}/instanceGroupManagers/${group.name}`;
export const autoscalerPath = (group: GroupState, name: string): string =>
  `${scopePath(group.project, group.scope)}/autoscalers/${name}`;
export const instanceUrl = (project: string, zone: string, name: string): string =>
  `${API_ROOT}/projects/${project}/zones/${zone}/instances/${name}`;

/** The `zone` or `region` field a zonal or regional resource carries. */
export function scopeField(project: string, scope: Scope): Record<string, string> {
  return scope.kind === 'zone'
    ? { zone: `${API_ROOT}/projects/${project}/zones/${scope.zone}` }
    : { region: `${API_ROOT}/projects/${project}/regions/${scope.region}` };
}

const ACTIONS = [
  'none',
  'creating',
  'creatingWithoutRetries',
  'verifying',
  'recreating',
  'deleting',
  'abandoning',
  'restarting',
  'refreshing',
  'starting',
  'stopping',
  'suspending',
  'resuming',
] as const;

export const autoscalerName = (group: GroupState): string => group.autoscaler?.name ?? `${group.name}-autoscaler`;

export function groupJson(group: GroupState, env: GroupEnv) {
  const views = group.vms.map((vm) => viewOf(group, vm, env));
  const counts = Object.fromEntries(ACTIONS.map((action) => [action, 0]));
  for (const view of views) {
    const action = view.currentAction.toLowerCase();
    counts[action] = (counts[action] ?? 0) + 1;
  }
  const isStable = views.every((view) => view.currentAction === 'NONE') && views.length === group.targetSize;
  const template = `${API_ROOT}/projects/${group.project}/global/instanceTemplates/${group.name}-template`;
  return {
    kind: 'compute#instanceGroupManager',
    id: group.id,
    creationTimestamp: new Date(group.createdAt).toISOString(),
    name: group.name,
    ...scopeField(group.project, group.scope),
    ...(group.scope.kind === 'region'
      ? {
          distributionPolicy: {
            zones: group.scope.zones.map((zone) => ({ zone: `${API_ROOT}/projects/${group.project}/zones/${zone}` })),
            targetShape: 'EVEN',
          },
        }
      : {}),
    instanceTemplate: template,
    versions: [{ instanceTemplate: template, targetSize: { calculated: group.targetSize } }],
    instanceGroup: `${API_ROOT}/${scopePath(group.project, group.scope)}/instanceGroups/${group.name}`,
    baseInstanceName: group.name,
    fingerprint: Buffer.from(`${group.id}:${group.targetSize}`).toString('base64'),
    currentActions: counts,
    status: {
      isStable,
      versionTarget: { isReached: isStable },
      allInstancesConfig: { effective: true },
      stateful: { hasStatefulConfig: false, perInstanceConfigs: { allEffective: true } },
      ...(group.autoscaler === undefined
        ? {}
        : { autoscaler: `${API_ROOT}/${autoscalerPath(group, autoscalerName(group))}` }),
    },
    targetSize: group.targetSize,
    listManagedInstancesResults: group.paginated ? 'PAGINATED' : 'PAGELESS',
    updatePolicy: { type: 'OPPORTUNISTIC', minimalAction: 'REPLACE', replacementMethod: 'SUBSTITUTE' },
    instanceLifecyclePolicy: { defaultActionOnFailure: group.defaultActionOnFailure, forceUpdateOnRepair: 'NO' },
    selfLink: `${API_ROOT}/${groupPath(group)}`,
  };
}

export function managedInstanceJson(group: GroupState, env: GroupEnv) {
  const template = `${API_ROOT}/projects/${group.project}/global/instanceTemplates/${group.name}-template`;
  return group.vms.map((vm) => {
    const view = viewOf(group, vm, env);
    return {
      instance: instanceUrl(group.project, view.zone, view.name),
      id: view.id,
      name: view.name,
      instanceStatus: view.instanceStatus,
      currentAction: view.currentAction,
      version: { instanceTemplate: template },
    };
  });
}

/**
 * Compute writes resource timestamps in US Pacific time with the offset, e.g. `2025-03-01T04:00:00.000-08:00`. The
 * emulator always writes -08:00 (no daylight saving time): enough that a reader assuming UTC gets it wrong.
 */
const PACIFIC_OFFSET_MS = -8 * 60 * 60 * 1000;
export const computeTimestamp = (ms: number): string =>
  new Date(ms + PACIFIC_OFFSET_MS).toISOString().replace(/Z$/, '-08:00');

/** An `Instance` as `instances.list` returns it; the emulator's VMs all run the group's one template. */
export function instanceJson(group: GroupState, vm: ManagedVm, env: GroupEnv) {
  const view = viewOf(group, vm, env);
  const zoneUrl = `${API_ROOT}/projects/${group.project}/zones/${vm.zone}`;
  return {
    kind: 'compute#instance',
    id: vm.id,
    creationTimestamp: computeTimestamp(vm.createdAt),
    name: vm.name,
    tags: { fingerprint: '42WmSpB8rSM=' },
    machineType: `${zoneUrl}/machineTypes/n2-standard-4`,
    status: view.instanceStatus,
    ...(view.stoppedAt === undefined ? {} : { lastStopTimestamp: computeTimestamp(view.stoppedAt) }),
    zone: zoneUrl,
    metadata: {
      kind: 'compute#metadata',
      fingerprint: Buffer.from(`${vm.id}:metadata`).toString('base64'),
      items: [
        {
          key: 'instance-template',
          value: `projects/${group.project}/global/instanceTemplates/${group.name}-template`,
        },
        { key: 'created-by', value: groupPath(group) },
      ],
    },
    selfLink: instanceUrl(group.project, vm.zone, vm.name),
    // Sourcegraph's executor template sets `automatic_restart = false`: a VM whose executor powered it off stays down.
    scheduling: { onHostMaintenance: 'MIGRATE', automaticRestart: false, preemptible: false },
    cpuPlatform: view.instanceStatus === 'RUNNING' ? 'Intel Cascade Lake' : 'Unknown CPU Platform',
    labelFingerprint: '42WmSpB8rSM=',
    startRestricted: false,
    deletionProtection: false,
  };
}

export function autoscalerJson(group: GroupState) {
  const spec = group.autoscaler;
  if (spec === undefined) {
    return undefined;
  }
  const name = autoscalerName(group);
  return {
    kind: 'compute#autoscaler',
    id: `${group.id}1`,
    creationTimestamp: new Date(group.createdAt).toISOString(),
    name,
    target: `${API_ROOT}/${groupPath(group)}`,
    autoscalingPolicy: {
      minNumReplicas: spec.minReplicas,
      maxNumReplicas: spec.maxReplicas,
      coolDownPeriodSec: 60,
      cpuUtilization: { utilizationTarget: 0.6, predictiveMethod: 'NONE' },
      mode: spec.mode,
    },
    ...scopeField(group.project, group.scope),
    status: 'ACTIVE',
    ...(spec.recommendedSize === undefined ? {} : { recommendedSize: spec.recommendedSize }),
    selfLink: `${API_ROOT}/${autoscalerPath(group, name)}`,
  };
}
