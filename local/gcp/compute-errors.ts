import type { EmulatorResponse, FaultRenderer } from '../http/emulator.ts';
import { json } from './google-json.ts';

/**
 * Compute Engine spells errors the older way: `{ "error": { "code", "message", "errors": [{ "message", "domain",
 * "reason" }] } }`, without a canonical `status`; gax maps the HTTP status to the gRPC code (404 → NOT_FOUND = 5).
 */
export function computeError(status: number, reason: string, message: string): EmulatorResponse {
  return json(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
}

export const notFound = (resource: string): EmulatorResponse =>
  computeError(404, 'notFound', `The resource '${resource}' was not found`);

export const invalidField = (field: string, value: unknown, why: string): EmulatorResponse =>
  computeError(400, 'invalid', `Invalid value for field '${field}': '${String(value)}'. ${why}`);

export const computeFaults: FaultRenderer = {
  serverError: (status) =>
    computeError(status, 'backendError', 'Internal error. Please try again or contact Google Support.'),
  throttled: () =>
    computeError(
      429,
      'rateLimitExceeded',
      "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com'.",
    ),
};
