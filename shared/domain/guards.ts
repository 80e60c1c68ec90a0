/** Narrowing helpers: caught values are `unknown`, parsed JSON is `unknown`; neither is cast with `as`. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

export function assertIsError(value: unknown): asserts value is Error {
  if (!(value instanceof Error)) {
    throw new TypeError(`expected an Error, got ${typeof value}`, { cause: value });
  }
}

/** Wraps a non-Error throw so callers can always rely on `message` and `name`. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
