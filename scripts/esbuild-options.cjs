'use strict';

/**
 * serverless-esbuild's `custom.esbuild.config`: it `require`s this file and calls the export with the Serverless
 * instance, then uses the result instead of `custom.esbuild`. The compile options live in `esbuild-options.ts`
 * (Node 22 strips its types when required); only the plugin's own keys are added here.
 */
const { functionBuildOptions } = require('./esbuild-options.ts');

module.exports = () => ({
  ...functionBuildOptions,
  // The plugin's default `exclude: ['aws-sdk']` would leave SDK v2 external; nothing is external, so nothing is
  // `npm install`ed into the artifact at package time (hermetic and offline).
  exclude: [],
  external: [],
  packager: 'npm',
});
