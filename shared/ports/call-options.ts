/**
 * Passed to every port call that leaves the process. The signal carries the cycle's deadline: an aborted call fails
 * fast instead of running past the platform's timeout, where nothing would be logged.
 */
export interface CallOptions {
  readonly signal?: AbortSignal;
}
