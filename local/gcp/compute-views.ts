import {
  type GroupEnv,
  type GroupState,
  type ManagedVm,
  type Scope,
  versionTargetReached,
  viewOf,
} from './compute-groups.ts';
import { quantityJson, templateKey, type VmVersion, versionTargets } from './compute-rolls.ts';

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
/** The template a group is created with: one per group, named after it. */
export const templateOf = (project: string, group: string): string =>
  `${API_ROOT}/projects/${project}/global/instanceTemplates/${group}-template`;
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
  const sizes = versionTargets(group.versions, group.targetSize);
  const versions = group.versions.map((version, index) => ({
    ...(version.name === undefined ? {} : { name: version.name }),
    instanceTemplate: version.instanceTemplate,
    targetSize: { ...version.targetSize, calculated: sizes[index] ?? 0 },
  }));
  const [only] = group.versions;
  const policy = group.updatePolicy;
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
    // The group-level template stands for the one version; with several (a canary) only `versions` says.
    ...(group.versions.length === 1 && only !== undefined ? { instanceTemplate: only.instanceTemplate } : {}),
    versions,
    instanceGroup: `${API_ROOT}/${scopePath(group.project, group.scope)}/instanceGroups/${group.name}`,
    baseInstanceName: group.name,
    fingerprint: Buffer.from(
      `${group.id}:${group.targetSize}:${group.versions.map((v) => `${v.name ?? ''}@${templateKey(v.instanceTemplate)}`).join(',')}`,
    ).toString('base64'),
    currentActions: counts,
    status: {
      isStable,
      versionTarget: { isReached: versionTargetReached(group) },
      allInstancesConfig: { effective: true },
      stateful: { hasStatefulConfig: false, perInstanceConfigs: { allEffective: true } },
      ...(group.autoscaler === undefined
        ? {}
        : { autoscaler: `${API_ROOT}/${autoscalerPath(group, autoscalerName(group))}` }),
    },
    targetSize: group.targetSize,
    listManagedInstancesResults: group.paginated ? 'PAGINATED' : 'PAGELESS',
    updatePolicy: {
      type: policy.type,
      ...(group.scope.kind === 'region' ? { instanceRedistributionType: 'PROACTIVE' } : {}),
      minimalAction: policy.minimalAction,
      mostDisruptiveAllowedAction: policy.mostDisruptiveAllowedAction,
      replacementMethod: policy.replacementMethod,
      maxSurge: quantityJson(policy.maxSurge, group.targetSize),
      maxUnavailable: quantityJson(policy.maxUnavailable, group.targetSize),
    },
    instanceLifecyclePolicy: { defaultActionOnFailure: group.defaultActionOnFailure, forceUpdateOnRepair: 'NO' },
    selfLink: `${API_ROOT}/${groupPath(group)}`,
  };
}

/** `ManagedInstance.version`: the template, and the version's name when it has one. */
const versionJson = (version: VmVersion) => ({
  instanceTemplate: version.instanceTemplate,
  ...(version.name === undefined ? {} : { name: version.name }),
});

export function managedInstanceJson(group: GroupState, env: GroupEnv) {
  return group.vms.map((vm) => {
    const view = viewOf(group, vm, env);
    return {
      instance: instanceUrl(group.project, view.zone, view.name),
      id: view.id,
      name: view.name,
      instanceStatus: view.instanceStatus,
      currentAction: view.currentAction,
      version: versionJson(view.version),
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

/** An `Instance` as `instances.list` returns it, naming the template its version was created from. */
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
          value: templateKey(vm.version.instanceTemplate),
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
