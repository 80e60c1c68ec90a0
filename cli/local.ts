import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_SOURCEGRAPH_TOKEN } from '../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, startLocalStack } from '../local/stack.ts';
import { BURST_THEN_LULL, createWorkloadDriver } from '../local/workload.ts';
import { seededRandom } from '../shared/domain/random.ts';

export interface LocalCommandOptions {
  readonly workload: boolean;
  readonly seed: number;
}

/**
 * `fleetplane local`: the local stack alone, for manual experiments. Prints the endpoints, a ready-to-use config file
 * and the variables that point fleetplane (or any AWS SDK) at it, then runs until interrupted.
 */
export async function runLocalCommand(options: LocalCommandOptions, write: (text: string) => void): Promise<void> {
  const stack = await startLocalStack();
  const directory = await mkdtemp(join(tmpdir(), 'fleetplane-local-'));
  const configFile = join(directory, 'fleetplane.local.json');
  await writeFile(configFile, `${JSON.stringify(stack.config(), null, 2)}\n`);
  const env = stack.env();
  const assignments = Object.entries(env)
    .map(([key, value]) => `${key}='${value}'`)
    .join(' ');
  write(
    [
      'fleetplane local stack on 127.0.0.1 (Ctrl-C to stop)',
      '',
      `  Sourcegraph       ${stack.sourcegraph.url}  (site-admin token ${LOCAL_SOURCEGRAPH_TOKEN})`,
      `  Auto Scaling      ${stack.autoScaling.emulator.url}`,
      `  CloudWatch        ${stack.cloudWatch.emulator.url}`,
      `  Secrets Manager   ${stack.secretsManager.emulator.url}`,
      `  GCP Monitoring    ${stack.monitoring.emulator.url}  (project ${LOCAL_GCP_PROJECT})`,
      `  GCP Compute       ${stack.compute.emulator.url}`,
      `  GCP Secret Mgr    ${stack.secretManager.emulator.url}`,
      `  config            ${configFile}`,
      '',
      'In another shell (the variables point the AWS SDK at this stack; without them plan refuses to run):',
      `  env ${assignments} npx fleetplane plan --config ${configFile}`,
      '',
    ].join('\n'),
  );
  const driver = options.workload
    ? createWorkloadDriver(stack.world, BURST_THEN_LULL, { startedAt: Date.now(), random: seededRandom(options.seed) })
    : undefined;
  const timer = setInterval(() => driver?.tick(Date.now()), 500);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  await stack.close();
  // The config holds the local token; nothing of the run is left behind.
  await rm(directory, { recursive: true, force: true });
  write('local stack stopped\n');
}
