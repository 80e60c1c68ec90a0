import type { FleetplaneConfig } from '../config/types.ts';
import { toError } from '../domain/guards.ts';
import type { Logger } from '../ports/logger.ts';
import { jsonResponse, problemResponse, type WebhookResponse } from '../webhook/request.ts';
import { createWebhookRouter, type WebhookAuth, type WebhookHandler } from '../webhook/router.ts';
import { checkFleetHealth, type HealthDeps, type HealthReport } from './health.ts';
import { renderHealthHtml } from './health-view.ts';
import { RotationError, RotationInProgressError, type RotationRuntime, rotateExecutorSecret } from './rotation.ts';
import { recordRotation, rotationSucceeded } from './rotation-outcome.ts';
import { SAFETY_MARGIN_MS } from './scale-invocation.ts';

export interface WebhookApp {
  readonly auth: WebhookAuth;
  readonly config: FleetplaneConfig;
  readonly health: HealthDeps;
  /** Absent when the config names no executor secret: `POST /rotate` then answers 404. */
  readonly rotation?: RotationRuntime;
  /** The cloud's reading of a `POST /rotate` body (`{}` or `{"rotation": "<id>"}`); throws on anything else. */
  readonly parseRotate: (body: unknown) => { readonly rotation?: string };
  readonly logger: Logger;
}

const ROTATE_BODY = 'expected no body, {} or {"rotation": "<id>"}';

/**
 * The webhook: `GET /health` judges the fleets and reports, changing nothing (a GET must be safe; the scheduled check
 * is the one that replaces); `POST /rotate` runs a rotation and starts the fleets' rolls without waiting for them,
 * answering the report. Authentication, limits and routing are the router's.
 */
export function createWebhook(app: WebhookApp, remainingMs: () => number): WebhookHandler {
  const deadline = () => AbortSignal.timeout(Math.max(1, remainingMs() - SAFETY_MARGIN_MS));
  return createWebhookRouter<HealthReport>({
    auth: app.auth,
    logger: app.logger,
    health: {
      report: () => checkFleetHealth(app.health, app.config, { act: false, signal: deadline() }),
      renderHtml: renderHealthHtml,
      status: (report) => (report.sourcegraph.ok ? 200 : 503),
    },
    rotate: async (body) => {
      const rotation = app.rotation;
      if (rotation === undefined) {
        return problemResponse(404, 'this deployment names no executorSecret, so it cannot rotate');
      }
      let request: { readonly rotation?: string };
      try {
        request = app.parseRotate(body);
      } catch {
        // The parser's message may quote the request; the answer never does.
        return problemResponse(400, ROTATE_BODY);
      }
      return rotate(rotation, request, deadline(), app.logger);
    },
  });
}

async function rotate(
  runtime: RotationRuntime,
  request: { readonly rotation?: string },
  signal: AbortSignal,
  logger: Logger,
): Promise<WebhookResponse> {
  try {
    const report = await recordRotation(
      runtime.telemetry,
      { environment: runtime.config.environment, logger },
      rotationSucceeded,
      () => rotateExecutorSecret(runtime.deps, request, { tokenLength: runtime.tokenLength, signal }),
    );
    return jsonResponse(200, report);
  } catch (caught) {
    const error = toError(caught);
    logger.error('webhook rotation failed', { error });
    if (error instanceof RotationInProgressError) {
      return problemResponse(409, error.message);
    }
    // Rotation errors name the step and the reason, never a token; anything else stays in the log.
    return problemResponse(500, error instanceof RotationError ? error.message : 'the rotation failed; see the log');
  }
}
