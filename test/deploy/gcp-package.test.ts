/**
 * The source archive infra/gcp uploads is `npm run build`'s dist/gcp: the bundle and a package.json whose
 * dependencies (the Google clients and the functions-framework, pinned) the cloud build installs. The framework it
 * installs serves the function, so the bundle must register its functions with that very copy. This test lays the
 * archive out as the platform would after its install (the dependencies resolvable from the package), and loads it
 * with the framework's own loader, as the platform does.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../../local/child-env.ts';
import { isRecord } from '../../shared/domain/guards.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 180_000;
/** The framework's own loader, by file path: the package's `exports` do not expose it. */
const LOADER = join(REPO_ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'loader.js');

let packageDir: string;

/** Loads the package like the serving framework and reports the signature type it found, or "missing". */
async function loadAsPlatform(
  target: string,
  signatureType: 'http' | 'cloudevent',
  source = packageDir,
): Promise<string> {
  const probe = `require(process.argv[1]).getUserFunction(process.argv[2], process.argv[3], process.argv[4])
    .then((found) => { process.stdout.write(found ? found.signatureType : 'missing'); process.exit(0); })`;
  const { stdout } = await run(process.execPath, ['-e', probe, LOADER, source, target, signatureType], {
    env: isolatedEnv(),
    timeout: 60_000,
  });
  return stdout;
}

beforeAll(async () => {
  // Prepare: build, then give it what the cloud build would have after installing the package's dependencies.
  const out = await mkdtemp(join(tmpdir(), 'fleetplane-gcp-build-'));
  await run(process.execPath, ['scripts/build.ts', '--out', out], {
    cwd: REPO_ROOT,
    env: isolatedEnv(),
    timeout: BUILD_TIMEOUT_MS,
  });
  packageDir = join(out, 'gcp');
  await symlink(join(REPO_ROOT, 'node_modules'), join(packageDir, 'node_modules'), 'dir');
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await rm(dirname(packageDir), { recursive: true, force: true });
});

describe('the GCP source archive', () => {
  it('is dist/gcp as built, without source maps or metafiles', async () => {
    // Act
    const mainTf = await readFile(join(REPO_ROOT, 'infra', 'gcp', 'main.tf'), 'utf8');
    const archive = /data "archive_file" "source" \{([\s\S]*?)\n\}/.exec(mainTf)?.[1] ?? '';

    // Assess
    expect(archive).toMatch(/source_dir\s*= local\.bundle_dir/);
    expect(archive).toMatch(
      /excludes\s*= \["health\.js", "health\.js\.map", "health\.meta\.json", "rotate\.js", "rotate\.js\.map", "rotate\.meta\.json", "scale\.js\.map", "scale\.meta\.json"\]/,
    );
  });

  it('serves entry point scale (HTTP, Cloud Scheduler) with the framework the platform installs', async () => {
    // Act
    const found = await loadAsPlatform('scale', 'http');

    // Assess
    expect(found).toBe('http');
  });

  it('serves entry point scaleEvent (CloudEvent, Pub/Sub) the same way', async () => {
    // Act: the platform sets FUNCTION_SIGNATURE_TYPE=cloudevent for an event-triggered function.
    const found = await loadAsPlatform('scaleEvent', 'cloudevent');

    // Assess
    expect(found).toBe('cloudevent');
  });

  it('serves rotate and rotateOnSecretEvent from the rotate archive infra/gcp zips, whose package.json main is rotate.js', async () => {
    // Prepare: the files rotate.tf zips, package.json with the main it sets (jsonencode(merge(...)) reorders keys,
    // which npm does not mind), and the dependencies the cloud build installs.
    const rotateTf = await readFile(join(REPO_ROOT, 'infra', 'gcp', 'rotate.tf'), 'utf8');
    const archive = /data "archive_file" "rotate_source" \{([\s\S]*?)\n\}/.exec(rotateTf)?.[1] ?? '';
    const filenames = [...archive.matchAll(/filename = "([^"]+)"/g)].map((match) => match[1] ?? '');
    const main = /\{ main = "([^"]+)" \}/.exec(archive)?.[1];
    const rotateDir = await mkdtemp(join(tmpdir(), 'fleetplane-gcp-rotate-'));
    try {
      for (const name of filenames.filter((filename) => filename !== 'package.json')) {
        await copyFile(join(packageDir, name), join(rotateDir, name));
      }
      const manifest: unknown = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
      if (!isRecord(manifest)) {
        throw new Error('dist/gcp/package.json is not a JSON object');
      }
      await writeFile(join(rotateDir, 'package.json'), JSON.stringify({ ...manifest, main }));
      await symlink(join(REPO_ROOT, 'node_modules'), join(rotateDir, 'node_modules'), 'dir');

      // Act
      const http = await loadAsPlatform('rotate', 'http', rotateDir);
      const event = await loadAsPlatform('rotateOnSecretEvent', 'cloudevent', rotateDir);
      const scale = await loadAsPlatform('scale', 'http', rotateDir);

      // Assess
      expect(filenames).toEqual(['rotate.js', 'package.json', 'package-lock.json']);
      expect(main).toBe('rotate.js');
      expect([http, event, scale]).toEqual(['http', 'cloudevent', 'missing']);
    } finally {
      await rm(rotateDir, { recursive: true, force: true });
    }
  });

  it('serves healthCheck and webhook from the health archive infra/gcp zips, whose package.json main is health.js', async () => {
    // Prepare: the files health.tf zips, package.json with the main it sets, and the installed dependencies.
    const healthTf = await readFile(join(REPO_ROOT, 'infra', 'gcp', 'health.tf'), 'utf8');
    const archive = /data "archive_file" "health_source" \{([\s\S]*?)\n\}/.exec(healthTf)?.[1] ?? '';
    const filenames = [...archive.matchAll(/filename = "([^"]+)"/g)].map((match) => match[1] ?? '');
    const main = /\{ main = "([^"]+)" \}/.exec(archive)?.[1];
    const healthDir = await mkdtemp(join(tmpdir(), 'fleetplane-gcp-health-'));
    try {
      for (const name of filenames.filter((filename) => filename !== 'package.json')) {
        await copyFile(join(packageDir, name), join(healthDir, name));
      }
      const manifest: unknown = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
      if (!isRecord(manifest)) {
        throw new Error('dist/gcp/package.json is not a JSON object');
      }
      await writeFile(join(healthDir, 'package.json'), JSON.stringify({ ...manifest, main }));
      await symlink(join(REPO_ROOT, 'node_modules'), join(healthDir, 'node_modules'), 'dir');

      // Act
      const found = await Promise.all(
        ['healthCheck', 'webhook', 'scale', 'rotate'].map((target) => loadAsPlatform(target, 'http', healthDir)),
      );

      // Assess: both health entry points, and neither the scale nor the rotate function's.
      expect(filenames).toEqual(['health.js', 'package.json', 'package-lock.json']);
      expect(main).toBe('health.js');
      expect(found).toEqual(['http', 'http', 'missing', 'missing']);
    } finally {
      await rm(healthDir, { recursive: true, force: true });
    }
  });

  it('serves the rotate entry points from rotate.js (HTTP and CloudEvent), which the package main does not load', async () => {
    // Act
    const http = await loadAsPlatform('rotate', 'http', join(packageDir, 'rotate.js'));
    const event = await loadAsPlatform('rotateOnSecretEvent', 'cloudevent', join(packageDir, 'rotate.js'));
    const fromMain = await loadAsPlatform('rotate', 'http');

    // Assess
    expect([http, event, fromMain]).toEqual(['http', 'cloudevent', 'missing']);
  });
});
