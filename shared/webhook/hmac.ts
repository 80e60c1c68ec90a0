import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { type AuthVerdict, headerValue, type RequestAuthenticator, type WebhookRequest } from './request.ts';

/**
 * HMAC-SHA256 request signatures. A client sends
 *
 *     X-Fleetplane-Timestamp: <unix seconds: digits, optionally a `.` and up to 3 digits of milliseconds>
 *     X-Fleetplane-Signature: sha256=<64 lower-case hex digits>
 *
 * where the hex is HMAC-SHA256(secret, `<timestamp>.<raw body bytes>`): the timestamp exactly as sent in its header,
 * a full stop, then the body byte for byte (empty for a GET). A request is accepted when its timestamp is within
 * the tolerance of the server's clock in either direction, the signature matches one of the configured secrets, and
 * the signature has not been accepted before. Method, path and query are not signed.
 */

/** Header names, lower case as lookups use them; clients may send any case. */
export const TIMESTAMP_HEADER = 'x-fleetplane-timestamp';
export const SIGNATURE_HEADER = 'x-fleetplane-signature';
/** Prefix of the signature header's value: names the algorithm so another can be added without ambiguity. */
export const SIGNATURE_PREFIX = 'sha256=';
/** The `WWW-Authenticate` challenge sent with a 401 when HMAC authentication is in use. */
export const HMAC_CHALLENGE = 'Fleetplane-HMAC-SHA256';
/** Seconds a signed request stays valid either side of the server's clock: covers clock skew and slow delivery. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/**
 * Shortest secret accepted, in characters. RFC 2104 discourages HMAC keys shorter than the hash output (32 bytes for
 * SHA-256); `openssl rand -hex 32` gives 64 characters.
 */
export const WEBHOOK_SECRET_MIN_LENGTH = 32;

// Strict on purpose: any second spelling of the same value (spaces, a sign, upper-case hex) would be a way to send
// an accepted signature twice under keys the replay guard sees as different.
// Milliseconds are allowed so that two bodiless requests in one second (two GETs) are not one signed string, the
// second refused as a replay; the signed string stays `<timestamp>.<body>`, so a respelt timestamp breaks the signature.
const TIMESTAMP_PATTERN = /^[0-9]{1,12}(\.[0-9]{1,3})?$/;
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/;

/** Why a request was refused; logged, never sent to the caller. */
export type HmacRefusal =
  | 'missing-timestamp'
  | 'malformed-timestamp'
  | 'timestamp-outside-tolerance'
  /** Signed before this instance's replay guard started remembering: it may be a replay of a request it never saw. */
  | 'signed-before-guard'
  | 'missing-signature'
  | 'malformed-signature'
  | 'signature-mismatch'
  | 'replayed';

/** The configured secrets cannot be used; the message names the rule broken, never a secret. */
export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
}

/** The signature header value (`sha256=<hex>`) for `body` sent at `timestamp` (unix seconds). */
export function signWebhookBody(secret: string, timestamp: number | string, body: Uint8Array | string): string {
  return `${SIGNATURE_PREFIX}${digest(secret, String(timestamp), typeof body === 'string' ? Buffer.from(body) : body).toString('hex')}`;
}

/** Both authentication headers for a request sent at `nowMs` (epoch milliseconds): for clients and tests. */
export function webhookSignatureHeaders(
  secret: string,
  nowMs: number,
  body: Uint8Array | string,
): Record<typeof TIMESTAMP_HEADER | typeof SIGNATURE_HEADER, string> {
  const timestamp = (Math.floor(nowMs) / 1000).toFixed(3);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhookBody(secret, timestamp, body) };
}

