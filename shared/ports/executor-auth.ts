import type { SecretValue } from '../config/secret.ts';
import type { CallOptions } from './call-options.ts';

/**
 * `accepted`: Sourcegraph takes this token from executors now. `rejected`: it does not (another token is configured).
 * `not-configured`: no executor token is configured at all, so every executor is refused.
 */
export type ExecutorAuthResult = 'accepted' | 'rejected' | 'not-configured';

/**
 * Whether Sourcegraph accepts a token as the executors' shared secret, asked the one way that changes nothing
 * (`GET /.executors/test/auth`; never dequeue or heartbeat, which claim jobs and register executors). Sourcegraph
 * compares against its current site configuration with no grace period, so exactly one token is accepted at a time.
 * Throws `ExecutorAuthCheckError` when it gives no such answer.
 */
export interface ExecutorAuthCheck {
  check(token: SecretValue, options?: CallOptions): Promise<ExecutorAuthResult>;
}

/**
 * `invalid-token`: the token cannot be sent in an `Authorization` header as an executor sends it (empty, spaces,
 * control or non-ASCII characters); nothing was asked. `deadline`: the caller's time budget ran out. `timeout`: no
 * answer in time. `network`: no HTTP answer. `http`: an answer that is none of the three known ones (another status,
 * another 500, a 200 that is not Sourcegraph's `ok`).
 */
export type ExecutorAuthFailure = 'invalid-token' | 'deadline' | 'timeout' | 'network' | 'http';

/** The check gave no answer. The message never carries the token. */
export class ExecutorAuthCheckError extends Error {
  override readonly name = 'ExecutorAuthCheckError';
  readonly kind: ExecutorAuthFailure;
  readonly status?: number;
  /** Asking again later may answer (an outage, a timeout); false when the same request cannot succeed. */
  readonly retryable: boolean;

  constructor(
    kind: ExecutorAuthFailure,
    message: string,
    options: { cause?: unknown; status?: number; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) {
      this.status = options.status;
    }
  }
}

/**
 * Printable ASCII without spaces: what an executor can present as `token-executor <token>`. Sourcegraph splits the
 * header on single spaces (a token with a space is never accepted), and `fetch` trims and refuses other characters.
 */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

export function isSendableExecutorToken(token: string): boolean {
  return SENDABLE_TOKEN.test(token);
}
