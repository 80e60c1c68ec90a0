import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type OslsVariableContext, resolveDeployPlan } from '../../deploy/resolve.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An osls variable context answering from plain maps, as osls would for `--param` and serverless.yml. */
function oslsContext(params: Readonly<Record<string, string>>): OslsVariableContext {
  const properties: Readonly<Record<string, unknown>> = {
    'provider.region': 'us-east-1',
    'functions.scale.timeout': 60,
    'custom.health': { handler: 'functions/aws/health.handler', timeout: 120, reservedConcurrency: 1 },
  };
  return {
    resolveVariable: async (variable) => {
      const match = /^param:(\w+), null$/.exec(variable);
      return match?.[1] === undefined ? undefined : (params[match[1]] ?? null);
    },
    resolveConfigurationProperty: async (path) => properties[path.join('.')],
  };
}

describe('resolveDeployPlan', () => {
  it('reads --param config relative to the service directory', async () => {
    // Act
    const plan = await resolveDeployPlan(oslsContext({ config: 'examples/fleetplane.yml' }), REPO_ROOT, {});

    // Assess
    expect(plan.mode).toBe('config');
    expect(plan.environment.FLEETPLANE_CONFIG).toContain('sourcegraph-executors-codeintel');
  });

  it('falls back to FLEETPLANE_CONFIG_FILE and FLEETPLANE_CONFIG_SSM_PARAMETER from the shell', async () => {
    // Prepare
    const shellEnv = {
      FLEETPLANE_CONFIG_FILE: 'examples/fleetplane.yml',
      FLEETPLANE_CONFIG_SSM_PARAMETER: '/fleetplane/config',
    };

    // Act
    const plan = await resolveDeployPlan(oslsContext({}), REPO_ROOT, shellEnv);

    // Assess
    expect(plan.environment).toEqual({ FLEETPLANE_CONFIG_SSM_PARAMETER: '/fleetplane/config' });
  });

  it('refuses to deploy drop-in while the shell carries a runtime FLEETPLANE_CONFIG', async () => {
    // Act
    const plan = resolveDeployPlan(oslsContext({}), REPO_ROOT, { FLEETPLANE_CONFIG: './fleetplane.yml' });

    // Assess
    await expect(plan).rejects.toThrow(/FLEETPLANE_CONFIG is set in this shell/);
  });

  it('names a config file it cannot read', async () => {
    // Act
    const plan = resolveDeployPlan(oslsContext({ config: 'missing.yml' }), REPO_ROOT, {});

    // Assess
    await expect(plan).rejects.toThrow(/cannot read the config file missing\.yml/);
  });
});
