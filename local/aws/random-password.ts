import { randomInt } from 'node:crypto';
import { AwsServiceError } from './errors.ts';

/** GetRandomPassword's options and character classes, as Secrets Manager documents them. */
export interface PasswordOptions {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const MAX_LENGTH = 4096;
/** Draws before giving up on RequireEachIncludedType; only reachable with tiny lengths and many classes. */
const MAX_DRAWS = 1000;

export function randomPassword(options: PasswordOptions): string {
  const length = options.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > MAX_LENGTH) {
    throw new AwsServiceError('InvalidParameterException', `PasswordLength must be between 1 and ${MAX_LENGTH}.`);
  }
  const excluded = new Set(options.ExcludeCharacters ?? '');
  const classes = [
    options.ExcludeLowercase ? '' : LOWER,
    options.ExcludeUppercase ? '' : UPPER,
    options.ExcludeNumbers ? '' : DIGITS,
    options.ExcludePunctuation ? '' : PUNCTUATION,
    options.IncludeSpace ? ' ' : '',
  ]
    .map((chars) => [...chars].filter((char) => !excluded.has(char)).join(''))
    .filter((chars) => chars.length > 0);
  const alphabet = classes.join('');
  if (alphabet.length === 0) {
    throw new AwsServiceError('InvalidParameterException', 'The options exclude every character type.');
  }
  const requireEach = options.RequireEachIncludedType ?? true;
  if (requireEach && length < classes.length) {
    throw new AwsServiceError(
      'InvalidParameterException',
      `PasswordLength ${length} is too short to include each of the ${classes.length} character types.`,
    );
  }
  // Redraw rather than patch in missing classes: every acceptable password stays equally likely.
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const password = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
    if (!requireEach || classes.every((chars) => [...password].some((char) => chars.includes(char)))) {
      return password;
    }
  }
  throw new AwsServiceError('InternalServiceError', 'Could not generate a password with every character type.', {
    status: 500,
  });
}
