import type { CallOptions } from '../ports/call-options.ts';
import {
  type ExecutorAuthCheck,
  ExecutorAuthCheckError,
  type ExecutorAuthResult,
  isSendableExecutorToken,
} from '../ports/executor-auth.ts';
import { describeFailure, excerpt } from './http-text.ts';
import { type GraphQLTransportOptions, httpPolicyOf, parseRetryAfter } from './transport.ts';

/** The one executor route without side effects: the token check every executor route runs, then `200 ok`. */
export const EXECUTOR_AUTH_PATH = '/.executors/test/auth';
/** `http.Error`'s text when `executors.accessToken` is empty (`executorAuthMiddleware`, before any token is read). */
const NOT_CONFIGURED = /executors are not configured/i;
/** Longest excerpt of a response body quoted in an error, in characters. */
const USER_AGENT = 'fleetplane';
const LABEL = `Sourcegraph GET ${EXECUTOR_AUTH_PATH}`;

/** The same settings as the GraphQL transport (endpoint, retries, timeouts), without the access token: not sent here. */
export type SourcegraphExecutorAuthOptions = Omit<GraphQLTransportOptions, 'token'>;

type Outcome =
  | { readonly result: ExecutorAuthResult }
  | { readonly error: ExecutorAuthCheckError; readonly retryAfterMs?: number };

/**
 * Asks Sourcegraph whether it takes a token from executors, as an executor presents it (`Authorization: token-executor
 * <token>`). 200 `ok` → accepted, 401 → rejected, 500 "Executors are not configured…" → not configured. Outages (429,
 * other 5xx, network, timeout) are retried with the transport's backoff; any other answer throws at once, since it
 * means the endpoint is not Sourcegraph's external URL or this route is missing.
 */
export function createSourcegraphExecutorAuthCheck(options: SourcegraphExecutorAuthOptions): ExecutorAuthCheck {
  const url = `${options.endpoint.replace(/\/+$/, '')}${EXECUTOR_AUTH_PATH}`;
  const { fetchImpl, clock, timeoutMs, maxAttempts, baseDelayMs, maxDelayMs, retryAfterCapMs } = httpPolicyOf(options);

  async function attemptOnce(
    token: string,
    scrub: (text: string) => string,
    deadline: AbortSignal | undefined,
  ): Promise<Outcome> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = deadline === undefined ? timeout : AbortSignal.any([timeout, deadline]);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        headers: { Authorization: `token-executor ${token}`, Accept: 'text/plain', 'User-Agent': USER_AGENT },
        signal,
        // A redirect usually means the endpoint is not the external URL; following it could forward the token.
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      if (deadline?.aborted) {
        throw outOfTime(deadline);
      }
      if (timeout.aborted) {
        const message = `${LABEL}: no answer within ${timeoutMs}ms`;
        return { error: new ExecutorAuthCheckError('timeout', message, { cause: timeout.reason, retryable: true }) };
      }
      const detail = describeFailure(error);
      const message = `${LABEL}: network error: ${scrub(detail)}`;
      // Kept as the cause only when it does not quote the token (fetch errors do not carry the request's headers).
      const cause = scrub(detail) === detail ? { cause: error } : {};
      return { error: new ExecutorAuthCheckError('network', message, { ...cause, retryable: true }) };
    }

    const { status } = response;
    if (status === 200) {
      if (text.trim() === 'ok') {
        return { result: 'accepted' };
      }
      // Never count an unknown 200 as accepted: a rotation would then trust a token Sourcegraph does not hold.
      const message = `${LABEL}: HTTP 200 without Sourcegraph's "ok" (${excerpt(text, scrub)}); is the endpoint Sourcegraph's external URL?`;
      return { error: new ExecutorAuthCheckError('http', message, { status }) };
    }
    if (status === 401) {
      return { result: 'rejected' };
    }
    if (status === 500 && NOT_CONFIGURED.test(text)) {
      return { result: 'not-configured' };
    }
    if (status === 429 || status >= 500) {
      const message = `${LABEL}: HTTP ${status}: ${excerpt(text, scrub)}`;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock());
      const error = new ExecutorAuthCheckError('http', message, { status, retryable: true });
      return retryAfterMs === undefined ? { error } : { error, retryAfterMs };
    }
    if (status >= 300 && status < 400) {
      const message = `${LABEL}: unexpected redirect (HTTP ${status}); set the endpoint to Sourcegraph's external URL`;
      return { error: new ExecutorAuthCheckError('http', message, { status }) };
    }
    const message = `${LABEL}: unexpected HTTP ${status}: ${excerpt(text, scrub)}`;
    return { error: new ExecutorAuthCheckError('http', message, { status }) };
  }

  return {
    async check(secret, callOptions: CallOptions = {}) {
      const token = secret.reveal();
      if (!isSendableExecutorToken(token)) {
        throw new ExecutorAuthCheckError(
          'invalid-token',
          `${LABEL}: the token cannot be presented as an executor presents it (printable ASCII without spaces only)`,
        );
      }
      const scrub = (text: string) => text.split(token).join('[redacted]');
      const deadline = callOptions.signal;
      for (let attempt = 1; ; attempt++) {
        if (deadline?.aborted) {
          throw outOfTime(deadline);
        }
        const outcome = await attemptOnce(token, scrub, deadline);
        if ('result' in outcome) {
          return outcome.result;
        }
        const { error, retryAfterMs } = outcome;
        if (!error.retryable || attempt >= maxAttempts) {
          throw error;
        }
        if (retryAfterMs !== undefined && retryAfterMs > retryAfterCapMs) {
          throw error;
        }
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const delayMs = retryAfterMs ?? Math.floor(options.random() * ceiling);
        options.logger?.warn('executor auth check failed, retrying', {
          module: 'sourcegraph',
          attempt,
          maxAttempts,
          delayMs,
          kind: error.kind,
          status: error.status,
          reason: error.message,
        });
        await options.sleep(delayMs, deadline);
      }
    },
  } satisfies ExecutorAuthCheck;
}

function outOfTime(deadline: AbortSignal): ExecutorAuthCheckError {
  return new ExecutorAuthCheckError('deadline', `${LABEL}: the caller's time budget ran out`, {
    cause: deadline.reason,
    retryable: true,
  });
}
