import type { IncomingHttpHeaders } from 'node:http';

/**
 * The region a SigV4-signed request was signed for, from its credential scope
 * (`Credential=AKID/20250106/us-west-2/autoscaling/aws4_request`). One emulator can then stand in for a service in
 * several regions at once, as the product's per-region clients expect. Signatures are never verified: the emulator
 * only runs on loopback with dummy credentials.
 */
export function signedRegion(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') {
    return undefined;
  }
  return /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(authorization)?.[1];
}

/** AWS refuses unsigned requests before looking at anything else. */
export function isSigned(headers: IncomingHttpHeaders): boolean {
  return typeof headers.authorization === 'string' && headers.authorization.startsWith('AWS4-HMAC-SHA256 ');
}

/** A request id in the shape AWS uses (a UUID); SDKs surface it as `$metadata.requestId`. */
export { randomUUID as newRequestId } from 'node:crypto';