export interface HmacAuthenticatorOptions {
  /**
   * The secrets accepted now: the current one, plus the previous one while the webhook secret itself is being
   * rotated. Read only for requests that pass the cheap header checks; the caller caches (see `tokenReader`).
   */
  readonly secrets: () => Promise<readonly string[]>;
  readonly replayGuard: ReplayGuard;
  readonly clock: Clock;
  readonly toleranceSeconds?: number;
  /**
   * Epoch ms since which the replay guard has seen every accepted request (an in-memory guard: when this instance
   * started). A request signed more than `GUARD_START_SLACK_MS` before it is refused: the guard cannot know whether
   * an instance before this one accepted it already. That shrinks the replay window a cold start opens from the
   * whole tolerance to the slack. Absent: a guard shared by every instance, which knows.
   */
  readonly guardSince?: number;
}

/**
 * How long before an instance starts a request may have been signed and still be taken by it: a request signed,
 * sent, and starting the instance it lands on, arrives a few seconds after it was signed.
 */
export const GUARD_START_SLACK_MS = 30_000;

/**
 * Checks the headers before anything costly (no secret read, no hashing for a malformed or stale request), compares
 * digests in constant time, and claims the signature in the replay guard only once it is known to be genuine, so
 * forged requests can neither fill the guard nor burn a real client's signature.
 */
export function createHmacAuthenticator(options: HmacAuthenticatorOptions): RequestAuthenticator {
  const toleranceMs = (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  if (!Number.isFinite(toleranceMs) || toleranceMs <= 0) {
    throw new RangeError(`signature tolerance must be a positive number of seconds, got ${options.toleranceSeconds}`);
  }
  const refuse = (reason: HmacRefusal): AuthVerdict => ({ accepted: false, reason });

  return {
    challenge: HMAC_CHALLENGE,
    async authenticate(request: WebhookRequest): Promise<AuthVerdict> {
      const timestamp = headerValue(request.headers, TIMESTAMP_HEADER);
      if (timestamp === undefined) {
        return refuse('missing-timestamp');
      }
      if (!TIMESTAMP_PATTERN.test(timestamp)) {
        return refuse('malformed-timestamp');
      }
      const signedAt = Number(timestamp) * 1000;
      if (Math.abs(options.clock() - signedAt) > toleranceMs) {
        return refuse('timestamp-outside-tolerance');
      }
      if (options.guardSince !== undefined && signedAt < options.guardSince - GUARD_START_SLACK_MS) {
        return refuse('signed-before-guard');
      }
      const signature = headerValue(request.headers, SIGNATURE_HEADER);
      if (signature === undefined) {
        return refuse('missing-signature');
      }
      const hex = SIGNATURE_PATTERN.exec(signature)?.[1];
      if (hex === undefined) {
        return refuse('malformed-signature');
      }
      // 64 hex digits decode to exactly 32 bytes, the digest's length, so timingSafeEqual never sees unequal lengths.
      const presented = Buffer.from(hex, 'hex');
      const secrets = usableSecrets(await options.secrets());
      let matched = false;
      for (const secret of secrets) {
        // Every secret is tried even after a match, so the time taken does not tell which one matched.
        matched = timingSafeEqual(digest(secret, timestamp, request.body), presented) || matched;
      }
      if (!matched) {
        return refuse('signature-mismatch');
      }
      if (!(await options.replayGuard.claim(`${SIGNATURE_PREFIX}${hex}`, signedAt + toleranceMs))) {
        return refuse('replayed');
      }
      return { accepted: true };
    },
  };
}

function digest(secret: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** An empty list or a short secret is a deployment mistake: refusing every request says so louder than a 401. */
function usableSecrets(secrets: readonly string[]): readonly string[] {
  if (secrets.length === 0) {
    throw new WebhookSecretError('no webhook secret is configured');
  }
  secrets.forEach((secret, index) => {
    if (secret.length < WEBHOOK_SECRET_MIN_LENGTH) {
      throw new WebhookSecretError(
        `webhook secret #${index + 1} is shorter than ${WEBHOOK_SECRET_MIN_LENGTH} characters`,
      );
    }
  });
  return secrets;
}
