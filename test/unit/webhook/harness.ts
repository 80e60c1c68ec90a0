import type { LogContext } from '../../../shared/ports/logger.ts';
import {
  createHmacAuthenticator,
  SIGNATURE_HEADER,
  signWebhookBody,
  TIMESTAMP_HEADER,
} from '../../../shared/webhook/hmac.ts';
import { createInMemoryReplayGuard, type ReplayGuard } from '../../../shared/webhook/replay-guard.ts';
import { jsonResponse, type WebhookRequest, type WebhookResponse } from '../../../shared/webhook/request.ts';
import { createWebhookRouter, type WebhookAuth } from '../../../shared/webhook/router.ts';

/** 2026-01-01T00:00:00Z, a whole second, so ±300 s from it are exactly the tolerance's edges. */
export const NOW_MS = 1_767_225_600_000;
export const CURRENT_SECRET = 'current-webhook-secret-0123456789abcdef-0123456789abcdef';
export const PREVIOUS_SECRET = 'previous-webhook-secret-fedcba9876543210-fedcba9876543210';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly context: LogContext | undefined;
}

export interface HarnessOptions {
  readonly nowMs?: number;
  readonly secrets?: readonly string[];
  readonly guard?: ReplayGuard;
  /** `'iam'` for a platform-authenticated deployment; HMAC with the secrets above otherwise. */
  readonly auth?: 'hmac' | 'iam';
  readonly rotate?: (body: unknown) => Promise<WebhookResponse>;
  readonly healthStatus?: number;
  /** When this instance's replay guard started remembering (its cold start); absent: a guard that knows everything. */
  readonly guardSince?: number;
}

/** A router with recording handlers: every call a handler receives is kept, so tests can prove none happened. */
export function createHarness(options: HarnessOptions = {}) {
  let now = options.nowMs ?? NOW_MS;
  const clock = () => now;
  const guard = options.guard ?? createInMemoryReplayGuard({ clock });
  const secrets = options.secrets ?? [CURRENT_SECRET, PREVIOUS_SECRET];
  let secretReads = 0;
  const calls = { health: 0, rotate: [] as unknown[] };
  const logs: LogEntry[] = [];
  const record = (level: LogEntry['level']) => (message: string, context?: LogContext) => {
    logs.push({ level, message, context });
  };
  const auth: WebhookAuth =
    options.auth === 'iam'
      ? 'iam'
      : createHmacAuthenticator({
          secrets: async () => {
            secretReads += 1;
            return secrets;
          },
          replayGuard: guard,
          clock,
          ...(options.guardSince === undefined ? {} : { guardSince: options.guardSince }),
        });
  const router = createWebhookRouter({
    auth,
    health: {
      report: async () => {
        calls.health += 1;
        return { fleets: [{ name: 'linux', healthy: 2 }] };
      },
      renderHtml: (report) => `<!doctype html><title>health</title><p>${report.fleets.length} fleet</p>`,
      ...(options.healthStatus === undefined ? {} : { status: () => options.healthStatus ?? 200 }),
    },
    rotate:
      options.rotate ??
      (async (body) => {
        calls.rotate.push(body);
        return jsonResponse(202, { started: true });
      }),
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
  });
  return {
    router,
    guard,
    calls,
    logs,
    handlerCalls: () => calls.health + calls.rotate.length,
    secretReads: () => secretReads,
    setNow: (ms: number) => {
      now = ms;
    },
  };
}

export interface SignedRequestInput {
  readonly secret?: string;
  readonly timestamp?: number | string;
  readonly method?: string;
  readonly path?: string;
  readonly body?: Uint8Array | string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A correctly signed request (unless told otherwise) at `NOW_MS`. */
export function signedRequest(input: SignedRequestInput = {}): WebhookRequest {
  const body = typeof input.body === 'string' ? Buffer.from(input.body) : (input.body ?? new Uint8Array());
  const timestamp = String(input.timestamp ?? Math.floor(NOW_MS / 1000));
  return {
    method: input.method ?? 'POST',
    path: input.path ?? '/rotate',
    headers: {
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhookBody(input.secret ?? CURRENT_SECRET, timestamp, body),
      ...input.headers,
    },
    body,
  };
}

/** A copy of `request` with one header's value replaced (its name kept as it was). */
export function withHeader(request: WebhookRequest, name: string, value: string): WebhookRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

export function problemOf(response: WebhookResponse): unknown {
  return JSON.parse(response.body);
}
