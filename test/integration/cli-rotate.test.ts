import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EXECUTOR_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { runNode } from '../support/run-node.ts';

/**
 * `fleetplane rotate` from a workstation, end to end against the local stack: the real CLI process, the real AWS and
 * Google clients, the Sourcegraph emulator's site configuration and executor auth.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'cli/fleetplane.ts');
const STACK_TRACE = /^\s+at /m;
let directory: string;
let stack: LocalStack;

const fleetplane = (args: readonly string[], env: Record<string, string>) => runNode(CLI, args, env);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleetplane-rotate-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});
beforeEach(async () => {
  stack = await startLocalStack();
});
afterEach(async () => {
  await stack.close();
});

async function configWith(executorSecret: object): Promise<string> {
  const file = join(directory, `fleetplane-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ ...stack.config(), executorSecret }));
  return file;
}

const gcpEnv = () => ({
  ...stack.env(),
  FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: `http://127.0.0.1:${stack.secretManager.emulator.port}`,
});

describe('fleetplane rotate', () => {
  it('rotates a Secrets Manager secret: the new token is current, Sourcegraph takes it and no longer the old one', async () => {
    // Prepare
    stack.secretsManager.createSecret('fleetplane/executor-token', LOCAL_EXECUTOR_TOKEN);
    const config = await configWith({ awsSecretsManager: 'fleetplane/executor-token' });

    // Act
    const run = await fleetplane(['rotate', '--config', config], stack.env());

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rotation [0-9a-f-]{36}: done/);
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    expect(token).toHaveLength(40);
    const current = stack.secretsManager
      .versions('fleetplane/executor-token')
      .find((v) => v.stages.includes('AWSCURRENT'));
    expect(current?.secretString).toBe(token);
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
  });

  it('rotates a Secret Manager secret the same way', async () => {
    // Prepare
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, 'executor-token', LOCAL_EXECUTOR_TOKEN);
    const config = await configWith({ gcpSecretManager: `projects/${LOCAL_GCP_PROJECT}/secrets/executor-token` });

    // Act
    const run = await fleetplane(['rotate', '--config', config, '--json'], gcpEnv());

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.steps.map((step: { outcome: string }) => step.outcome)).toEqual(['done', 'done', 'done', 'done']);
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
  });

  it('stops with a clear message, no stack trace and nothing changed when no executor secret is configured', async () => {
    // Prepare
    const file = join(directory, 'no-secret.json');
    await writeFile(file, JSON.stringify(stack.config()));

    // Act
    const run = await fleetplane(['rotate', '--config', file], stack.env());

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/executorSecret/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
  });
});
