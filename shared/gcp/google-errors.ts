import { isRecord } from '../domain/guards.ts';

/**
 * google-gax errors, narrowed without importing gax: in REST (`fallback`) mode a `GoogleError` carries `code` (the
 * gRPC status the HTTP status was mapped to) and, since gax 6.17, `httpStatusCode` (the status actually received).
 */

/** gRPC status codes this code reacts to (google.rpc.Code). */
export const GrpcCode = {
  Cancelled: 1,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  FailedPrecondition: 9,
  Aborted: 10,
  ResourceExhausted: 8,
  Internal: 13,
  Unavailable: 14,
} as const;

export function grpcCode(error: unknown): number | undefined {
  return isRecord(error) && typeof error.code === 'number' ? error.code : undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  return isRecord(error) && typeof error.httpStatusCode === 'number' ? error.httpStatusCode : undefined;
}

export function isNotFound(error: unknown): boolean {
  return grpcCode(error) === GrpcCode.NotFound || httpStatusOf(error) === 404;
}

export function isThrottled(error: unknown): boolean {
  return grpcCode(error) === GrpcCode.ResourceExhausted || httpStatusOf(error) === 429;
}

/**
 * Throttling, a server fault or a deadline: expected to clear on a later cycle with nothing changed on our side.
 * gax has already retried what its per-method config allows (reads retry UNAVAILABLE; writes are never retried).
 */
export function isTransientGoogleError(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) {
    // The cycle's deadline, not the cloud: the same call fits in the next cycle's budget.
    return true;
  }
  const status = httpStatusOf(error);
  const code = grpcCode(error);
  const transientCodes: readonly number[] = [
    GrpcCode.ResourceExhausted,
    GrpcCode.Unavailable,
    GrpcCode.Internal,
    GrpcCode.DeadlineExceeded,
    GrpcCode.Aborted,
  ];
  return (
    isThrottled(error) ||
    (status !== undefined && status >= 500) ||
    (code !== undefined && transientCodes.includes(code))
  );
}

/** `message (code N, HTTP S)` for error messages; Google's messages name resources, never request payloads. */
export function describeGoogleError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const code = grpcCode(error);
  const status = httpStatusOf(error);
  const tags = [code === undefined ? '' : `code ${code}`, status === undefined ? '' : `HTTP ${status}`].filter(Boolean);
  return tags.length === 0 ? error.message : `${error.message} (${tags.join(', ')})`;
}
