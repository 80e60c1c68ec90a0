import { readFile } from 'node:fs/promises';
import type { BuildOptions, Plugin } from 'esbuild';

/**
 * The AWS SDK's generated schema modules key their entries with computed names (`{ [_xN]: "Filter" }`, `_xN` a
 * module constant). esbuild cannot prove such an object free of side effects, so it keeps every declaration of the
 * module: importing the EC2 client alone would add its whole schema (about 540 KiB minified) to the bundle. Writing
 * the constants' string values in place of the computed keys lets esbuild drop what no command uses. Nothing else
 * changes; should the SDK's layout change, the keys stay computed and the bundle size test says so.
 */
export const sdkSchemaKeysPlugin: Plugin = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const source = await readFile(args.path, 'utf8');
        const constants = new Map<string, string>();
        for (const match of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
          const [, name, literal] = match;
          if (name !== undefined && literal !== undefined) {
            constants.set(name, literal);
          }
        }
        const contents = source.replace(/\[(_\w+)\]:/g, (key, name: string) => {
          const literal = constants.get(name);
          return literal === undefined ? key : `${literal}:`;
        });
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * The one definition of how a function is compiled, used by `scripts/build.ts` (dist/) and by serverless-esbuild
 * (`osls package`, through `esbuild-options.cjs`), so the bundle tested locally is the bundle deployed.
 *
 * - CommonJS: works with `osls invoke local` and with `require`-only dependencies, needs no `createRequire` banner.
 *   ESM-only packages (@middy/core) are converted by esbuild; they use no top-level await.
 * - Everything is bundled, the pinned `@aws-sdk/*` included: the runtime's own SDK version floats, and mixing it with
 *   bundled `@smithy/*` parts fails at run time; a bundled, minified SDK also cold-starts faster.
 * - `sourcemap: 'external'` writes `<bundle>.js.map` without a `sourceMappingURL` comment, so Node never loads it at
 *   run time (that would need `NODE_OPTIONS=--enable-source-maps`, which costs cold-start time); keep it to decode
 *   stack traces offline.
 */
export const functionBuildOptions: Readonly<BuildOptions> = {
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  bundle: true,
  minify: true,
  sourcemap: 'external',
  // Prefer the ESM builds of the SDK (`module`): they tree-shake; the `main` (CJS) builds mostly do not.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  plugins: [sdkSchemaKeysPlugin],
};

/**
 * GCP functions: our code and small libraries bundled; the Google clients and the functions-framework left to the
 * platform, which installs the deployed package's dependencies (pinned by `npm run build` to the versions tested).
 * The framework has to be the very copy that loads the bundle, since it looks the functions up in its own registry;
 * the clients carry tens of MB of API descriptions (the Compute client alone ~28 MB) that no bundle should inline.
 */
export const gcpFunctionBuildOptions: Readonly<BuildOptions> = {
  ...functionBuildOptions,
  external: ['@google-cloud/*', 'google-gax', 'google-auth-library'],
};

export const GCP_PACKAGE_NAME = 'fleetplane-gcp-functions';

/** The package.json deployed next to a GCP bundle: Cloud Functions installs `dependencies` from it. */
export function gcpPackageJson(main: string, dependencies: Readonly<Record<string, string>>): string {
  const manifest = {
    name: GCP_PACKAGE_NAME,
    private: true,
    type: 'commonjs',
    main,
    engines: { node: '22' },
    dependencies,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
