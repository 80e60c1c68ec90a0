import type { CloudEvent } from '@google-cloud/functions-framework';
import { once } from '../../shared/app/once.ts';
import { RotationError, RotationInProgressError } from '../../shared/app/rotation.ts';
import { invokeRotation } from '../../shared/app/rotation-invocation.ts';
import { platformTimeoutMs } from '../../shared/gcp/deps.ts';
import { correlatedCloudEvent, correlatedHttp, logFailure, onlyPost, sendProblem } from '../../shared/gcp/functions.ts';
import { createGcpRotationRuntime } from '../../shared/gcp/rotation-deps.ts';
import { parseRotateBody, parseSecretEvent, RotateEventError } from '../../shared/gcp/rotation-events.ts';
import { createFunctionLogger } from '../../shared/observability/function-logger.ts';
import { systemClock, systemSleep } from '../../shared/ports/clock.ts';

// Config and clients once per instance; started at load so a bad config fails the first request loudly.
const logging = createFunctionLogger(process.env, 'rotate');
// A bad timeout setting fails the first request with a logged ConfigError, as a bad config does, not the load.
const runtime = once(async () => ({
  remainingMs: platformTimeoutMs(process.env),
  rotation: await createGcpRotationRuntime(process.env, systemClock, systemSleep, logging),
}));
runtime().catch(() => {});

/** A manual rotation (IAM-authenticated HTTP): POST with no body or `{"rotation": "<id>"}`; answers the report. */
correlatedHttp('rotate', async (request, response) => {
  if (!onlyPost(request, response, 'POST runs a rotation')) {
    return;
  }
  try {
    const { rotation, remainingMs } = await runtime();
    response.status(200).json(await invokeRotation(rotation, parseRotateBody(request.body), { remainingMs }));
  } catch (caught) {
    const error = logFailure(logging.logger, caught);
    const status = error instanceof RotateEventError ? 400 : error instanceof RotationInProgressError ? 409 : 500;
    sendProblem(response, status, `rotate invocation failed: ${error.message}`);
  }
});

/** Secret Manager's SECRET_ROTATE notification (Pub/Sub) for the executor secret; other event types are ignored. */
correlatedCloudEvent('rotateOnSecretEvent', async (event: CloudEvent<unknown>) => {
  try {
    const { rotation, remainingMs } = await runtime();
    const parsed = parseSecretEvent(event.data, rotation.config);
    if (parsed.kind === 'ignore') {
      logging.logger.info('secret event ignored', { eventType: parsed.eventType });
      return;
    }
    await invokeRotation(rotation, { kind: 'rotation' }, { remainingMs });
  } catch (caught) {
    const error = logFailure(logging.logger, caught);
    // A refused event or a rotation that cannot succeed as things stand is acknowledged, or Pub/Sub would redeliver
    // it for days; a retryable failure throws, and the redelivery resumes the rotation.
    if (!(error instanceof RotateEventError || (error instanceof RotationError && !error.retryable))) {
      throw error;
    }
  }
});
