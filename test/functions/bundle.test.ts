import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isolatedEnv } from '../../local/child-env.ts';
import { parseLockfile, resolveIn } from '../../scripts/lockfile-subset.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** This file's own build: other test files build too, and must not replace files under its feet. */
const OUT = join(tmpdir(), `fleetplane-bundle-test-${randomUUID()}`);
const BUILD_TIMEOUT_MS = 120_000;
/** The footprint budget for one bundle (bench P4): the SDK clients, zod and yaml must fit in 1 MiB. */
const MAX_BUNDLE_BYTES = 1024 * 1024;
const GCP_PACKAGES = ['@google-cloud/', 'google-gax', 'google-auth-library'];

/** Every AWS entrypoint, read from the sources so a function without a bundle fails the test. */
const awsFunctions = readdirSync(join(REPO_ROOT, 'functions', 'aws'))
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
  .map((name) => name.slice(0, -'.ts'.length))
  .sort();

const metafileSchema = z.object({ inputs: z.record(z.string(), z.unknown()) });

beforeAll(async () => {
  // Prepare: one build for the whole file; the checks below only read its output.
  await run(process.execPath, ['scripts/build.ts', '--out', OUT], {
    cwd: REPO_ROOT,
    env: isolatedEnv(),
    timeout: BUILD_TIMEOUT_MS,
  });
  if (existsSync(join(OUT, 'gcp'))) {
    // What the cloud build's install gives the GCP package: its dependencies resolvable next to it.
    await symlink(join(REPO_ROOT, 'node_modules'), join(OUT, 'gcp', 'node_modules'), 'dir');
  }
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await rm(OUT, { recursive: true, force: true });
});

describe.each(awsFunctions)('dist/aws/%s.js', (name) => {
  const bundle = join(OUT, 'aws', `${name}.js`);

  it('exists with its metafile', () => {
    // Assess
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(join(OUT, 'aws', `${name}.meta.json`))).toBe(true);
  });

  it('loads with require() and exports a handler function', async () => {
    // Prepare: loading runs the module's cold-start code; with no config in the environment it fails quietly.
    const probe = 'process.stdout.write(typeof require(process.argv[1]).handler)';

    // Act
    const { stdout } = await run(process.execPath, ['-e', probe, bundle], { env: isolatedEnv(), timeout: 30_000 });

    // Assess
    expect(stdout).toBe('function');
  });

  it('bundles the AWS SDK and nothing from Google Cloud', async () => {
    // Act
    const text = await readFile(join(OUT, 'aws', `${name}.meta.json`), 'utf8');
    const metafile = metafileSchema.parse(JSON.parse(text));
    const inputs = Object.keys(metafile.inputs);

    // Assess
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/'))).toBe(true);
    expect(inputs.filter((input) => GCP_PACKAGES.some((gcp) => input.includes(gcp)))).toEqual([]);
  });

  it(`stays under ${MAX_BUNDLE_BYTES / 1024 / 1024} MB`, async () => {
    // Act
    const { size } = await stat(bundle);
    console.log(`dist/aws/${name}.js: ${(size / 1024).toFixed(1)} KB`);

    // Assess
    expect(size).toBeLessThan(MAX_BUNDLE_BYTES);
  });
});

const AWS_PACKAGES = ['@aws-sdk/', '@smithy/', '@middy/'];
/** The functions each GCP bundle registers; a bundle missing here registers none the test knows of and fails. */
const GCP_REGISTERED: Readonly<Record<string, readonly string[]>> = {
  scale: ['scale', 'scaleEvent'],
  rotate: ['rotate', 'rotateOnSecretEvent'],
  health: ['healthCheck', 'webhook'],
};

/** Every GCP entrypoint, likewise. */
const gcpFunctions = existsSync(join(REPO_ROOT, 'functions', 'gcp'))
  ? readdirSync(join(REPO_ROOT, 'functions', 'gcp'))
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
      .map((name) => name.slice(0, -'.ts'.length))
      .sort()
  : [];

describe.each(gcpFunctions)('dist/gcp/%s.js', (name) => {
  const bundle = join(OUT, 'gcp', `${name}.js`);

  it('loads with require() and registers its functions with the functions-framework', async () => {
    // Prepare: the framework's registry is a module singleton inside the bundle, so ask the bundle's own copy.
    const probe = [
      "const { getFunction } = require('@google-cloud/functions-framework/testing');",
      'require(process.argv[1]);',
      'process.stdout.write(JSON.parse(process.argv[2]).map((n) => typeof getFunction(n)).join(","));',
    ].join('\n');
    const names = GCP_REGISTERED[name] ?? [];

    // Act
    const { stdout } = await run(process.execPath, ['-e', probe, bundle, JSON.stringify(names)], {
      cwd: REPO_ROOT,
      env: isolatedEnv(),
      timeout: 30_000,
    });

    // Assess
    expect(names.length).toBeGreaterThan(0);
    expect(stdout).toBe(names.map(() => 'function').join(','));
  });

  it('contains nothing from AWS, and leaves the Google clients to the platform at the tested versions', async () => {
    // Act
    const text = await readFile(join(OUT, 'gcp', `${name}.meta.json`), 'utf8');
    const inputs = Object.keys(metafileSchema.parse(JSON.parse(text)).inputs);
    const manifest = z
      .object({ main: z.string(), dependencies: z.record(z.string(), z.string()) })
      .parse(JSON.parse(await readFile(join(OUT, 'gcp', 'package.json'), 'utf8')));
    const installed = async (name: string) =>
      z
        .object({ version: z.string() })
        .parse(JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'))).version;

    // Assess
    expect(inputs.filter((input) => AWS_PACKAGES.some((aws) => input.includes(aws)))).toEqual([]);
    expect(inputs.filter((input) => input.includes('node_modules/@google-cloud/'))).toEqual([]);
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      '@google-cloud/compute',
      '@google-cloud/functions-framework',
      '@google-cloud/monitoring',
      '@google-cloud/secret-manager',
      'google-auth-library',
    ]);
    for (const [dependency, version] of Object.entries(manifest.dependencies)) {
      expect(version).toBe(await installed(dependency));
    }
    expect(manifest.main).toBe('scale.js');
  });

  it('ships a lockfile that pins the whole tree the dependencies need, from the repository lockfile', async () => {
    // Act
    const lock = parseLockfile(await readFile(join(OUT, 'gcp', 'package-lock.json'), 'utf8'));
    const manifest = z
      .object({ dependencies: z.record(z.string(), z.string()) })
      .parse(JSON.parse(await readFile(join(OUT, 'gcp', 'package.json'), 'utf8')));
    const repository = parseLockfile(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    const unresolved = Object.entries(lock.packages).flatMap(([path, entry]) =>
      Object.keys(entry.dependencies ?? {})
        .filter((dependency) => resolveIn(lock.packages, path, dependency) === undefined)
        .map((dependency) => `${path || '(root)'} → ${dependency}`),
    );

    // Assess
    expect(lock.packages['']).toMatchObject({ dependencies: manifest.dependencies });
    expect(unresolved).toEqual([]);
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path !== '') {
        expect(entry.version).toBe(repository.packages[path]?.version);
      }
    }
  });

  it(`stays under ${MAX_BUNDLE_BYTES / 1024 / 1024} MB`, async () => {
    // Act
    const { size } = await stat(bundle);
    console.log(`dist/gcp/${name}.js: ${(size / 1024).toFixed(1)} KB`);

    // Assess
    expect(size).toBeLessThan(MAX_BUNDLE_BYTES);
  });
});
