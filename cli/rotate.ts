import { readFile } from 'node:fs/promises';
import { type RotationReport, type RotationRuntime, rotateExecutorSecret } from '../shared/app/rotation.ts';
import { createAwsRotationRuntime } from '../shared/aws/rotation-deps.ts';
import { type Env, parseConfigText } from '../shared/config/index.ts';
import { createGcpRotationRuntime } from '../shared/gcp/rotation-deps.ts';
import { UsageError } from './errors.ts';

export interface RotateCommandOptions {
  readonly config: string;
  /** Resume (or run step by step) this rotation; absent: the one under way, else a new one. */
  readonly rotation?: string;
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
    FLEETPLANE_LOG_LEVEL: env.FLEETPLANE_LOG_LEVEL ?? 'warn',
  };
  // Which cloud holds the secret decides the composition root; each then reads the document itself, as a function does.
  const document = parseConfigText(await readFile(options.config, 'utf8'), `file:${options.config}`, env);
  const runtime = await runtimeFor(document.executorSecret?.store.kind, runtimeEnv);
  const report = await rotateExecutorSecret(
    runtime.deps,
    options.rotation === undefined ? {} : { rotation: options.rotation },
    { tokenLength: runtime.tokenLength },
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
  return [`rotation ${report.rotation}: done`, ...steps, ...restart, ''].join('\n');
}
