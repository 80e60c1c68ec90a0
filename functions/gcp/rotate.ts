import type { CloudEvent } from '@google-cloud/functions-framework';
import { once } from '../../shared/app/once.ts';
import { RotationError, RotationInProgressError } from '../../shared/app/rotation.ts';
import { invokeRotation } from '../../shared/app/rotation-invocation.ts';
import { toError } from '../../shared/domain/guards.ts';
import { platformTimeoutMs } from '../../shared/gcp/deps.ts';
import { correlatedCloudEvent, correlatedHttp } from '../../shared/gcp/functions.ts';
import { createGcpRotationRuntime } from '../../shared/gcp/rotation-deps.ts';
import { parseRotateBody, parseSecretEvent, RotateEventError } from '../../shared/gcp/rotation-events.ts';
import { createJsonLogger } from '../../shared/observability/logger.ts';

// Config and clients once per instance; started at load so a bad config fails the first request loudly.
const runtime = once(async () => ({
  timeoutMs: platformTimeoutMs(process.env),
  rotation: await createGcpRotationRuntime(process.env),
}));
runtime().catch(() => {});
type Ready = Awaited<ReturnType<typeof runtime>>;

async function run<T>(work: (ready: Ready) => Promise<T>): Promise<T> {
  try {
    return await work(await runtime());
  } catch (caught) {
    const error = toError(caught);
    const log = runtime.value()?.rotation.deps.logger ?? createJsonLogger({ bindings: { service: 'fleetplane' } });
    log.error('invocation failed', { error });
    throw error;
  }
}

/** A manual rotation (IAM-authenticated HTTP): POST with no body or `{"rotation": "<id>"}`; answers the report. */
correlatedHttp('rotate', async (request, response) => {
  if (request.method !== 'POST') {
    response.status(405).set('allow', 'POST').type('application/problem+json');
    response.json({ title: 'method not allowed', status: 405, detail: 'POST runs a rotation' });
    return;
  }
  try {
    const report = await run(({ rotation, timeoutMs }) =>
      invokeRotation(rotation, parseRotateBody(request.body), { remainingMs: timeoutMs }),
    );
    response.status(200).json(report);
  } catch (caught) {
    const error = toError(caught);
    const status = error instanceof RotateEventError ? 400 : error instanceof RotationInProgressError ? 409 : 500;
    // Messages name steps, secrets and reasons, never a token.
    response.status(status).type('application/problem+json');
    response.json({ title: 'rotate invocation failed', status, detail: error.message });
  }
});

/** Secret Manager's SECRET_ROTATE notification (Pub/Sub) for the executor secret; other event types are ignored. */
correlatedCloudEvent('rotateOnSecretEvent', async (event: CloudEvent<unknown>) => {
  try {
    await run(async ({ rotation, timeoutMs }) => {
      const parsed = parseSecretEvent(event.data, rotation.config);
      if (parsed.kind === 'ignore') {
        rotation.deps.logger.info('secret event ignored', { eventType: parsed.eventType });
        return;
      }
      await invokeRotation(rotation, { kind: 'rotation' }, { remainingMs: timeoutMs });
    });
  } catch (error) {
    // A refused event or a rotation that cannot succeed as things stand (both logged above) is acknowledged, or
    // Pub/Sub would redeliver it for days; a retryable failure throws, and the redelivery resumes the rotation.
    if (!(error instanceof RotateEventError || (error instanceof RotationError && !error.retryable))) {
      throw error;
    }
  }
});
