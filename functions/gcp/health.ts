import { checkFleetHealth } from '../../shared/app/health.ts';
import { once } from '../../shared/app/once.ts';
import { SAFETY_MARGIN_MS } from '../../shared/app/scale-invocation.ts';
import { createWebhook } from '../../shared/app/webhook.ts';
import { correlatedHttp, logFailure, onlyPost, sendProblem } from '../../shared/gcp/functions.ts';
import { createGcpHealthRuntime } from '../../shared/gcp/health-deps.ts';
import { webhookRequestOf, writeWebhookResponse } from '../../shared/gcp/http-request.ts';
import { createFunctionLogger } from '../../shared/observability/function-logger.ts';
import { systemClock, systemSleep } from '../../shared/ports/clock.ts';

// Config and clients once per instance; started at load so a bad config fails the first request loudly.
const logging = createFunctionLogger(process.env, 'health');
const runtime = once(() => createGcpHealthRuntime(process.env, systemClock, systemSleep, logging));
runtime().catch(() => {});

/** Cloud Scheduler's POST (OIDC checked by the platform): judges every fleet and replaces broken VMs of direct ones. */
correlatedHttp('healthCheck', async (request, response) => {
  const startedAt = Date.now();
  if (!onlyPost(request, response, 'POST runs a health check')) {
    return;
  }
  try {
    const ready = await runtime();
    const budgetMs = ready.platformTimeoutMs - (Date.now() - startedAt) - SAFETY_MARGIN_MS;
    const report = await checkFleetHealth(ready.health, ready.config, {
      act: true,
      signal: AbortSignal.timeout(Math.max(1, budgetMs)),
    });
    // Sourcegraph unreadable: nothing was judged or replaced, which Scheduler records as a failed run.
    response.status(report.sourcegraph.ok ? 200 : 503).json(report);
  } catch (caught) {
    sendProblem(response, 500, `health check failed: ${logFailure(logging.logger, caught).message}`);
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
    logFailure(logging.logger, caught);
    // The caller may not be authenticated yet: the reason stays in the log.
    sendProblem(response, 500, 'the webhook could not start; its logs say why');
  }
});
