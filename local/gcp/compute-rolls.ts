import * as z from 'zod';
import type { EmulatorResponse } from '../http/emulator.ts';
import { computeError, invalidField } from './compute-errors.ts';

/**
 * A MIG's versions and update policy, as `instanceGroupManagers.patch` sets them and the updater follows them. What
 * the emulator enforces is what Compute is known to refuse; each rule below notes where that is documented or seen.
 *
 * A rolling replace (`gcloud compute instance-groups managed rolling-action replace`) is one patch: every version
 * keeps its template and gets a new `name`, and `updatePolicy` says `type: PROACTIVE`, `minimalAction: REPLACE`
 * with the surge and unavailability limits. Each VM records the version it was created from, so a new name makes
 * every VM outdated, and the minimal action makes the updater replace rather than just relabel it.
 */

export interface FixedOrPercent {
  readonly fixed?: number;
  readonly percent?: number;
}

export interface Version {
  readonly name?: string;
  /** Always a full `https://www.googleapis.com/compute/v1/projects/…` URL once stored. */
  readonly instanceTemplate: string;
  /** Absent: the version takes every instance the versions before it leave. */
  readonly targetSize?: FixedOrPercent;
}

/** The version a VM was created from (`ManagedInstance.version`). */
export interface VmVersion {
  readonly instanceTemplate: string;
  readonly name?: string;
}

export const UPDATE_TYPES = ['PROACTIVE', 'OPPORTUNISTIC'] as const;
/** In order of disruption: an action includes every one before it. */
export const UPDATE_ACTIONS = ['NONE', 'REFRESH', 'RESTART', 'REPLACE'] as const;
export const REPLACEMENT_METHODS = ['SUBSTITUTE', 'RECREATE'] as const;
export type UpdateType = (typeof UPDATE_TYPES)[number];
export type UpdateAction = (typeof UPDATE_ACTIONS)[number];
export type ReplacementMethod = (typeof REPLACEMENT_METHODS)[number];

export interface UpdatePolicy {
  readonly type: UpdateType;
  readonly minimalAction: UpdateAction;
  readonly mostDisruptiveAllowedAction: UpdateAction;
  readonly replacementMethod: ReplacementMethod;
  readonly maxSurge: FixedOrPercent;
  readonly maxUnavailable: FixedOrPercent;
}

/**
 * What a group created without an update policy reports: OPPORTUNISTIC (nothing is replaced by itself), and both
 * limits a fixed value equal to the number of zones the group runs in (the API reference's stated defaults).
 */
export function defaultUpdatePolicy(zones: number): UpdatePolicy {
  return {
    type: 'OPPORTUNISTIC',
    minimalAction: 'REPLACE',
    mostDisruptiveAllowedAction: 'REPLACE',
    replacementMethod: 'SUBSTITUTE',
    maxSurge: { fixed: zones },
    maxUnavailable: { fixed: zones },
  };
}

/**
 * A limit in instances. Percentages are of the group's target size, rounded up (the v1 reference: "rounded up if
 * necessary"), so a non-zero percentage never stalls an update.
 */
export function resolveQuantity(quantity: FixedOrPercent, targetSize: number): number {
  return quantity.percent === undefined ? (quantity.fixed ?? 0) : Math.ceil((quantity.percent * targetSize) / 100);
}

/**
 * How many of `targetSize` instances each version wants, in version order: a version with a `targetSize` its share
 * (a fixed number, or a percentage rounded up; the v1 reference), the first without one whatever the others leave.
 */
export function versionTargets(versions: readonly Version[], targetSize: number): number[] {
  const sized = (version: Version) =>
    version.targetSize !== undefined &&
    (version.targetSize.fixed !== undefined || version.targetSize.percent !== undefined);
  let left = targetSize;
  const wanted = versions.map((version) => {
    if (version.targetSize === undefined || !sized(version)) {
      return 0;
    }
    const share = Math.min(left, resolveQuantity(version.targetSize, targetSize));
    left -= share;
    return share;
  });
  const rest = versions.findIndex((version) => !sized(version));
  if (rest >= 0) {
    wanted[rest] = left;
  }
  return wanted;
}

export const templateKey = (url: string): string => url.replace(/^.*?(?=projects\/)/, '');
export const sameVersion = (vm: VmVersion, version: Version): boolean =>
  (vm.name ?? '') === (version.name ?? '') &&
  templateKey(vm.instanceTemplate) === templateKey(version.instanceTemplate);

/** The least disruptive action that brings a VM to `to`: a new template needs a new VM, a new name only a relabel. */
export function neededAction(from: VmVersion, to: Version): UpdateAction {
  return templateKey(from.instanceTemplate) === templateKey(to.instanceTemplate) ? 'NONE' : 'REPLACE';
}

export const actionRank = (action: UpdateAction): number => UPDATE_ACTIONS.indexOf(action);

const fixedOrPercent = z.object({
  fixed: z.number().int().optional(),
  percent: z.number().int().optional(),
  calculated: z.number().int().optional(),
});

