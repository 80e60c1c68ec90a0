import { type DeployPlan, DeployPlanError } from './plan.ts';
import { functionRole } from './rotate-function.ts';

/** Logical ids: osls names a function's log group `<Name>LogGroup` and its URL `<Name>LambdaFunctionUrl`. */
export const HEALTH_ROLE = 'HealthRole';
const HEALTH_LOG_GROUP = 'HealthLogGroup';

/** What serverless.yml reads for the health function. */
export interface HealthExtras {
  /** `functions.health`: null (osls then drops the function) in drop-in mode, which has no fleets to check. */
  readonly healthFunction: Readonly<Record<string, unknown>> | null;
  /** Its role, merged into `resources` with the rotate function's. */
  readonly resources: { readonly Resources: Readonly<Record<string, unknown>> };
}

/**
 * The health function as osls declares it: `custom.health` (its fixed settings, in serverless.yml) plus what the plan
 * derives: the environment, a role of its own (osls gives every function the provider's one role, and the scale
 * function must not mark instances unhealthy), the schedule, and the function URL. `url: true` is auth type `NONE`:
 * osls then also adds the public invoke permissions, and the function itself refuses every request without a valid
 * HMAC signature. No CORS: the webhook is for scripts and a browser opening the URL directly, never other origins.
 */
export function healthExtras(plan: DeployPlan, settings: unknown): HealthExtras {
  if (plan.health === undefined) {
    return { healthFunction: null, resources: { Resources: {} } };
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new DeployPlanError('serverless.yml must set custom.health, the health function settings');
  }
  return {
    healthFunction: {
      ...settings,
      environment: plan.environment,
      role: HEALTH_ROLE,
      url: plan.health.url === 'aws_iam' ? { authorizer: 'aws_iam' } : true,
      events: [{ schedule: { rate: [plan.health.schedule] } }],
    },
    resources: {
      Resources: { [HEALTH_ROLE]: functionRole('fleetplane-health', HEALTH_LOG_GROUP, plan.health.iamStatements) },
    },
  };
}
