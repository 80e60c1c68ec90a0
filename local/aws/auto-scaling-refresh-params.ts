import type { RefreshRequest } from './auto-scaling-refresh.ts';
import { type RefreshPreferences, SCALE_IN_PROTECTED_POLICIES, STANDBY_POLICIES } from './auto-scaling-spec.ts';
import { AwsServiceError } from './errors.ts';
import type { QueryParams } from './query-params.ts';

/** The strategies the API model lists; the emulator runs `Rolling` only. */
const STRATEGIES = ['Rolling', 'ReplaceRootVolume'] as const;
/** Seconds: the API reference's upper bound of `CheckpointDelay` and `BakeTime` (two days). */
const MAX_DELAY_SECONDS = 172_800;
/** Percent: `MinHealthyPercentage` when the request sets none (and the group has no instance maintenance policy). */
const DEFAULT_MIN_HEALTHY = 90;

/** Members of `DesiredConfiguration` whose presence means the request named one. */
const DESIRED_CONFIGURATION_MEMBERS = [
  'LaunchTemplate.LaunchTemplateId',
  'LaunchTemplate.LaunchTemplateName',
  'LaunchTemplate.Version',
  'MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId',
  'MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName',
].map((member) => `DesiredConfiguration.${member}`);

/**
 * StartInstanceRefresh's parameters, refused as the service refuses them: first every model constraint at once
 * ("2 validation errors detected: …; …", members named in camelCase as `preferences.minHealthyPercentage`), then the
 * rules between parameters, one at a time.
 */
export function parseRefreshRequest(params: QueryParams): RefreshRequest {
  const problems: string[] = [];
  const integer = (name: string, min: number, max?: number) => integerParam(params, name, problems, min, max);
  const strategy = enumParam(params, 'Strategy', STRATEGIES, problems);
  const minHealthy = integer('Preferences.MinHealthyPercentage', 0, 100);
  const maxHealthy = integer('Preferences.MaxHealthyPercentage', 100, 200);
  const instanceWarmup = integer('Preferences.InstanceWarmup', 0);
  const checkpointDelay = integer('Preferences.CheckpointDelay', 0, MAX_DELAY_SECONDS);
  const bakeTime = integer('Preferences.BakeTime', 0, MAX_DELAY_SECONDS);
  const checkpoints = (params.list('Preferences.CheckpointPercentages') ?? []).map((raw, index) =>
    checkedInteger(raw, `Preferences.CheckpointPercentages.member.${index + 1}`, problems, 1, 100),
  );
  const protectedPolicy = enumParam(
    params,
    'Preferences.ScaleInProtectedInstances',
    SCALE_IN_PROTECTED_POLICIES,
    problems,
  );
  const standbyPolicy = enumParam(params, 'Preferences.StandbyInstances', STANDBY_POLICIES, problems);
  const skipMatching = params.boolean('Preferences.SkipMatching') ?? false;
  const autoRollback = params.boolean('Preferences.AutoRollback') ?? false;
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
    throw new AwsServiceError('ValidationError', `${count} detected: ${problems.join('; ')}`);
  }

  const desiredConfiguration = DESIRED_CONFIGURATION_MEMBERS.some((name) => params.string(name) !== undefined);
  if (strategy === 'ReplaceRootVolume') {
    throw new AwsServiceError('ValidationError', 'Strategy ReplaceRootVolume is not supported by the local emulator');
  }
  if (maxHealthy !== undefined && minHealthy === undefined) {
    throw new AwsServiceError(
      'ValidationError',
      'MinHealthyPercentage must be specified when MaxHealthyPercentage is specified.',
    );
  }
  if (maxHealthy !== undefined && minHealthy !== undefined && maxHealthy - minHealthy > 100) {
    throw new AwsServiceError(
      'ValidationError',
      'The difference between MaxHealthyPercentage and MinHealthyPercentage cannot be greater than 100.',
    );
  }
  if (checkpointDelay !== undefined && checkpoints.length === 0) {
    throw new AwsServiceError('ValidationError', 'CheckpointDelay requires CheckpointPercentages to be specified.');
  }
  const numbers = checkpoints.filter((value): value is number => value !== undefined);
  if (numbers.some((value, index) => index > 0 && value <= (numbers[index - 1] ?? 0))) {
    throw new AwsServiceError('ValidationError', 'CheckpointPercentages must be unique and in ascending order.');
  }
  if (autoRollback && !desiredConfiguration) {
    throw new AwsServiceError(
      'ValidationError',
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.",
    );
  }

  const alarms = params.list('Preferences.AlarmSpecification.Alarms');
  const preferences: RefreshPreferences = {
    minHealthyPercentage: minHealthy ?? DEFAULT_MIN_HEALTHY,
    ...(maxHealthy === undefined ? {} : { maxHealthyPercentage: maxHealthy }),
    ...(instanceWarmup === undefined ? {} : { instanceWarmup }),
    ...(numbers.length === 0 ? {} : { checkpointPercentages: numbers }),
    ...(checkpointDelay === undefined ? {} : { checkpointDelay }),
    skipMatching,
    autoRollback,
    // The API reference documents `Wait` as the default of both.
    scaleInProtectedInstances: protectedPolicy ?? 'Wait',
    standbyInstances: standbyPolicy ?? 'Wait',
    ...(alarms === undefined || alarms.length === 0 ? {} : { alarms }),
    ...(bakeTime === undefined ? {} : { bakeTime }),
  };
  return { preferences, desiredConfiguration };
}

/** `Preferences.MinHealthyPercentage` → `preferences.minHealthyPercentage`, as the service names members. */
function memberName(name: string): string {
  return name
    .split('.')
    .map((part) => part.charAt(0).toLowerCase() + part.slice(1))
    .join('.');
}

function integerParam(params: QueryParams, name: string, problems: string[], min: number, max?: number) {
  const raw = params.string(name);
  return raw === undefined ? undefined : checkedInteger(raw, name, problems, min, max);
}

function checkedInteger(raw: string, name: string, problems: string[], min: number, max?: number) {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value)) {
    throw new AwsServiceError('ValidationError', `Value '${raw}' at '${memberName(name)}' is not a valid integer`);
  }
  const constraint =
    value < min
      ? `Member must have value greater than or equal to ${min}`
      : max !== undefined && value > max
        ? `Member must have value less than or equal to ${max}`
        : undefined;
  if (constraint !== undefined) {
    problems.push(`Value '${raw}' at '${memberName(name)}' failed to satisfy constraint: ${constraint}`);
    return undefined;
  }
  return value;
}

function enumParam<T extends string>(params: QueryParams, name: string, values: readonly T[], problems: string[]) {
  const raw = params.string(name);
  if (raw === undefined || isOneOf(values, raw)) {
    return raw;
  }
  problems.push(
    `Value '${raw}' at '${memberName(name)}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
  );
  return undefined;
}

function isOneOf<T extends string>(values: readonly T[], raw: string): raw is T {
  return (values as readonly string[]).includes(raw);
}
