import { delimiter, dirname } from 'node:path';

/**
 * The environment for a child process that must touch nothing real: no AWS settings from the test shell (an
 * `AWS_ENDPOINT_URL*` or profile would redirect or authorise calls), no fleetplane or worker variables (they would
 * change what is deployed), and this Node first on PATH so `#!/usr/bin/env node` scripts run on Node 22.
 */
export function isolatedEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|SRC_|EXECUTOR_|FLEETPLANE_|SLS_|SERVERLESS_)/.test(key)) {
      env[key] = value;
    }
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}
