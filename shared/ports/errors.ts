/** A cloud API call failed. `retryable` faults (throttling, contention) are expected to clear by the next cycle. */
export class CloudApiError extends Error {
  override readonly name: string = 'CloudApiError';
  readonly operation: string;
  readonly retryable: boolean;

  constructor(operation: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(`${operation}: ${message}`, { cause: options.cause });
    this.operation = operation;
    this.retryable = options.retryable ?? false;
  }
}

/** Publishing the queue-size metric failed; nothing else in the cycle depends on it having succeeded. */
export class MetricsPublishError extends CloudApiError {
  override readonly name = 'MetricsPublishError';
}

/** Reading back the published metric failed; scale-in holds, since the stabilization window is unknown. */
export class MetricsReadError extends CloudApiError {
  override readonly name = 'MetricsReadError';
}
