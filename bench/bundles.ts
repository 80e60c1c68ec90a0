import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isolatedEnv } from '../local/child-env.ts';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Milliseconds: esbuild takes about one second here; the margin is for a cold disk cache on CI. */
const BUILD_TIMEOUT_MS = 120_000;

export interface BuiltBundles {
  readonly dir: string;
  /** The Lambda entry file, `aws/scale.js`. */
  readonly aws: string;
  /** The Cloud Functions entry file, `gcp/scale.js`, with the repository's node_modules resolvable beside it. */
  readonly gcp: string;
  remove(): Promise<void>;
}

/**
 * `npm run build` into a fresh temporary directory (`scripts/build.ts --out`), so a benchmark measures exactly what
 * the build ships without touching dist/ under someone else's feet.
 *
 * The GCP bundle leaves the Google clients and the functions-framework external: Cloud Functions installs them into
 * `node_modules` next to `scale.js` from the generated package.json. A bundle in a temporary directory would find no
 * node_modules on its resolution path (it walks up from the file, never into the repository), so the repository's
 * node_modules is linked in its place, which is the layout the deployed package has; Node resolves through the link
 * to the real paths, so the packages' own dependencies resolve from the repository as well.
 */
export async function buildBundles(): Promise<BuiltBundles> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetplane-bench-'));
  try {
    await run(process.execPath, [join(REPO_ROOT, 'scripts/build.ts'), '--out', dir], {
      cwd: REPO_ROOT,
      env: isolatedEnv(),
      timeout: BUILD_TIMEOUT_MS,
    });
    await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'gcp', 'node_modules'), 'dir');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    aws: join(dir, 'aws', 'scale.js'),
    gcp: join(dir, 'gcp', 'scale.js'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
