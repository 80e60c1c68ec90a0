import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { functionBuildOptions } from '../../scripts/esbuild-options.ts';
import { jsonLines, logLines, runNode } from '../support/run-node.ts';

/**
 * The built rotate bundle, loaded in its own process as Lambda would load it, against the local stack: the real
 * Secrets Manager client on the emulator, the Sourcegraph emulator's site configuration and executor auth.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INVOKER = join(ROOT, 'test/integration/lambda-invoker.ts');
const SECRET = 'fleetplane/executor-token';
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
let bundleDir: string;
let bundle: string;
let stack: LocalStack;
let secretArn: string;

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'fleetplane-rotate-bundle-'));
  bundle = join(bundleDir, 'rotate.js');
  await build({
    ...functionBuildOptions,
    absWorkingDir: ROOT,
    entryPoints: ['functions/aws/rotate.ts'],
    outfile: bundle,
  });
  await writeFile(join(bundleDir, 'package.json'), '{ "type": "commonjs" }\n');
}, 120_000);

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

beforeEach(async () => {
  stack = await startLocalStack();
  secretArn = stack.secretsManager.createSecret(SECRET, LOCAL_EXECUTOR_TOKEN).arn;
});

afterEach(async () => {
  await stack.close();
});

/** The events, invoked one after another in one warm container of the built function. */
async function invoke(events: readonly unknown[]) {
  const config = { ...stack.config(), executorSecret: { awsSecretsManager: SECRET } };
  const run = await runNode(INVOKER, ['--bundle', bundle, '--events', JSON.stringify(events)], {
    ...stack.env(),
    FLEETPLANE_CONFIG: JSON.stringify(config),
  });
  const outcomes = jsonLines(run.stderr).filter((line) => 'invoker' in line);
  return { ...run, outcomes, logs: logLines(run) };
}

const versions = () => stack.secretsManager.versions(SECRET);
const withStage = (stage: string) => versions().filter((version) => version.stages.includes(stage));

/** Sourcegraph holds a new token, the current version holds it, the old one is previous, nothing is pending. */
function expectRotated(rotation?: string): string {
  const token = stack.sourcegraph.executorToken();
  expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
  expect(token).toHaveLength(40);
  const [current, ...moreCurrent] = withStage('AWSCURRENT');
  expect(moreCurrent).toEqual([]);
  expect(current?.secretString).toBe(token);
  if (rotation !== undefined) {
    expect(current?.id).toBe(rotation);
  }
  expect(withStage('AWSPREVIOUS').map((version) => version.secretString)).toEqual([LOCAL_EXECUTOR_TOKEN]);
  expect(withStage('AWSPENDING')).toEqual([]);
  return token;
}

function expectNoToken(run: { stdout: string; stderr: string }, tokens: readonly string[]): void {
  const output = `${run.stdout}${run.stderr}`;
  for (const token of [...tokens, LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN]) {
    expect(output).not.toContain(token);
  }
}

describe('the built AWS rotate function against the local stack', () => {
  it('rotates end to end on a manual invoke, returning the report', async () => {
    // Act
    const run = await invoke([{}]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const [outcome, ...more] = run.outcomes;
    expect(more).toEqual([]);
    expect(outcome).toMatchObject({
      invoker: 'result',
      result: {
        rotation: expect.stringMatching(/^[0-9a-f-]{36}$/),
        steps: STEPS.map((step) => ({ step, outcome: 'done' })),
        restartRequired: false,
      },
    });
    const token = expectRotated();
    expect(run.logs.filter((line) => line.message === 'rotation step')).toHaveLength(4);
    expectNoToken(run, [token]);
  });

  it("runs Secrets Manager's four steps one by one, each twice, and rotates with its ClientRequestToken", async () => {
    // After finishSecret every fleet's group is rolled, once: the repeated step finds the roll already started.
    const rollsOf = (outcome: string) =>
      stack.fleets.map((fleet) => expect.objectContaining({ fleet: fleet.fleet, outcome }));
    // Prepare
    const rotation = randomUUID();
    const events = STEPS.flatMap((Step) => {
      const event = { Step, SecretId: secretArn, ClientRequestToken: rotation, RotationToken: randomUUID() };
      return [event, event];
    });

    // Act
    const run = await invoke(events);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.outcomes.map((line) => [line.invoker, line.result])).toEqual([
      ['result', { rotation, step: 'createSecret', outcome: 'done' }],
      ['result', { rotation, step: 'createSecret', outcome: 'already-done' }],
      ['result', { rotation, step: 'setSecret', outcome: 'done' }],
      ['result', { rotation, step: 'setSecret', outcome: 'already-done' }],
      ['result', { rotation, step: 'testSecret', outcome: 'done' }],
      ['result', { rotation, step: 'testSecret', outcome: 'done' }],
      ['result', { rotation, step: 'finishSecret', outcome: 'done', rolls: rollsOf('started') }],
      ['result', { rotation, step: 'finishSecret', outcome: 'already-done', rolls: rollsOf('already-started') }],
    ]);
    const token = expectRotated(rotation);
    expectNoToken(run, [token]);
  });

  it('refuses another secret, a step before its createSecret, and an unknown event, changing nothing', async () => {
    // Prepare
    const other = stack.secretsManager.createSecret('some/other-secret', 'other-secret-value-0123456789');
    const before = versions();
    const step = (Step: string, SecretId: string) => ({ Step, SecretId, ClientRequestToken: randomUUID() });

    // Act
    const run = await invoke([step('createSecret', other.arn), step('setSecret', secretArn), { once: true }]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.outcomes).toEqual([
      expect.objectContaining({
        invoker: 'error',
        name: 'RotateEventError',
        message: expect.stringMatching(/some\/other-secret.*only the configured executor secret.*nothing was done/),
      }),
      expect.objectContaining({
        invoker: 'error',
        name: 'RotationError',
        message: expect.stringMatching(/^setSecret: .*stored no token/),
      }),
      expect.objectContaining({
        invoker: 'error',
        name: 'RotateEventError',
        message: expect.stringMatching(/unknown keys "once"/),
      }),
    ]);
    expect(run.logs.filter((line) => line.message === 'invocation failed')).toHaveLength(3);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
    expect(versions()).toEqual(before);
    expect(stack.secretsManager.versions('some/other-secret')).toHaveLength(1);
    expectNoToken(run, ['other-secret-value-0123456789']);
  });
});
