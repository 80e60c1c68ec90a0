import { describe, expect, it } from 'vitest';
import type { RotationRuntime } from '../../../shared/app/rotation.ts';
import { createWebhook, type WebhookApp } from '../../../shared/app/webhook.ts';
import type { FleetplaneConfig } from '../../../shared/config/types.ts';
import type { GroupTarget } from '../../../shared/domain/fleet.ts';
import { DEFAULT_HEALTH } from '../../../shared/domain/health.ts';
import {
  createInMemoryExecutorSecret,
  createInMemoryInstanceGroups,
  createInMemorySiteConfig,
} from '../../../shared/fakes/index.ts';
import { createJsonLogger } from '../../../shared/observability/logger.ts';
import { withExecutorToken } from '../../../shared/sourcegraph/site-config-edit.ts';
import { createHmacAuthenticator, webhookSignatureHeaders } from '../../../shared/webhook/hmac.ts';
import { createInMemoryReplayGuard } from '../../../shared/webhook/replay-guard.ts';
import type { WebhookRequest } from '../../../shared/webhook/request.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const SECRET = 'webhook-secret-0123456789abcdef0123456789';
const OLD = 'old-executor-token-0123456789abcdefghij';
const TARGET: GroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'codeintel' };

function app(options: { rotation?: boolean; sourcegraphDown?: boolean } = {}) {
  const groups = createInMemoryInstanceGroups([], { clock: () => NOW });
  groups.addGroup({
    target: TARGET,
    desired: 1,
    min: 0,
    max: 5,
    instances: [
      { id: 'i-1', lifecycle: 'in-service', state: 'InService', hostname: 'ip-1', launchedAt: NOW - 3_600_000 },
    ],
  });
  const secret = createInMemoryExecutorSecret({ clock: () => NOW });
  secret.seedCurrent('v-initial', OLD);
  const sourcegraph = createInMemorySiteConfig({ contents: `{ "executors.accessToken": "${OLD}" }` });
  const lines: string[] = [];
  const logger = createJsonLogger({ write: (line) => lines.push(line) });
  const config = {
    environment: 'prod',
    health: DEFAULT_HEALTH,
    fleets: [
      {
        name: 'codeintel',
        queues: ['codeintel'],
        series: 'codeintel',
        mode: 'direct',
        target: TARGET,
        jobsPerInstance: 4,
        minInstances: 0,
        maxInstances: 5,
        scaleInWindowSeconds: 600,
      },
    ],
  } as unknown as FleetplaneConfig;
  let ids = 0;
  const rotation: RotationRuntime = {
    config,
    tokenLength: 40,
    deps: {
      secret,
      siteConfig: sourcegraph,
      executorAuth: sourcegraph.executorAuth,
      withExecutorToken,
      randomBytes: (count) => Uint8Array.from({ length: count }, (_, i) => (i * 13 + ids) % 256),
      newRotationId: () => `00000000-0000-4000-8000-00000000000${++ids}`,
      logger,
    },
  };
  const webhookApp: WebhookApp = {
    auth: createHmacAuthenticator({
      secrets: async () => [SECRET],
      replayGuard: createInMemoryReplayGuard({ clock: () => NOW }),
      clock: () => NOW,
    }),
    config,
    health: {
      groups,
      executors: {
        list: async () => {
          if (options.sourcegraphDown) {
            throw new Error('HTTP 502');
          }
          return [];
        },
      },
      clock: () => NOW,
      logger,
    },
    ...(options.rotation === false ? {} : { rotation }),
    parseRotate: (body) => {
      if (body === undefined) {
        return {};
      }
      if (typeof body === 'object' && body !== null && Object.keys(body).every((key) => key === 'rotation')) {
        return body as { rotation?: string };
      }
      throw new Error(`unexpected ${JSON.stringify(body)}`);
    },
    logger,
  };
  return { handler: createWebhook(webhookApp, () => 60_000), groups, secret, sourcegraph, lines };
}

/** Signed at `at`: two requests with the same body need different times, or the second is a replay. */
const signed = (
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
  at = NOW,
): WebhookRequest => ({
  method,
  path,
  headers: { ...webhookSignatureHeaders(SECRET, at, body), ...headers },
  body: new TextEncoder().encode(body),
});

describe('the webhook', () => {
  it('answers GET /health with the report as JSON, replacing nothing, and as HTML for a browser', async () => {
    // Prepare
    const w = app();

    // Act
    const json = await w.handler(signed('GET', '/health'));
    const html = await w.handler(signed('GET', '/health', '', { accept: 'text/html' }, NOW - 1_000));

    // Assess: the instance has no executor (an orphan), and a GET never replaces it
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ fleets: [{ fleet: 'codeintel', wouldReplace: ['i-1'] }] });
    expect(w.groups.calls.replaceInstances).toBe(0);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('<h1>Fleet health</h1>');
  });

  it('answers 503 when Sourcegraph cannot be read', async () => {
    // Act
    const response = await app({ sourcegraphDown: true }).handler(signed('GET', '/health'));

    // Assess
    expect(response.status).toBe(503);
  });

  it('rotates on POST /rotate and answers the report, with no token in it', async () => {
    // Prepare
    const w = app();

    // Act
    const response = await w.handler(signed('POST', '/rotate', '{}'));

    // Assess
    expect(response.status).toBe(200);
    const report = JSON.parse(response.body);
    expect(report.steps).toHaveLength(4);
    const token = (await w.secret.current())?.value.reveal() ?? '';
    expect(token).not.toBe(OLD);
    expect(w.sourcegraph.executorToken()).toBe(token);
    expect(response.body).not.toContain(token);
    expect(w.lines.join('\n')).not.toContain(token);
  });

  it('answers 404 for /rotate where no executor secret is configured, 400 for a body it cannot read', async () => {
    // Act
    const none = await app({ rotation: false }).handler(signed('POST', '/rotate', '{}'));
    const bad = await app().handler(signed('POST', '/rotate', '{"rotate":"<script>"}'));

    // Assess
    expect(none.status).toBe(404);
    expect(bad.status).toBe(400);
    expect(bad.body).not.toContain('script');
  });

  it('answers 409 while another rotation holds the pending version', async () => {
    // Prepare
    const w = app();
    await w.secret.stage('11111111-1111-4111-8111-111111111111', (await w.secret.current())?.value ?? fail());

    // Act
    const response = await w.handler(signed('POST', '/rotate', '{"rotation":"22222222-2222-4222-8222-222222222222"}'));

    // Assess
    expect(response.status).toBe(409);
  });

  it('runs nothing for an unsigned request', async () => {
    // Prepare
    const w = app();

    // Act
    const response = await w.handler({ method: 'POST', path: '/rotate', headers: {}, body: new Uint8Array() });

    // Assess
    expect(response.status).toBe(401);
    expect(await w.secret.pendingRotation()).toBeUndefined();
    expect(w.secret.versions()).toHaveLength(1);
  });
});

function fail(): never {
  throw new Error('no current version');
}
