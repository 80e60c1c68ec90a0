import { once } from '../../shared/app/once.ts';
import { invokeScale } from '../../shared/app/scale-invocation.ts';
import { isRecord, toError } from '../../shared/domain/guards.ts';
import { createGcpScaleRuntime } from '../../shared/gcp/deps.ts';
import { correlatedCloudEvent, correlatedHttp, logFailure, sendProblem } from '../../shared/gcp/functions.ts';
import { createFunctionLogger } from '../../shared/observability/function-logger.ts';
import { systemClock } from '../../shared/ports/clock.ts';

// Config and clients once per instance; started at load so a bad config fails the first request loudly.
const logging = createFunctionLogger(process.env, 'scale');
const runtime = once(() => createGcpScaleRuntime(process.env, systemClock, logging));
runtime().catch(() => {});

async function scale(manual: boolean) {
  try {
    const ready = await runtime();
    return await invokeScale(ready, { once: manual, remainingMs: ready.platformTimeoutMs });
  } catch (caught) {
    throw logFailure(logging.logger, caught);
  }
}

/** Cloud Scheduler (HTTP, OIDC checked by the platform) every minute; a body of `{"once": true}` runs one cycle. */
correlatedHttp('scale', async (request, response) => {
  try {
    response.status(200).json(await scale(isRecord(request.body) && request.body.once === true));
  } catch (error) {
    // Scheduler records the failure; the message names fleets and reasons, never a secret.
    sendProblem(response, 500, `scale invocation failed: ${toError(error).message}`);
  }
});

/** The same, triggered by a Pub/Sub message (Cloud Scheduler's Pub/Sub target). */
correlatedCloudEvent('scaleEvent', async () => {
  await scale(false);
});
