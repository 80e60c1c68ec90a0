/**
 * An error the emulated service answers with. Each protocol spells it its own way (awsQuery XML, JSON `__type` plus
 * the query-compatible header), so handlers throw this and the protocol layer renders it.
 */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  /** The service's error code, e.g. `ValidationError`, `ResourceNotFoundException`. */
  readonly code: string;
  readonly status: number;
  /** `Sender` for the caller's mistakes (4xx), `Receiver` for the service's own (5xx), as AWS classifies them. */
  readonly type: 'Sender' | 'Receiver';

  constructor(code: string, message: string, options: { status?: number; type?: 'Sender' | 'Receiver' } = {}) {
    super(message);
    this.code = code;
    this.status = options.status ?? 400;
    this.type = options.type ?? (this.status >= 500 ? 'Receiver' : 'Sender');
  }
}

/** The code AWS uses for a server fault of this status: 503 is "unavailable", anything else an internal failure. */
export function serverFaultCode(status: number): string {
  return status === 503 ? 'ServiceUnavailable' : 'InternalFailure';
}