/** The fields of an `InstanceGroupManager` a patch may change here; others are dropped (accepted, left alone). */
export const patchBody = z.object({
  instanceTemplate: z.string().optional(),
  versions: z
    .array(
      z.object({
        name: z.string().optional(),
        instanceTemplate: z.string().optional(),
        targetSize: fixedOrPercent.optional(),
      }),
    )
    .optional(),
  updatePolicy: z
    .object({
      type: z.string().optional(),
      minimalAction: z.string().optional(),
      mostDisruptiveAllowedAction: z.string().optional(),
      replacementMethod: z.string().optional(),
      maxSurge: fixedOrPercent.optional(),
      maxUnavailable: fixedOrPercent.optional(),
      instanceRedistributionType: z.string().optional(),
      minReadySec: z.number().optional(),
    })
    .optional(),
});
export type PatchBody = z.infer<typeof patchBody>;

export interface PatchTarget {
  readonly project: string;
  readonly regional: boolean;
  readonly zones: number;
  readonly targetSize: number;
  readonly versions: readonly Version[];
  readonly updatePolicy: UpdatePolicy;
}

export type Patched =
  | { ok: true; versions: Version[]; updatePolicy: UpdatePolicy }
  | { ok: false; refused: EmulatorResponse };

/**
 * The group's versions and policy after a JSON merge patch, or Compute's refusal. Merge semantics: a field left out
 * keeps its value, `versions` is replaced as a whole, and `maxSurge`/`maxUnavailable` are each replaced as a whole
 * (`{fixed}` and `{percent}` are alternatives, so merging one into the other would make both).
 */
export function applyPatch(group: PatchTarget, body: PatchBody): Patched {
  const refused = (response: EmulatorResponse): Patched => ({ ok: false, refused: response });
  let versions: Version[] = [...group.versions];
  if (body.versions !== undefined) {
    if (body.versions.length === 0) {
      return refused(computeError(400, 'required', "Required field 'resource.versions' not specified"));
    }
    versions = [];
    for (const [index, version] of body.versions.entries()) {
      if (!version.instanceTemplate) {
        return refused(
          computeError(400, 'required', `Required field 'resource.versions[${index}].instanceTemplate' not specified`),
        );
      }
      const size = quantityOf(version.targetSize);
      const bad = size === undefined ? undefined : quantityProblem(size);
      if (bad !== undefined) {
        return refused(invalidField(`resource.versions[${index}].targetSize`, render(size ?? {}), bad));
      }
      versions.push({
        ...(version.name ? { name: version.name } : {}),
        instanceTemplate: templateUrl(group.project, version.instanceTemplate),
        ...(size === undefined ? {} : { targetSize: size }),
      });
    }
    // The v1 reference: a version's name is "unique among all versions in the scope of this managed instance group".
    const names = versions.flatMap((version) => (version.name === undefined ? [] : [version.name]));
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) {
      return refused(invalidField('resource.versions', repeated, 'Version names must be unique.'));
    }
  } else if (body.instanceTemplate !== undefined) {
    versions = [{ instanceTemplate: templateUrl(group.project, body.instanceTemplate) }];
  }

  const patch = body.updatePolicy ?? {};
  const current = group.updatePolicy;
  const enums = [
    ['type', patch.type, UPDATE_TYPES],
    ['minimalAction', patch.minimalAction, UPDATE_ACTIONS],
    ['mostDisruptiveAllowedAction', patch.mostDisruptiveAllowedAction, UPDATE_ACTIONS],
    ['replacementMethod', patch.replacementMethod, REPLACEMENT_METHODS],
  ] as const;
  for (const [field, value, allowed] of enums) {
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
      return refused(invalidField(`resource.updatePolicy.${field}`, value, `Must be one of [${allowed.join(', ')}].`));
    }
  }
  const policy: UpdatePolicy = {
    type: pick(UPDATE_TYPES, patch.type) ?? current.type,
    minimalAction: pick(UPDATE_ACTIONS, patch.minimalAction) ?? current.minimalAction,
    mostDisruptiveAllowedAction:
      pick(UPDATE_ACTIONS, patch.mostDisruptiveAllowedAction) ?? current.mostDisruptiveAllowedAction,
    replacementMethod: pick(REPLACEMENT_METHODS, patch.replacementMethod) ?? current.replacementMethod,
    maxSurge: quantityOf(patch.maxSurge) ?? current.maxSurge,
    maxUnavailable: quantityOf(patch.maxUnavailable) ?? current.maxUnavailable,
  };
  const problem = policyProblem(group, policy);
  return problem === undefined ? { ok: true, versions, updatePolicy: policy } : refused(problem);
}

