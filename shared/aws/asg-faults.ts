import { awsErrorName, describeAwsError, isServerFault, isThrottlingError } from './aws-errors.ts';

/** Faults after which the same scaling call is expected to succeed on a later cycle: not errors, just "not now". */
const DEFERRALS: Readonly<Record<string, string>> = {
  ScalingActivityInProgress: 'a scaling activity is in progress',
  ScalingActivityInProgressFault: 'a scaling activity is in progress',
  ResourceContention: 'resource contention',
  ResourceContentionFault: 'resource contention',
};

/** Why AWS asked to try a scaling call again later, or undefined when it refused for good or failed otherwise. */
export function deferralOf(error: unknown): string | undefined {
  const reason = DEFERRALS[awsErrorName(error) ?? ''] ?? (isThrottlingError(error) ? 'throttled' : undefined);
  return reason === undefined ? undefined : `${reason} (${describeAwsError(error)})`;
}

/**
 * A deferral, a server fault, or `LimitExceeded` (listed by AWS as "retry later"): the same call may succeed on the
 * next cycle. Anything else, notably `ValidationError`, fails again unchanged.
 */
export function isRetryableAsgError(error: unknown): boolean {
  const name = awsErrorName(error);
  return (
    deferralOf(error) !== undefined || isServerFault(error) || name === 'LimitExceeded' || name === 'LimitExceededFault'
  );
}
