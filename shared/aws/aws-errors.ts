import { isRecord } from '../domain/guards.ts';

/**
 * Error codes AWS uses for throttling across services (the list @smithy/service-error-classification retries on). By
 * the time one reaches us the SDK has already retried it, so it is handled as "try again next cycle".
 */
const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** The SDK's error code (`e.name`), or undefined for a non-Error throw. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (isRecord(error) && isRecord(error.$metadata) && typeof error.$metadata.httpStatusCode === 'number') {
    return error.$metadata.httpStatusCode;
  }
  return undefined;
}

export function isThrottlingError(error: unknown): boolean {
  const name = awsErrorName(error);
  return (name !== undefined && THROTTLING_CODES.has(name)) || httpStatus(error) === 429;
}

/** A fault on AWS's side (5xx): expected to clear without anything changing on ours. */
export function isServerFault(error: unknown): boolean {
  const status = httpStatus(error);
  return (isRecord(error) && error.$fault === 'server') || (status !== undefined && status >= 500);
}

/** Throttling or a server fault: the call may succeed unchanged on the next cycle. */
export function isTransientAwsError(error: unknown): boolean {
  return isThrottlingError(error) || isServerFault(error);
}

/** `Code: message` for error messages; AWS messages carry no request payload, so nothing secret leaks through them. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) {
    return error.message === '' ? error.name : `${error.name}: ${error.message}`;
  }
  return String(error);
}
