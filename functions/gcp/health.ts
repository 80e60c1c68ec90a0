import { checkFleetHealth } from '../../shared/app/health.ts';
import { once } from '../../shared/app/once.ts';
import { SAFETY_MARGIN_MS } from '../../shared/app/scale-invocation.ts';
import { createWebhook } from '../../shared/app/webhook.ts';
import { toError } from '../../shared/domain/guards.ts';
import { correlatedHttp } from '../../shared/gcp/functions.ts';
import { createGcpHealthRuntime } from '../../shared/gcp/health-deps.ts';
import { webhookRequestOf, writeWebhookResponse } from '../../shared/gcp/http-request.ts';
import { createJsonLogger } from '../../shared/observability/logger.ts';

// Config and clients once per instance; started at load so a bad config fails the first request loudly.
const runtime = once(() => createGcpHealthRuntime(process.env));
runtime().catch(() => {});

const problem = (title: string, status: number, detail: string) => ({ title, status, detail });
const logFailure = (caught: unknown) => {
  const log = runtime.value()?.health.logger ?? createJsonLogger({ bindings: { service: 'fleetplane' } });
  log.error('invocation failed', { error: toError(caught) });
};

/** Cloud Scheduler's POST (OIDC checked by the platform): judges every fleet and replaces broken VMs of direct ones. */
correlatedHttp('healthCheck', async (request, response) => {
  const startedAt = Date.now();
  if (request.method !== 'POST') {
    response.status(405).set('allow', 'POST').type('application/problem+json');
    response.json(problem('method not allowed', 405, 'POST runs a health check'));
    return;
  }
  try {
    const ready = await runtime();
    const signal = AbortSignal.timeout(
      Math.max(1, ready.platformTimeoutMs - (Date.now() - startedAt) - SAFETY_MARGIN_MS),
    );
    const report = await checkFleetHealth(ready.health, ready.config, { act: true, signal });
    // Sourcegraph unreadable: nothing was judged or replaced, which Scheduler records as a failed run.
    response.status(report.sourcegraph.ok ? 200 : 503).json(report);
  } catch (caught) {
    logFailure(caught);
    // Messages name fleets, groups and reasons, never a secret.
    response.status(500).type('application/problem+json');
    response.json(problem('health check failed', 500, toError(caught).message));
  }
});

/** `GET /health` and `POST /rotate`, authenticated by IAM or by HMAC signature as the config says. */
correlatedHttp('webhook', async (request, response) => {
  const startedAt = Date.now();
  try {
    const ready = await runtime();
    const handle = createWebhook(ready.webhook, () => ready.platformTimeoutMs - (Date.now() - startedAt));
    writeWebhookResponse(response, await handle(webhookRequestOf(request)));
  } catch (caught) {
    logFailure(caught);
    // The caller may not be authenticated yet: the reason stays in the log.
    response.status(500).type('application/problem+json');
    response.json(problem('webhook failed', 500, 'the function could not start; its logs say why'));
  }
});
