import { applyEdits, type FormattingOptions, modify, type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { isRecord } from '../../shared/domain/guards.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { ExecutorTokenChange } from '../world/executor-tokens.ts';

/**
 * The emulated instance's site configuration: JSONC text (comments and trailing commas kept byte for byte) with an id
 * that grows on every write, as the `critical_and_site_config` rows do on a real instance.
 */

/** A flat key with a dot in it, exactly as Sourcegraph's site schema spells it (not `executors: { accessToken }`). */
export const EXECUTOR_TOKEN_KEY = 'executors.accessToken';
/** What a secret reads back as; sending it back unchanged means "keep the current secret". */
export const REDACTED = 'REDACTED';
/** The schema's pattern for the token (`schema/site.schema.json`): 20+ characters, or the redaction marker. */
const TOKEN_PATTERN = /^(.{20,}|REDACTED)$/;

const FORMATTING: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: '\n' };

export interface SiteConfigSnapshot {
  readonly id: number;
  /** The raw text, secrets included. */
  readonly contents: string;
}

/** A refused `updateSiteConfiguration`; the message is what the GraphQL error says. */
export class SiteConfigEditError extends Error {
  override readonly name = 'SiteConfigEditError';
}

export type SiteConfigStore = ReturnType<typeof createSiteConfigStore>;

export function defaultSiteConfig(executorToken: string): string {
  const token =
    executorToken === ''
      ? ''
      : [
          '  // Shared secret executors send as `Authorization: token-executor <secret>`; at least 20 characters.',
          `  ${JSON.stringify(EXECUTOR_TOKEN_KEY)}: ${JSON.stringify(executorToken)},`,
        ].join('\n');
  return [
    '{',
    "  // fleetplane's local stack: an emulated Sourcegraph instance on loopback.",
    '  "externalURL": "http://127.0.0.1",',
    '  "auth.providers": [{ "type": "builtin" }],',
    ...(token === '' ? [] : [token]),
    '  "codeIntelAutoIndexing.enabled": true,',
    '}',
    '',
  ].join('\n');
}

export interface SiteConfigStoreOptions {
  /** When given, replaces the initial text's `executors.accessToken` (the id stays 1). */
  readonly executorToken?: string;
  /** Stamps the executor token's history: the world's clock, so the world can replay it. */
  readonly clock: Clock;
}

export function createSiteConfigStore(initial: string, options: SiteConfigStoreOptions) {
  let contents = parsed(initial, (detail) => new RangeError(`the initial site configuration is not JSONC: ${detail}`));
  if (options.executorToken !== undefined) {
    contents = withKey(contents, options.executorToken);
  }
  let id = 1;
  // A real instance refuses edits when SITE_CONFIG_FILE manages the config (unless SITE_CONFIG_ALLOW_EDITS=true).
  let editsAllowed = true;

  const currentToken = (): string => {
    const token = readKey(contents);
    return typeof token === 'string' ? token : '';
  };
  /** Every value the executor secret has had, whichever way it was written; a write that keeps it adds nothing. */
  const history: ExecutorTokenChange[] = [{ token: currentToken(), from: options.clock() }];
  const write = (text: string) => {
    contents = text;
    id += 1;
    const token = currentToken();
    if (history.at(-1)?.token !== token) {
      history.push({ token, from: options.clock() });
    }
  };

  return {
    snapshot: (): SiteConfigSnapshot => ({ id, contents }),
    /** The text admins see: the executor secret replaced by `"REDACTED"`, everything else untouched. */
    effectiveContents(): string {
      const token = readKey(contents);
      return typeof token === 'string' && token !== '' ? withKey(contents, REDACTED) : contents;
    },
    validationMessages: (): string[] => validate(contents),
    /** The secret `/.executors/` routes compare against; empty when unset or not a string. */
    executorToken: currentToken,
    executorTokenHistory: (): readonly ExecutorTokenChange[] => history,
    /** A change made outside the API (the config file edited): no lastID check, no edit guard. */
    replace(text: string): void {
      write(parsed(text, (detail) => new RangeError(`the site configuration is not JSONC: ${detail}`)));
    },
    setExecutorToken(token: string): void {
      write(withKey(contents, token));
    },
    setEditsAllowed(allowed: boolean): void {
      editsAllowed = allowed;
    },
    /**
     * `updateSiteConfiguration`, checked in the real resolver's order: edit guard, blank input, unredaction (which
     * parses the input), then the optimistic `lastID` check. Returns whether a restart is needed: never, here.
     */
    update(lastID: number, input: string): boolean {
      if (!editsAllowed) {
        throw new SiteConfigEditError('updating site configuration not allowed when using SITE_CONFIG_FILE');
      }
      if (input.trim() === '') {
        throw new SiteConfigEditError(
          'blank site configuration is invalid (to clear it, send an empty JSON object: {})',
        );
      }
      let next = parsed(input, (detail) => new SiteConfigEditError(`error unredacting secrets: ${detail}`));
      if (readKey(next) === REDACTED) {
        next = withKey(next, currentToken());
      }
      if (lastID !== id) {
        // Sourcegraph's ErrNewerEdit wording: the caller read an older config and must read it again.
        throw new SiteConfigEditError('someone else has already applied a newer edit');
      }
      // Schema violations (a short token) are saved anyway and only reported in validationMessages.
      write(next);
      return false;
    },
  };
}

/** The text itself when it parses as JSONC with an object at the top, else the error `fail` builds. */
function parsed(text: string, fail: (detail: string) => Error): string {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    throw fail(`${printParseErrorCode(first.error)} at offset ${first.offset}`);
  }
  if (!isRecord(value)) {
    throw fail('the top level must be a JSON object');
  }
  return text;
}

function readKey(text: string): unknown {
  const value: unknown = parse(text, [], { allowTrailingComma: true });
  return isRecord(value) ? value[EXECUTOR_TOKEN_KEY] : undefined;
}

/** Sets the secret in place: only that value's literal changes, comments and layout stay. */
function withKey(text: string, token: string): string {
  return applyEdits(text, modify(text, [EXECUTOR_TOKEN_KEY], token, { formattingOptions: FORMATTING }));
}

/** Schema violations for the one key the emulator knows, in gojsonschema's `field: description` form. */
function validate(text: string): string[] {
  const token = readKey(text);
  if (token === undefined) {
    return [];
  }
  if (typeof token !== 'string') {
    const given = token === null ? 'null' : Array.isArray(token) ? 'array' : typeof token;
    return [`${EXECUTOR_TOKEN_KEY}: Invalid type. Expected: string, given: ${given}`];
  }
  return TOKEN_PATTERN.test(token) ? [] : [`${EXECUTOR_TOKEN_KEY}: Does not match pattern '${TOKEN_PATTERN.source}'`];
}
