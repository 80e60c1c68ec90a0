/**
 * `npm run build`: bundles every `functions/<cloud>/*.ts` entrypoint to `dist/<cloud>/<name>.js` (CommonJS, exporting
 * `handler`), with its metafile next to it as `<name>.meta.json` so tests and reviewers can see what went in.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { functionBuildOptions, GCP_PACKAGE_NAME, gcpFunctionBuildOptions, gcpPackageJson } from './esbuild-options.ts';
import { lockfileSubset, parseLockfile } from './lockfile-subset.ts';

/** Each cloud's entrypoints are bundled separately, so one cloud's SDK never ends up in the other's bundle. */
const CLOUD_DIRECTORIES = ['aws', 'gcp'] as const;

const root = fileURLToPath(new URL('..', import.meta.url));
/** `--out <dir>`: where `<cloud>/<name>.js` go (default dist/), so parallel test files never share a build. */
const { values: flags } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist') } } });
const outRoot = resolve(flags.out);

interface BuiltBundle {
  readonly file: string;
  readonly bytes: number;
  /** Packages the bundle imports but does not contain. */
  readonly externals: ReadonlySet<string>;
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

async function bundleOne(entry: string, outdir: string, options: Readonly<BuildOptions>): Promise<BuiltBundle> {
  const name = basename(entry, '.ts');
  const outfile = join(outdir, `${name}.js`);
  // One build per entry: each bundle gets its own metafile, and a shared chunk cannot leak between functions.
  const result = await build({
    ...options,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    metafile: true,
  });
  await writeFile(join(outdir, `${name}.meta.json`), `${JSON.stringify(result.metafile, null, 2)}\n`);
  const output = result.metafile.outputs[relative(root, outfile)];
  const externals = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((imported) => imported.external).map((imported) => packageOf(imported.path)),
  );
  return { file: relative(root, outfile), bytes: output?.bytes ?? 0, externals: new Set(externals) };
}

async function buildCloud(cloud: (typeof CLOUD_DIRECTORIES)[number]): Promise<BuiltBundle[]> {
  const entries = await entrypointsOf(join(root, 'functions', cloud));
  if (entries.length === 0) {
    return [];
  }
  const outdir = join(outRoot, cloud);
  // Start clean so a deleted function leaves no stale bundle behind.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const options = cloud === 'gcp' ? gcpFunctionBuildOptions : functionBuildOptions;
  const bundles = await Promise.all(entries.map((entry) => bundleOne(entry, outdir, options)));
  // The repository is `"type": "module"`; without this marker Node would load the CommonJS bundles as ESM. On GCP
  // the same file is the deployed package's manifest: the packages left out of the bundle, at the tested versions.
  if (cloud !== 'gcp') {
    await writeFile(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
    return bundles;
  }
  const dependencies = await pinned(bundles);
  // The package's main is the scale function's bundle; another function deployed from it names its own bundle.
  const main = entries.find((entry) => basename(entry) === 'scale.ts') ?? entries[0] ?? 'scale.ts';
  await writeFile(join(outdir, 'package.json'), gcpPackageJson(`${basename(main, '.ts')}.js`, dependencies));
  // With a lockfile the cloud build runs `npm ci`: the whole tree at the versions tested, not the newest that day.
  const rootLock = parseLockfile(await readFile(join(root, 'package-lock.json'), 'utf8'));
  const lock = lockfileSubset(rootLock, { name: GCP_PACKAGE_NAME, dependencies });
  await writeFile(join(outdir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  return bundles;
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageOf(path: string): string {
  const parts = path.split('/');
  return path.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? path);
}

/** Each external package at the exact version installed here, which is the version the tests ran against. */
async function pinned(bundles: readonly BuiltBundle[]): Promise<Record<string, string>> {
  const names = [...new Set(bundles.flatMap((bundle) => [...bundle.externals]))]
    .filter((name) => !name.startsWith('node:') && !builtinModules.includes(name))
    .sort();
  const versions = await Promise.all(names.map((name) => installedVersion(name)));
  return Object.fromEntries(names.map((name, index) => [name, versions[index] ?? '']));
}

async function installedVersion(name: string): Promise<string> {
  const manifest: unknown = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'));
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    !('version' in manifest) ||
    typeof manifest.version !== 'string'
  ) {
    throw new Error(`cannot read the installed version of ${name}`);
  }
  return manifest.version;
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
