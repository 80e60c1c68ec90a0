import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkExecutorToken,
  DEFAULT_EXECUTOR_TOKEN_LENGTH,
  EXECUTOR_TOKEN_MAX_LENGTH,
  EXECUTOR_TOKEN_MIN_LENGTH,
  ExecutorTokenError,
  executorTokenFrom,
  executorTokenProblem,
} from '../../../shared/domain/executor-token.ts';

const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** A random source that hands out `bytes` (repeated as needed) and records what it was asked for. */
function bytesFrom(bytes: readonly number[]) {
  const requests: number[] = [];
  const source = (count: number) => {
    requests.push(count);
    return Uint8Array.from({ length: count }, (_, index) => bytes[index % bytes.length] ?? 0);
  };
  return { source, requests };
}

describe('executorTokenFrom', () => {
  it('draws one byte per character and makes 40 URL-safe characters by default', () => {
    // Prepare
    const { source, requests } = bytesFrom([0, 25, 26, 51, 52, 61, 62, 63]);

    // Act
    const token = executorTokenFrom(source);

    // Assess
    expect(DEFAULT_EXECUTOR_TOKEN_LENGTH).toBe(40);
    expect(requests).toEqual([40]);
    expect(token).toHaveLength(40);
    expect(token.slice(0, 8)).toBe('AZaz09-_');
  });

  it('maps every character from exactly four of the 256 byte values, so uniform bytes give uniform characters', () => {
    // Prepare
    const everyByte = Array.from({ length: 256 }, (_, value) => value);

    // Act
    const token = executorTokenFrom(bytesFrom(everyByte).source, EXECUTOR_TOKEN_MAX_LENGTH);

    // Assess
    const counts = new Map<string, number>();
    for (const char of token) {
      counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(counts.size).toBe(64);
    expect(new Set(counts.values())).toEqual(new Set([4]));
  });

  it.each([
    ['the schema minimum', EXECUTOR_TOKEN_MIN_LENGTH],
    ['the maximum', EXECUTOR_TOKEN_MAX_LENGTH],
  ])('makes tokens of %s', (_name, length) => {
    // Act
    const token = executorTokenFrom(bytesFrom([7]).source, length);

    // Assess
    expect(token).toHaveLength(length);
    expect(() => checkExecutorToken(token)).not.toThrow();
  });

  it.each([
    ['shorter than the schema allows', 19],
    ['absurdly long', 257],
    ['not a whole number', 32.5],
    ['not a number', Number.NaN],
  ])('refuses a length %s, naming the limits', (_name, length) => {
    // Prepare
    const { source, requests } = bytesFrom([1]);

    // Act
    const make = () => executorTokenFrom(source, length);

    // Assess
    expect(make).toThrow(RangeError);
    expect(make).toThrow(/from 20 to 256/);
    expect(requests).toEqual([]);
  });

  it('refuses a random source that returns fewer bytes than asked for', () => {
    // Act
    const make = () => executorTokenFrom(() => new Uint8Array(10));

    // Assess
    expect(make).toThrow(RangeError);
    expect(make).toThrow('the random source returned 10 bytes, 40 were asked for');
  });

  it('gives different tokens on every call with a real cryptographic source', () => {
    // Prepare
    const randomBytes = (count: number) => crypto.getRandomValues(new Uint8Array(count));

    // Act
    const tokens = new Set(Array.from({ length: 100 }, () => executorTokenFrom(randomBytes)));

    // Assess
    expect(tokens.size).toBe(100);
  });

  it('always makes a usable token of the asked length that follows the bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: EXECUTOR_TOKEN_MIN_LENGTH, max: EXECUTOR_TOKEN_MAX_LENGTH }),
        fc.uint8Array({ minLength: EXECUTOR_TOKEN_MAX_LENGTH, maxLength: EXECUTOR_TOKEN_MAX_LENGTH }),
        fc.uint8Array({ minLength: EXECUTOR_TOKEN_MAX_LENGTH, maxLength: EXECUTOR_TOKEN_MAX_LENGTH }),
        (length, first, second) => {
          // Act
          const one = executorTokenFrom(() => first, length);
          const other = executorTokenFrom(() => second, length);
          const highBitsFlipped = executorTokenFrom(() => first.map((byte) => byte ^ 0xc0), length);

          // Assess
          expect(one).toHaveLength(length);
          expect(one).toMatch(URL_SAFE);
          expect(executorTokenProblem(one)).toBeUndefined();
          // Each character is the low six bits of its byte: the same bits give the same token, other bits another.
          const sameBits = first
            .slice(0, length)
            .every((byte, index) => (byte & 0x3f) === ((second[index] ?? 0) & 0x3f));
          expect(one === other).toBe(sameBits);
          expect(highBitsFlipped).toBe(one);
        },
      ),
    );
  });
});

