/**
 * The shared secret between Sourcegraph (`executors.accessToken` in site config) and its executors
 * (`EXECUTOR_FRONTEND_PASSWORD`), sent as `Authorization: token-executor <token>`. Nothing here ever puts a token in
 * an error message: problems are told by length or by character class.
 */

/** Minimum token length in characters: the site-config schema's `^(.{20,}|REDACTED)$`. */
export const EXECUTOR_TOKEN_MIN_LENGTH = 20;
/** Generated token length in characters: 240 bits of entropy at 6 bits a character. */
export const DEFAULT_EXECUTOR_TOKEN_LENGTH = 40;
/** Maximum token length in characters: far above any need, far below header and env-file limits. */
export const EXECUTOR_TOKEN_MAX_LENGTH = 256;

/** What a secret reads back as from `effectiveContents`; writing it back means "keep the current secret". */
const REDACTED = 'REDACTED';

// 64 URL-safe characters (RFC 4648 base64url): safe unquoted in a header, an env file, a shell word and a URL.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A source of cryptographically strong bytes, e.g. `(count) => crypto.getRandomValues(new Uint8Array(count))`. */
export type RandomBytes = (count: number) => Uint8Array;

/** A token was refused; the message names the rule it breaks, never the token. */
export class ExecutorTokenError extends Error {
  override readonly name: string = 'ExecutorTokenError';
}

/** A fresh token of `length` characters from the 64-character URL-safe alphabet. */
export function executorTokenFrom(randomBytes: RandomBytes, length = DEFAULT_EXECUTOR_TOKEN_LENGTH): string {
  if (!Number.isInteger(length) || length < EXECUTOR_TOKEN_MIN_LENGTH || length > EXECUTOR_TOKEN_MAX_LENGTH) {
    throw new RangeError(
      `executor token length must be an integer from ${EXECUTOR_TOKEN_MIN_LENGTH} to ${EXECUTOR_TOKEN_MAX_LENGTH}, got ${length}`,
    );
  }
  const bytes = randomBytes(length);
  if (bytes.length < length) {
    throw new RangeError(`the random source returned ${bytes.length} bytes, ${length} were asked for`);
  }
  let token = '';
  for (let index = 0; index < length; index += 1) {
    // No modulo bias: 64 divides 256, so the low 6 bits of a uniform byte are uniform over the alphabet (each
    // character is hit by exactly 4 byte values). A 62-character alphabet would need rejection sampling instead.
    token += ALPHABET[(bytes[index] ?? 0) & 0x3f];
  }
  return token;
}

/**
 * Why `token` cannot be set as the new executor token, or `undefined` when it can. The rules are the schema's
 * (20 or more characters) plus what keeps the token usable verbatim in an `Authorization` header and in the
 * executor's env file, which systemd and shells read: printable ASCII only, without quotes, backslash or `$`.
 */
export function executorTokenProblem(token: string): string | undefined {
  if (token === REDACTED || token.startsWith(`${REDACTED}-`)) {
    // `REDACTED` (or the hashed `REDACTED-DATA-CHUNK-<hex>`) is what a read returns, not a secret: writing it back
    // keeps the old secret, so the rotation would silently not happen.
    return 'executor token is the redaction marker a read returns, not a secret';
  }
  for (const char of token) {
    const characterClass = forbiddenClassOf(char);
    if (characterClass !== undefined) {
      return `executor token contains ${characterClass}; only printable ASCII without quotes, backslash or $ is allowed`;
    }
  }
  if (token.length < EXECUTOR_TOKEN_MIN_LENGTH || token.length > EXECUTOR_TOKEN_MAX_LENGTH) {
    return `executor token must be ${EXECUTOR_TOKEN_MIN_LENGTH} to ${EXECUTOR_TOKEN_MAX_LENGTH} characters, got ${token.length}`;
  }
  return undefined;
}

/** Throws an `ExecutorTokenError` unless `token` can be set as the new executor token (see `executorTokenProblem`). */
export function checkExecutorToken(token: string): void {
  const problem = executorTokenProblem(token);
  if (problem !== undefined) {
    throw new ExecutorTokenError(problem);
  }
}

function forbiddenClassOf(char: string): string | undefined {
  const code = char.codePointAt(0) ?? 0;
  if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
    return 'whitespace';
  }
  if (code < 0x20 || code === 0x7f) {
    return 'a control character';
  }
  if (code > 0x7f) {
    // Non-ASCII: fetch refuses header values beyond Latin-1, and whitespace or controls hide up here too.
    return 'a non-ASCII character';
  }
  if (char === '"' || char === "'" || char === '`') {
    return 'a quote';
  }
  if (char === '\\') {
    return 'a backslash';
  }
  if (char === '$') {
    return 'a dollar sign';
  }
  return undefined;
}
