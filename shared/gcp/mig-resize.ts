import type { GcpGroupTarget } from '../domain/fleet.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { ResizeOutcome } from '../ports/instance-groups.ts';
import { describeGoogleError, GrpcCode, grpcCode, httpStatusOf, isThrottled } from './google-errors.ts';
import { type ComputeOperation, type MigClients, waitOperation } from './mig-calls.ts';

/** Each `wait` blocks up to about two minutes server-side; the cycle's signal ends it sooner. */
export const MAX_WAITS = 3;

/**
 * Compute's words for "the group is busy with another change": an operation in progress on the group, or the group
 * not ready for a new one. Retrying the same resize on the next cycle succeeds, so these defer rather than fail.
 */
const CONFLICT =
  /not ready|already (?:in progress|being)|another operation|in progress on|currently being modified|conflict/i;
const CONFLICT_CODES: ReadonlySet<string> = new Set([
  'RESOURCE_NOT_READY',
  'RATE_LIMIT_EXCEEDED',
  'OPERATION_IN_PROGRESS',
]);

/** Why a failed resize call is "not now" rather than an error, or undefined. */
export function deferralOf(error: unknown): string | undefined {
  if (isThrottled(error)) {
    return `throttled (${describeGoogleError(error)})`;
  }
  const conflict =
    grpcCode(error) === GrpcCode.Aborted ||
    httpStatusOf(error) === 409 ||
    (error instanceof Error && CONFLICT.test(error.message));
  return conflict ? `the group is busy with another change (${describeGoogleError(error)})` : undefined;
}

/**
 * Waits up to MAX_WAITS times for a started operation; answers it as last seen (DONE, or still running). Losing
 * track of it is a retryable `operationName` error: the change may or may not have been made.
 */
export async function awaitOperation(
  clients: MigClients,
  target: GcpGroupTarget,
  operation: string,
  operationName: string,
  signal?: AbortSignal,
): Promise<ComputeOperation | undefined> {
  let latest: ComputeOperation | undefined;
  for (let attempt = 0; attempt < MAX_WAITS && latest?.status !== 'DONE'; attempt++) {
    try {
      latest = await waitOperation(clients, target, operation, signal);
    } catch (error) {
      throw new CloudApiError(
        operationName,
        `operation ${operation} was started but its outcome is unknown: ${describeGoogleError(error)}`,
        { cause: error, retryable: true },
      );
    }
  }
  return latest;
}

/**
 * Waits for the resize operation. DONE means the new size is *scheduled* (VMs are created or deleted after it), which
 * is all a resize promises; `listManagedInstances` shows the progress on later cycles.
 */
export async function awaitResize(
  clients: MigClients,
  target: GcpGroupTarget,
  operation: string,
  signal?: AbortSignal,
): Promise<ResizeOutcome> {
  const latest = await awaitOperation(clients, target, operation, 'resize', signal);
  if (latest?.status !== 'DONE') {
    // Not an error: the next cycle decides again, and resizing to the same size is harmless.
    return { applied: false, deferred: `resize operation ${operation} is still ${latest?.status ?? 'pending'}` };
  }
  const failure = operationFailure(latest);
  if (failure === undefined) {
    return { applied: true };
  }
  if (failure.contention) {
    return { applied: false, deferred: `resize operation ${operation} failed: ${failure.detail}` };
  }
  throw new CloudApiError('resize', `operation ${operation} failed: ${failure.detail}`, {
    retryable: failure.serverFault,
  });
}

export interface OperationFailure {
  /** `CODE: message; …`, for logs and reasons. */
  readonly detail: string;
  /** The group was busy or the project throttled: the same request succeeds later. */
  readonly contention: boolean;
  /** A 5xx: expected to clear too, but not a sign of another change in progress. */
  readonly serverFault: boolean;
}

/** Why a finished operation failed, or undefined when it did not. */
export function operationFailure(operation: ComputeOperation): OperationFailure | undefined {
  const errors = operation.error?.errors ?? [];
  if (errors.length === 0) {
    return undefined;
  }
  const status = operation.httpErrorStatusCode ?? undefined;
  return {
    detail: errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; '),
    contention:
      status === 429 ||
      status === 409 ||
      errors.some((e) => CONFLICT_CODES.has(e.code ?? '') || CONFLICT.test(e.message ?? '')),
    serverFault: status !== undefined && status >= 500,
  };
}
