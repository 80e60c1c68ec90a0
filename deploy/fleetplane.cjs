'use strict';

/**
 * osls entry point: `${file(./deploy/fleetplane.cjs):environment}` and `…:iamStatements` in serverless.yml. osls calls
 * the exported function with its variable resolvers, then reads the named property of the result. The logic lives in
 * TypeScript (`resolve.ts`, `plan.ts`), loaded with `import()`: Node 22 strips the types.
 */
const path = require('node:path');

const EXPECTED_ERRORS = new Set(['ConfigError', 'DeployPlanError']);

module.exports = async (context) => {
  const { resolveDeployPlan } = await import('./resolve.ts');
  try {
    return await resolveDeployPlan(context, path.join(__dirname, '..'));
  } catch (error) {
    // osls prints `error.stack`; for a configuration mistake the message is the whole story.
    if (error instanceof Error && EXPECTED_ERRORS.has(error.name)) {
      error.stack = `${error.name}: ${error.message}`;
    }
    throw error;
  }
};
