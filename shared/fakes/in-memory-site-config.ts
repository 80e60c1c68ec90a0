import { applyEdits, modify, type ParseError, parse } from 'jsonc-parser';
import { isRecord } from '../domain/guards.ts';
import type { CallOptions } from '../ports/call-options.ts';
import {
  type ExecutorAuthCheck,
  ExecutorAuthCheckError,
  type ExecutorAuthResult,
  isSendableExecutorToken,
} from '../ports/executor-auth.ts';
import {
  REDACTED_SECRET,
  SiteConfigConflictError,
  SiteConfigReadOnlyError,
  SiteConfigRejectedError,
  type SiteConfigSnapshot,
  type SiteConfigStore,
} from '../ports/site-config.ts';
import { throwIfAborted } from './abort.ts';

/** The executors' shared secret, a flat key with a dot in it, as Sourcegraph's site schema spells it. */
export const EXECUTOR_TOKEN_KEY = 'executors.accessToken';

export type SiteConfigOperation = 'read' | 'update' | 'check';

export interface InMemorySiteConfigOptions {
  /** The JSONC text to start with. Default: a small configuration. */
  readonly contents?: string;
  /** Written into the starting text as `executors.accessToken`; absent or `''`: the text is used as given. */
  readonly executorToken?: string;
  /** `false`: file-managed (`SITE_CONFIG_FILE` without `SITE_CONFIG_ALLOW_EDITS`), every update is refused. */
  readonly editsAllowed?: boolean;
  /** What updates answer for `restartRequired`. Default false. */
  readonly restartRequired?: boolean;
}

export interface InMemorySiteConfig extends SiteConfigStore {
  /** `GET /.executors/test/auth` against this configuration's current secret. */
  readonly executorAuth: ExecutorAuthCheck;
  /** The raw text, secrets included, and its revision. */
  snapshot(): SiteConfigSnapshot;
  /** The executor secret in effect; `''` when unset. */
  executorToken(): string;
  /** An edit made elsewhere (an admin in the UI, the config file): a new revision, no `lastID` check, no edit guard. */
  replace(contents: string): void;
  /** An admin elsewhere changes only `executors.accessToken`: a new revision. */
  setExecutorToken(token: string): void;
  setEditsAllowed(allowed: boolean): void;
  /** The next `times` calls of `operation` throw `error` (e.g. a Sourcegraph client error) and change nothing. */
  failNext(operation: SiteConfigOperation, error: Error, times?: number): void;
  /** Calls made, failed ones included. */
  readonly calls: Readonly<Record<SiteConfigOperation, number>>;
}

const DEFAULT_CONTENTS = `{
  // An in-memory Sourcegraph site configuration.
  "externalURL": "https://sourcegraph.example.com",
  "auth.providers": [{ "type": "builtin" }],
}
`;

/**
 * Sourcegraph's site configuration held in memory, with the rules the adapter meets on a real instance: every write
 * is a new revision; reads show `executors.accessToken` as `"REDACTED"`; an update sending `"REDACTED"` back keeps the
 * current secret; refusals come in the resolver's order (file-managed, blank text, text that is not JSONC, stale
 * `lastID`) and change nothing. Its `executorAuth` answers from the current secret, as the frontend does.
 */
export function createInMemorySiteConfig(options: InMemorySiteConfigOptions = {}): InMemorySiteConfig {
  let contents = parsed(options.contents ?? DEFAULT_CONTENTS, (detail) => new RangeError(detail));
  if (options.executorToken !== undefined && options.executorToken !== '') {
    contents = withToken(contents, options.executorToken);
  }
  let id = 1;
  let editsAllowed = options.editsAllowed ?? true;
  const restartRequired = options.restartRequired ?? false;
  const calls: Record<SiteConfigOperation, number> = { read: 0, update: 0, check: 0 };
  const failures = new Map<SiteConfigOperation, { error: Error; remaining: number }>();

  const write = (text: string) => {
    contents = text;
    id += 1;
  };
  const currentToken = (): string => {
    const token = tokenIn(contents);
    return typeof token === 'string' ? token : '';
  };
  const enter = (operation: SiteConfigOperation) => {
    calls[operation] += 1;
    const failure = failures.get(operation);
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) {
        failures.delete(operation);
      }
      throw failure.error;
    }
  };

  const executorAuth: ExecutorAuthCheck = {
    async check(secret, callOptions: CallOptions = {}): Promise<ExecutorAuthResult> {
      // In the adapter's order: a token that cannot be sent is refused before the deadline is looked at.
      const token = secret.reveal();
      if (!isSendableExecutorToken(token)) {
        throw new ExecutorAuthCheckError(
          'invalid-token',
          'executor auth check: the token cannot be presented as an executor presents it',
        );
      }
      if (callOptions.signal?.aborted) {
        throw new ExecutorAuthCheckError('deadline', "executor auth check: the caller's time budget ran out", {
          cause: callOptions.signal.reason,
          retryable: true,
        });
      }
      enter('check');
      const expected = currentToken();
      if (expected === '') {
        return 'not-configured';
      }
      return token === expected ? 'accepted' : 'rejected';
    },
  };

  return {
    executorAuth,
    calls,
    async read(callOptions: CallOptions = {}) {
      throwIfAborted(callOptions.signal, 'SiteConfiguration');
      enter('read');
      const token = currentToken();
      return { id, contents: token === '' ? contents : withToken(contents, REDACTED_SECRET) };
    },
    async update(lastID, input, callOptions: CallOptions = {}) {
      throwIfAborted(callOptions.signal, 'UpdateSiteConfiguration');
      enter('update');
      if (!editsAllowed) {
        throw new SiteConfigReadOnlyError();
      }
      if (input.trim() === '') {
        throw new SiteConfigRejectedError('the site configuration text is blank (send {} to clear it)');
      }
      let next = parsed(
        input,
        (detail) => new SiteConfigRejectedError(`the site configuration text is not JSONC: ${detail}`),
      );
      if (tokenIn(next) === REDACTED_SECRET) {
        next = withToken(next, currentToken());
      }
      if (lastID !== id) {
        throw new SiteConfigConflictError(lastID);
      }
      write(next);
      return { restartRequired };
    },
    snapshot: () => ({ id, contents }),
    executorToken: currentToken,
    replace(text) {
      write(parsed(text, (detail) => new RangeError(detail)));
    },
    setExecutorToken(token) {
      write(withToken(contents, token));
    },
    setEditsAllowed(allowed) {
      editsAllowed = allowed;
    },
    failNext(operation, error, times = 1) {
      if (!Number.isInteger(times) || times < 1) {
        throw new RangeError(`times must be a whole number of at least 1, got ${times}`);
      }
      failures.set(operation, { error, remaining: times });
    },
  };
}

/** The text itself when it is JSONC with an object at the top; else the error `fail` builds (never quoting the text). */
function parsed(text: string, fail: (detail: string) => Error): string {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    throw fail(`parse error ${first.error} at offset ${first.offset}`);
  }
  if (!isRecord(value)) {
    throw fail('the top level must be a JSON object');
  }
  return text;
}

function tokenIn(text: string): unknown {
  const value: unknown = parse(text, [], { allowTrailingComma: true });
  return isRecord(value) ? value[EXECUTOR_TOKEN_KEY] : undefined;
}

/** Sets the secret's value in place: only that literal changes; comments, order and layout stay. */
function withToken(text: string, token: string): string {
  const edits = modify(text, [EXECUTOR_TOKEN_KEY], token, {
    formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' },
  });
  return applyEdits(text, edits);
}
