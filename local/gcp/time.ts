/**
 * Google's JSON mapping writes `Timestamp` as RFC 3339 with up to nanosecond precision and `Duration` as `"60s"`.
 * Ordering rules ("points must be newer than the last one") need every nanosecond, which a double of epoch
 * milliseconds cannot hold, so instants are kept as bigint nanoseconds.
 */

export type Nanos = bigint;

const NANOS_PER_MS = 1_000_000n;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export const nanosFromMs = (ms: number): Nanos => BigInt(Math.floor(ms)) * NANOS_PER_MS;
export const msFromNanos = (nanos: Nanos): number => Number(nanos / NANOS_PER_MS);

export function parseTimestamp(text: string): Nanos | undefined {
  const match = RFC3339.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, whole = '', fraction = '', zone = 'Z'] = match;
  const seconds = Date.parse(`${whole}${zone}`);
  if (Number.isNaN(seconds)) {
    return undefined;
  }
  return nanosFromMs(seconds) + BigInt(fraction.padEnd(9, '0'));
}

/** Formats with the shortest of 0, 3, 6 or 9 fraction digits, as Google's JSON mapping does. */
export function formatTimestamp(nanos: Nanos): string {
  const ms = nanos / NANOS_PER_MS;
  const seconds = ms / 1000n;
  const fraction = nanos - seconds * 1000n * NANOS_PER_MS;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) {
    return `${base}Z`;
  }
  const digits = fraction.toString().padStart(9, '0');
  const trimmed = digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits;
  return `${base}.${trimmed}Z`;
}

/** `"60s"`, `"1.5s"` → milliseconds; `undefined` when not a Duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (match === null) {
    return undefined;
  }
  return Number(match[1]) * 1000 + Number(`0.${match[2] ?? '0'}`) * 1000;
}
