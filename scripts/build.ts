/**
 * `npm run build`: bundles every `functions/<cloud>/*.ts` entrypoint to `dist/<cloud>/<name>.js` (CommonJS, exporting
 * `handler`), with its metafile next to it as `<name>.meta.json` so tests and reviewers can see what went in.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { functionBuildOptions } from './esbuild-options.ts';

/** Each cloud's entrypoints are bundled separately, so one cloud's SDK never ends up in the other's bundle. */
const CLOUD_DIRECTORIES = ['aws', 'gcp'] as const;

const root = fileURLToPath(new URL('..', import.meta.url));

interface BuiltBundle {
  readonly file: string;
  readonly bytes: number;
}

async function entrypointsOf(directory: string): Promise<string[]> {
  if (!existsSync(directory)) {
    return [];
  }
  const names = await readdir(directory);
  return names
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(directory, name));
}

async function bundleOne(entry: string, outdir: string): Promise<BuiltBundle> {
  const name = basename(entry, '.ts');
  const outfile = join(outdir, `${name}.js`);
  // One build per entry: each bundle gets its own metafile, and a shared chunk cannot leak between functions.
  const result = await build({
    ...functionBuildOptions,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    metafile: true,
  });
  await writeFile(join(outdir, `${name}.meta.json`), `${JSON.stringify(result.metafile, null, 2)}\n`);
  const output = result.metafile.outputs[relative(root, outfile)];
  return { file: relative(root, outfile), bytes: output?.bytes ?? 0 };
}

async function buildCloud(cloud: (typeof CLOUD_DIRECTORIES)[number]): Promise<BuiltBundle[]> {
  const entries = await entrypointsOf(join(root, 'functions', cloud));
  if (entries.length === 0) {
    return [];
  }
  const outdir = join(root, 'dist', cloud);
  // Start clean so a deleted function leaves no stale bundle behind.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  // The repository is `"type": "module"`; without this marker Node would load the CommonJS bundles as ESM.
  await writeFile(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  return Promise.all(entries.map((entry) => bundleOne(entry, outdir)));
}

function printTable(bundles: readonly BuiltBundle[]): void {
  const width = Math.max('bundle'.length, ...bundles.map((b) => b.file.length));
  console.log(`${'bundle'.padEnd(width)}  ${'size KB'.padStart(8)}`);
  for (const bundle of bundles) {
    console.log(`${bundle.file.padEnd(width)}  ${(bundle.bytes / 1024).toFixed(1).padStart(8)}`);
  }
}

const bundles = (await Promise.all(CLOUD_DIRECTORIES.map(buildCloud))).flat();
if (bundles.length === 0) {
  console.error('build: no entrypoints found under functions/aws or functions/gcp');
  process.exitCode = 1;
} else {
  printTable(bundles);
}