function policyProblem(group: PatchTarget, policy: UpdatePolicy): EmulatorResponse | undefined {
  const limits = [
    ['maxSurge', policy.maxSurge],
    ['maxUnavailable', policy.maxUnavailable],
  ] as const;
  for (const [field, quantity] of limits) {
    const bad = quantityProblem(quantity);
    if (bad !== undefined) {
      return invalidField(`resource.updatePolicy.${field}`, render(quantity), bad);
    }
  }
  // Seen from Compute (terraform-provider-google PR 14991): a recreated VM keeps its name, so no second VM can
  // stand beside it.
  if (policy.replacementMethod === 'RECREATE' && !isZero(policy.maxSurge)) {
    return invalidField(
      'resource.updatePolicy.maxSurge',
      render(policy.maxSurge),
      'maxSurge must be equal to 0 when replacement method is set to RECREATE',
    );
  }
  if (group.regional) {
    for (const [field, quantity] of limits) {
      // Seen from Compute (terraform-example-foundation PR 427): a regional group updates zone by zone.
      if (quantity.fixed !== undefined && quantity.fixed !== 0 && quantity.fixed < group.zones) {
        return invalidField(
          `resource.updatePolicy.${field}.fixed`,
          quantity.fixed,
          `Fixed updatePolicy.${field} for regional managed instance group has to be either 0 or at least equal to the number of zones.`,
        );
      }
      // Seen from Compute for maxUnavailable (gcloud rolling-action start-update --max-unavailable 100%).
      if (quantity.percent !== undefined && group.targetSize < 10) {
        return invalidField(
          `resource.updatePolicy.${field}.percent`,
          quantity.percent,
          `Percent updatePolicy.${field} for regional managed instance group is only allowed for regional managed instance groups with size at least 10.`,
        );
      }
    }
  }
  // Seen from Compute for RESTART (a restart takes a VM out of service, so something must be allowed to be).
  if (
    isZero(policy.maxUnavailable) &&
    (policy.minimalAction === 'RESTART' || policy.replacementMethod === 'RECREATE')
  ) {
    const because =
      policy.minimalAction === 'RESTART' ? 'minimal action is set to RESTART' : 'replacement method is set to RECREATE';
    return invalidField(
      'resource.updatePolicy.maxUnavailable',
      render(policy.maxUnavailable),
      `maxUnavailable must be greater than 0 when ${because}`,
    );
  }
  // The v1 reference: "At least one of either maxSurge or maxUnavailable must be greater than 0."
  if (isZero(policy.maxSurge) && isZero(policy.maxUnavailable)) {
    return invalidField(
      'resource.updatePolicy.maxUnavailable',
      render(policy.maxUnavailable),
      'At least one of maxSurge or maxUnavailable must be greater than 0.',
    );
  }
  return undefined;
}

const isZero = (quantity: FixedOrPercent): boolean => (quantity.percent ?? quantity.fixed ?? 0) === 0;

function quantityProblem(quantity: FixedOrPercent): string | undefined {
  if (quantity.fixed !== undefined && quantity.percent !== undefined) {
    return 'Only one of fixed or percent can be set.';
  }
  if ((quantity.fixed ?? 0) < 0) {
    return 'Must be greater than or equal to 0.';
  }
  if (quantity.percent !== undefined && (quantity.percent < 0 || quantity.percent > 100)) {
    return 'Percent must be between 0 and 100.';
  }
  return undefined;
}

/** The settable part of a FixedOrPercent (`calculated` is output only), or undefined when it sets nothing. */
function quantityOf(raw: z.infer<typeof fixedOrPercent> | undefined): FixedOrPercent | undefined {
  if (raw === undefined || (raw.fixed === undefined && raw.percent === undefined)) {
    return undefined;
  }
  return {
    ...(raw.fixed === undefined ? {} : { fixed: raw.fixed }),
    ...(raw.percent === undefined ? {} : { percent: raw.percent }),
  };
}

/** A FixedOrPercent as Compute quotes it in an error: `{  "fixed": 1}`. */
const render = (quantity: FixedOrPercent): string =>
  `{  ${Object.entries(quantity)
    .map(([key, value]) => `"${key}": ${value}`)
    .join(', ')}}`;

const pick = <T extends string>(allowed: readonly T[], value: string | undefined): T | undefined =>
  allowed.find((candidate) => candidate === value);

const API_ROOT = 'https://www.googleapis.com/compute/v1';

/** Compute accepts a template as a full or partial URL, or a bare name of a global template, and answers full URLs. */
export function templateUrl(project: string, template: string): string {
  if (/^https?:\/\//.test(template)) {
    return `${API_ROOT}/${templateKey(template)}`;
  }
  if (template.startsWith('projects/')) {
    return `${API_ROOT}/${template}`;
  }
  if (template.startsWith('global/') || template.startsWith('regions/')) {
    return `${API_ROOT}/projects/${project}/${template}`;
  }
  return `${API_ROOT}/projects/${project}/global/instanceTemplates/${template}`;
}

/** A FixedOrPercent as Compute answers it, with the instances it comes to. */
export const quantityJson = (quantity: FixedOrPercent, targetSize: number) => ({
  ...quantity,
  calculated: resolveQuantity(quantity, targetSize),
});
