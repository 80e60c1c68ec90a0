import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { functionBuildOptions } from '../../scripts/esbuild-options.ts';
import { logLines, runNode } from '../support/run-node.ts';

/**
 * The built Lambda bundle, run by the harness in its own process exactly as Lambda would load it, with only
 * `AWS_ENDPOINT_URL_*` pointing its real SDK clients at the local emulators.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HARNESS = join(ROOT, 'local/lambda-harness.ts');
let bundleDir: string;
let bundle: string;
let stack: LocalStack;

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'fleetplane-bundle-'));
  bundle = join(bundleDir, 'scale.js');
  await build({
    ...functionBuildOptions,
    absWorkingDir: ROOT,
    entryPoints: ['functions/aws/scale.ts'],
    outfile: bundle,
  });
  await writeFile(join(bundleDir, 'package.json'), '{ "type": "commonjs" }\n');
}, 120_000);

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

beforeEach(async () => {
  stack = await startLocalStack({ bootDelayMs: 60_000 });
});

afterEach(async () => {
  await stack.close();
});

/** One manual invocation (`{"once": true}`) of the built bundle. */
async function invoke(env: Record<string, string>, timeoutSeconds = 60) {
  const args = ['--bundle', bundle, '--once', '--ticks', '1', '--timeout-seconds', String(timeoutSeconds)];
  const run = await runNode(HARNESS, args, { ...stack.env(), ...env });
  return { ...run, logs: logLines(run) };
}

const configEnv = () => ({ FLEETPLANE_CONFIG: JSON.stringify(stack.config()) });
const worker = (queueName: string, environment = 'local') => ({
  namespace: 'sourcegraph-executor',
  metricName: 'src_executors_queue_size',
  dimensions: [
    { name: 'queueName', value: queueName },
    { name: 'environment', value: environment },
  ],
  unit: 'Count',
  storageResolution: 60,
});
const setDesiredCalls = () =>
  stack.autoScaling.emulator.requests.filter((request) => request.operation === 'SetDesiredCapacity');

describe('the built AWS scale function against the local stack', () => {
  it('publishes the worker-identical series and resizes a direct fleet at once', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 40);

    // Act
    const run = await invoke(configEnv());

    // Assess
    expect(run.code).toBe(0);
    expect(stack.autoScaling.group('sourcegraph-executors-codeintel')?.desired).toBe(10);
    expect(stack.autoScaling.group('sourcegraph-executors-batches')?.desired).toBe(0);
    expect(stack.cloudWatch.datums()).toEqual([
      expect.objectContaining({ ...worker('codeintel'), maximum: 40, sampleCount: 1 }),
      expect.objectContaining({ ...worker('batches'), maximum: 0, sampleCount: 1 }),
    ]);
    const decisions = run.logs.filter((line) => line.message === 'fleet decision');
    expect(decisions).toEqual([
      expect.objectContaining({
        fleet: 'codeintel',
        depth: 40,
        current: 0,
        desired: 10,
        reason: 'scale-out',
        action: 'resized',
      }),
      expect.objectContaining({
        fleet: 'batches',
        depth: 0,
        current: 0,
        desired: 0,
        reason: 'at-target',
        action: 'none',
      }),
    ]);
    expect(stack.sourcegraph.emulator.requests).toHaveLength(1);
    expect(JSON.stringify(run.logs)).not.toContain(LOCAL_SOURCEGRAPH_TOKEN);
  });

  it("writes the worker's three series from the worker's own variables, resizing nothing", async () => {
    // Prepare
    stack.world.enqueue('codeintel', 7);
    stack.world.enqueue('batches', 5, { batchSpec: 'spec-1' });

    // Act
    const run = await invoke({
      SRC_ENDPOINT: stack.sourcegraph.url,
      SRC_ACCESS_TOKEN: LOCAL_SOURCEGRAPH_TOKEN,
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
      EXECUTOR_METRIC_AWS_REGION: 'us-east-1',
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'prod',
    });

    // Assess
    expect(run.code).toBe(0);
    expect(stack.cloudWatch.datums().map((datum) => [datum.dimensions[0]?.value, datum.maximum])).toEqual([
      ['codeintel', 7],
      ['batches', 5],
      ['batches_codeintel', 12],
    ]);
    expect(stack.cloudWatch.datums()[0]).toMatchObject(worker('codeintel', 'prod'));
    expect(stack.autoScaling.emulator.requests).toEqual([]);
  });

  it('fails the invocation and changes nothing when Sourcegraph keeps failing', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 40);
    stack.autoScaling.group('sourcegraph-executors-codeintel');
    stack.sourcegraph.emulator.injectFault({ kind: 'error', status: 503 });

    // Act
    const run = await invoke(configEnv());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/"harness":"error".*the last cycle failed/);
    expect(stack.cloudWatch.datums()).toEqual([]);
    expect(setDesiredCalls()).toEqual([]);
    expect(run.logs.filter((line) => line.message === 'fleet decision')).toEqual([
      expect.objectContaining({ fleet: 'codeintel', status: 'failed', reason: 'demand-unknown' }),
      expect.objectContaining({ fleet: 'batches', status: 'failed', reason: 'demand-unknown' }),
    ]);
  });

  it('still resizes when CloudWatch throttles, and defers while a scaling activity is in progress', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 20);
    stack.world.enqueue('batches', 8, { batchSpec: 'spec-1' });
    stack.cloudWatch.emulator.injectFault({ kind: 'throttle', operation: 'PutMetricData' });
    stack.autoScaling.holdScaling('sourcegraph-executors-batches', 1);

    // Act
    const run = await invoke(configEnv());

    // Assess
    expect(run.code).toBe(0);
    expect(stack.autoScaling.group('sourcegraph-executors-codeintel')?.desired).toBe(5);
    expect(stack.autoScaling.group('sourcegraph-executors-batches')?.desired).toBe(0);
    expect(run.logs.filter((line) => line.message === 'fleet decision')).toEqual([
      expect.objectContaining({ fleet: 'codeintel', status: 'ok', action: 'resized' }),
      expect.objectContaining({ fleet: 'batches', status: 'deferred', action: 'deferred' }),
    ]);
    expect(run.logs).toContainEqual(expect.objectContaining({ message: 'publishing queue size failed' }));
  });

  it('still resizes when CloudWatch never answers, and ends before the platform timeout', async () => {
    // Prepare: PutMetricData hangs; the invocation may run 12 s, as if the Lambda timeout were 12 s
    stack.world.enqueue('codeintel', 20);
    stack.cloudWatch.emulator.injectFault({ kind: 'timeout', operation: 'PutMetricData' });
    const started = Date.now();

    // Act
    const run = await invoke(configEnv(), 12);

    // Assess
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(run.code).toBe(0);
    expect(stack.autoScaling.group('sourcegraph-executors-codeintel')?.desired).toBe(5);
    expect(run.logs).toContainEqual(
      expect.objectContaining({ message: 'publishing queue size failed', series: ['codeintel', 'batches'] }),
    );
  });
});
