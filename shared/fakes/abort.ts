import { CloudApiError } from '../ports/errors.ts';

/** Fakes refuse an aborted call the way the SDKs do: before anything changes. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) {
    throw new CloudApiError(operation, 'aborted: the cycle ran out of time', { cause: signal.reason, retryable: true });
  }
}
