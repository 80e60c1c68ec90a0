import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isolatedEnv } from '../../local/child-env.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 120_000;
/** Upper bound for one AWS bundle: ~1 MB today, most of it zod, yaml and the SDK clients; growth should be a decision. */
const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;
const GCP_PACKAGES = ['@google-cloud/', 'google-gax', 'google-auth-library'];

/** Every AWS entrypoint, read from the sources so a function without a bundle fails the test. */
const awsFunctions = readdirSync(join(REPO_ROOT, 'functions', 'aws'))
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
  .map((name) => name.slice(0, -'.ts'.length))
  .sort();

const metafileSchema = z.object({ inputs: z.record(z.string(), z.unknown()) });

beforeAll(async () => {
  // Prepare: one build for the whole file; the checks below only read its output.
  await run(process.execPath, ['scripts/build.ts'], { cwd: REPO_ROOT, env: isolatedEnv(), timeout: BUILD_TIMEOUT_MS });
}, BUILD_TIMEOUT_MS + 10_000);

describe.each(awsFunctions)('dist/aws/%s.js', (name) => {
  const bundle = join(REPO_ROOT, 'dist', 'aws', `${name}.js`);

  it('exists with its metafile', () => {
    // Assess
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist', 'aws', `${name}.meta.json`))).toBe(true);
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
    const text = await readFile(join(REPO_ROOT, 'dist', 'aws', `${name}.meta.json`), 'utf8');
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
