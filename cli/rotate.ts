import { readFile } from 'node:fs/promises';
import type { FleetRoll } from '../shared/app/fleet-roll.ts';
import { type RotationReport, type RotationRuntime, rotateExecutorSecret } from '../shared/app/rotation.ts';
import { createAwsRotationRuntime } from '../shared/aws/rotation-deps.ts';
import { type Env, parseConfigText } from '../shared/config/index.ts';
import { createGcpRotationRuntime } from '../shared/gcp/rotation-deps.ts';
import { UsageError } from './errors.ts';

export interface RotateCommandOptions {
  readonly config: string;
  /** Resume (or run step by step) this rotation; absent: the one under way, else a new one. */
  readonly rotation?: string;
  /** Minutes to follow the fleets' rolls before reporting; 0 starts them and reports at once. */
  readonly wait?: number;
  readonly json: boolean;
}

/** `fleetplane rotate`: rotates the executor secret named in the config, from a workstation. */
export async function runRotateCommand(
  options: RotateCommandOptions,
  env: Env,
  write: (text: string) => void,
): Promise<RotationReport> {
  const runtimeEnv = {
    ...env,
    FLEETPLANE_CONFIG: options.config,
    // Steps and roll progress as JSON lines on stderr, so a long roll shows signs of life; stdout is the report.
    FLEETPLANE_LOG_LEVEL: env.FLEETPLANE_LOG_LEVEL ?? 'info',
    FLEETPLANE_LOG_STREAM: 'stderr',
  };
  // Which cloud holds the secret decides the composition root; each then reads the document itself, as a function does.
  const document = parseConfigText(await readFile(options.config, 'utf8'), `file:${options.config}`, env);
  const runtime = await runtimeFor(document.executorSecret?.store.kind, runtimeEnv);
  const report = await rotateExecutorSecret(
    runtime.deps,
    options.rotation === undefined ? {} : { rotation: options.rotation },
    {
      tokenLength: runtime.tokenLength,
      ...(runtime.deps.rolls === undefined || !options.wait
        ? {}
        : { rollUntil: runtime.deps.rolls.clock() + options.wait * 60_000 }),
    },
  );
  write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatRotation(report));
  return report;
}

/** The composition root of the cloud that holds the executor secret. */
async function runtimeFor(kind: string | undefined, env: Env): Promise<RotationRuntime> {
  switch (kind) {
    case 'aws-secrets-manager':
      return createAwsRotationRuntime(env);
    case 'gcp-secret-manager':
      return createGcpRotationRuntime(env);
    default:
      throw new UsageError(
        'the config names no executorSecret: set executorSecret.awsSecretsManager or executorSecret.gcpSecretManager',
      );
  }
}

export function formatRotation(report: RotationReport): string {
  const steps = report.steps.map((step) => `  ${step.step.padEnd(12)} ${step.outcome}`);
  const restart = report.restartRequired ? ['Sourcegraph says the new site configuration needs a restart.'] : [];
  const rolls = report.rolls.map((roll) => `  ${roll.fleet.padEnd(12)} ${rollLine(roll)}`);
  return [
    `rotation ${report.rotation}: done`,
    ...steps,
    ...restart,
    ...(rolls.length === 0 ? [] : ['fleet rolls:', ...rolls]),
    '',
  ].join('\n');
}

function rollLine(roll: FleetRoll): string {
  if (roll.outcome === 'failed') {
    return `failed: ${roll.error}`;
  }
  const { id, state, remaining, percentComplete, reason } = roll.roll;
  const window = roll.rejectionWindow;
  return [
    `${roll.outcome} ${id}: ${state}, ${percentComplete}% (${remaining} to replace)`,
    ...(reason === undefined ? [] : [`: ${reason}`]),
    ...(window === undefined
      ? []
      : [
          `; executors refused for ${Math.round(window.ms / 1000)} s${window.until === undefined ? ' so far' : ''}`,
          window.basis === 'roll' ? ' (at most: until the roll ended)' : '',
        ]),
  ].join('');
}
