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

/**
 * A configuration value or secret could not be read from a cloud store. The message names the source (parameter,
 * secret, version, JSON key) and never the value, so it is safe to log. Each cloud's adapter names its own subclass.
 */
export class SecretSourceError extends Error {
  override readonly name: string = 'SecretSourceError';
  /** e.g. `ssm:/fleetplane/config` or `secretmanager:projects/p/secrets/s/versions/latest`. */
  readonly source: string;
  /** Throttling or a server fault: reading again later may succeed. */
  readonly retryable: boolean;

  constructor(source: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(`${source}: ${message}`, { cause: options.cause });
    this.source = source;
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

/** The executor secret's store refused a call or could not be read; the message never carries a secret value. */
export class SecretStoreError extends CloudApiError {
  override readonly name = 'SecretStoreError';
}