describe('checkExecutorToken', () => {
  it.each([
    ['a generated token', 'Zq3_-k9PfLx0aWb7cR2dYt5uVn8mJh1gE4sT6oIe'],
    ['the shortest the schema allows', 'abcdefghijklmnopqrst'],
    ['printable punctuation', 'a!#%&()*+,./:;<=>?@[]^{|}~-_0123456789'],
    ['an old-style hex secret', '0123456789abcdef0123456789abcdef'],
  ])('accepts %s', (_name, token) => {
    // Act
    const check = () => checkExecutorToken(token);

    // Assess
    expect(check).not.toThrow();
    expect(executorTokenProblem(token)).toBeUndefined();
  });

  it.each([
    ['the redaction marker', 'REDACTED', /redaction marker/],
    ['the hashed redaction marker', 'REDACTED-DATA-CHUNK-f434ecc765', /redaction marker/],
    ['one character short of the schema minimum', 'abcdefghijklmnopqrs', /20 to 256 characters, got 19/],
    ['longer than the maximum', 'x'.repeat(257), /20 to 256 characters, got 257/],
    ['empty', '', /got 0/],
    ['a space', 'abcdefghij klmnopqrstu', /whitespace/],
    ['a tab', 'abcdefghij\tklmnopqrstu', /whitespace/],
    ['a trailing newline', 'abcdefghijklmnopqrstu\n', /whitespace/],
    ['a carriage return', 'abcdefghijklmnopqrstu\r', /whitespace/],
    ['a NUL', 'abcdefghij\u0000klmnopqrstu', /a control character/],
    ['a DEL', 'abcdefghij\u007fklmnopqrstu', /a control character/],
    ['an escape', 'abcdefghij\u001bklmnopqrstu', /a control character/],
    ['a non-breaking space', 'abcdefghij\u00a0klmnopqrstu', /a non-ASCII character/],
    ['a line separator', 'abcdefghij\u2028klmnopqrstu', /a non-ASCII character/],
    ['an accented letter', 'abcdéfghijklmnopqrstu', /a non-ASCII character/],
    ['an emoji', 'abcdefghijklmnopqrstu🔑', /a non-ASCII character/],
    ['a double quote', 'abcdefghij"klmnopqrstu', /a quote/],
    ['a single quote', "abcdefghij'klmnopqrstu", /a quote/],
    ['a backtick', 'abcdefghij`klmnopqrstu', /a quote/],
    ['a backslash', 'abcdefghij\\klmnopqrstu', /a backslash/],
    ['a dollar sign', 'abcdefghij$klmnopqrstu', /a dollar sign/],
  ])('refuses %s without quoting it', (_name, token, reason) => {
    // Act
    const check = () => checkExecutorToken(token);

    // Assess
    expect(check).toThrow(ExecutorTokenError);
    expect(check).toThrow(reason);
    expect(executorTokenProblem(token)).toMatch(reason);
    if (token.length > 0) {
      expect(executorTokenProblem(token)).not.toContain(token);
    }
  });

  it('names the error class so logs can tell it apart', () => {
    // Act
    const error = catchError(() => checkExecutorToken('short'));

    // Assess
    expect(error).toBeInstanceOf(ExecutorTokenError);
    expect(error.name).toBe('ExecutorTokenError');
  });

  it('never puts the token in its message, whatever the token', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: EXECUTOR_TOKEN_MIN_LENGTH, maxLength: 300 }), (token) => {
        // Act
        const problem = executorTokenProblem(token);

        // Assess
        expect(problem ?? '').not.toContain(token);
        if (problem === undefined) {
          expect(() => checkExecutorToken(token)).not.toThrow();
        } else {
          expect(catchError(() => checkExecutorToken(token)).message).toBe(problem);
        }
      }),
    );
  });
});

function catchError(action: () => void): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) {
      return error;
    }
  }
  throw new Error('expected an Error to be thrown');
}
