import { delimiter, dirname } from 'node:path';

/** Variables that could point an SDK, the function or a deploy at something real. */
const OUTSIDE_WORLD = /^(AWS_|SRC_|EXECUTOR_|FLEETPLANE_|GOOGLE_|CLOUDSDK_|SLS_|SERVERLESS_)/;

/**
 * The environment for a child process that must touch nothing real: the parent's, minus AWS/GCP settings (an
 * `AWS_ENDPOINT_URL*`, a profile or credentials would redirect or authorise calls) and fleetplane or worker variables,
 * with this Node first on PATH (so `#!/usr/bin/env node` runs Node 22), plus `extra`.
 */
export function isolatedEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !OUTSIDE_WORLD.test(key)) {
      env[key] = value;
    }
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}
