import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Env } from '../shared/config/index.ts';
import { type HealthExtras, healthExtras } from './health-function.ts';
import { observabilityExtras } from './observability.ts';
import { type DeployPlan, DeployPlanError, planDeploy } from './plan.ts';
import { type ServerlessExtras, serverlessExtras } from './rotate-function.ts';

/** What osls (the Serverless v3 variable engine) passes to a function exported by a `${file(…)}` source. */
export interface OslsVariableContext {
  readonly resolveVariable: (variable: string) => Promise<unknown>;
  readonly resolveConfigurationProperty: (path: readonly string[]) => Promise<unknown>;
}

/**
 * Reads the deploy inputs and plans the scale function's environment and IAM statements, the health function with
 * a config document, and the rotate function when the config names an executor secret. The config file comes from
 * `--param="config=<file>"` (else `FLEETPLANE_CONFIG_FILE`), the SSM parameter name from
 * `--param="configSsmParameter=<name>"` (else `FLEETPLANE_CONFIG_SSM_PARAMETER`); with neither, drop-in mode.
 * `--param="rotationSchedule=rate(30 days)"` also rotates on a schedule; `--param="healthSchedule=…"` replaces the
 * health check's 5-minute schedule. Every deploy gets fleetplane's dashboard and alarms (`observability.ts`);
 * `--param="alarmTopic=<SNS topic ARN>"` sends their state changes to that topic.
 */
export async function resolveDeployPlan(
  context: OslsVariableContext,
  serviceDir: string,
  shellEnv: Env = process.env,
): Promise<DeployPlan & ServerlessExtras & HealthExtras> {
  const configFile = (await optionalParam(context, 'config')) ?? nonEmpty(shellEnv.FLEETPLANE_CONFIG_FILE);
  const configSsmParameter =
    (await optionalParam(context, 'configSsmParameter')) ?? nonEmpty(shellEnv.FLEETPLANE_CONFIG_SSM_PARAMETER);
  if (configFile === undefined && nonEmpty(shellEnv.FLEETPLANE_CONFIG) !== undefined) {
    // Otherwise a shell set up for the local runner would silently deploy in drop-in mode.
    throw new DeployPlanError(
      'FLEETPLANE_CONFIG is set in this shell, but deploy reads the document from --param="config=<file>" ' +
        '(or FLEETPLANE_CONFIG_FILE): pass the file, or unset FLEETPLANE_CONFIG for drop-in mode',
    );
  }
  const region = await context.resolveConfigurationProperty(['provider', 'region']);
  const timeout = await context.resolveConfigurationProperty(['functions', 'scale', 'timeout']);
  if (typeof region !== 'string' || typeof timeout !== 'number') {
    throw new DeployPlanError('serverless.yml must set provider.region and functions.scale.timeout');
  }
  const config =
    configFile === undefined
      ? undefined
      : { text: await readConfigFile(serviceDir, configFile), source: `file:${configFile}` };
  const allowPlaintextToken = (await optionalParam(context, 'allowPlaintextToken')) === 'true';
  const rotationSchedule = await optionalParam(context, 'rotationSchedule');
  const healthSchedule = await optionalParam(context, 'healthSchedule');
  const alarmTopic = await optionalParam(context, 'alarmTopic');
  const plan = planDeploy({
    region,
    timeoutSeconds: timeout,
    config,
    configSsmParameter,
    shellEnv,
    allowPlaintextToken,
    rotationSchedule,
    healthSchedule,
  });
  const rotateSettings =
    plan.rotate === undefined ? undefined : await context.resolveConfigurationProperty(['custom', 'rotate']);
  const healthSettings =
    plan.health === undefined ? undefined : await context.resolveConfigurationProperty(['custom', 'health']);
  const rotate = serverlessExtras(plan, rotateSettings);
  const health = healthExtras(plan, healthSettings);
  const observability = observabilityExtras(plan, { region, config, shellEnv, alarmTopic });
  return {
    ...plan,
    rotateFunction: rotate.rotateFunction,
    healthFunction: health.healthFunction,
    resources: {
      Resources: {
        ...rotate.resources.Resources,
        ...health.resources.Resources,
        ...observability.resources.Resources,
      },
    },
  };
}

async function optionalParam(context: OslsVariableContext, name: string): Promise<string | undefined> {
  const value = await context.resolveVariable(`param:${name}, null`);
  return typeof value === 'string' ? nonEmpty(value) : undefined;
}

async function readConfigFile(serviceDir: string, file: string): Promise<string> {
  try {
    return await readFile(resolve(serviceDir, file), 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeployPlanError(`cannot read the config file ${file}: ${reason}`, { cause: error });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
