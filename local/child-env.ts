import { delimiter, dirname } from 'node:path';

/** Variables that could point an SDK, the function or a deploy at something real, or route traffic off the machine. */
const OUTSIDE_WORLD =
  /^(AWS_|SRC_|EXECUTOR_|FLEETPLANE_|GOOGLE_|CLOUDSDK_|SLS_|SERVERLESS_|NODE_USE_ENV_PROXY$|(HTTPS?|ALL|NO)_PROXY$)/i;

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
  // Loopback never goes through a proxy, and no shared AWS profile or credentials file is read.
  env.NO_PROXY = '127.0.0.1,localhost';
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  return { ...env, ...extra };
}
