import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { runNode } from '../support/run-node.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'cli/fleetplane.ts');
let directory: string;
let stack: LocalStack;

const fleetplane = (args: readonly string[], env: Record<string, string> = {}) => runNode(CLI, args, env);

const STACK_TRACE = /^\s+at /m;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleetplane-cli-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('fleetplane plan against the local stack', () => {
  beforeEach(async () => {
    stack = await startLocalStack({ bootDelayMs: 60_000 });
  });

  afterEach(async () => {
    await stack.close();
  });

  async function configFile(): Promise<string> {
    const file = join(directory, 'fleetplane.json');
    await writeFile(file, JSON.stringify(stack.config()));
    return file;
  }

  it('prints depth, current and desired size and the reason per fleet, changing nothing', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 30);
    const config = await configFile();

    // Act
    const run = await fleetplane(['plan', '--config', config], stack.env());

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^fleet\s+mode\s+depth\s+current\s+desired\s+reason/);
    expect(run.stdout).toMatch(/^codeintel\s+direct\s+30\s+0\s+8\s+scale-out\s/m);
    expect(run.stdout).toMatch(/^batches\s+direct\s+0\s+0\s+0\s+at-target\s/m);
    expect(run.stdout).toContain('no metric written (use --publish); no group changed');
    expect(stack.autoScaling.group('sourcegraph-executors-codeintel')?.desired).toBe(0);
    expect(stack.autoScaling.emulator.requests.map((request) => request.operation)).not.toContain('SetDesiredCapacity');
    expect(stack.cloudWatch.datums()).toEqual([]);
  });

  it('refuses a config for a local Sourcegraph when AWS calls would go to real AWS', async () => {
    // Prepare
    const config = await configFile();

    // Act
    const run = await fleetplane(['plan', '--config', config]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/AWS calls would go to real AWS/);
  });

  it('writes the metric, and only the metric, with --publish', async () => {
    // Prepare
    stack.world.enqueue('codeintel', 3);
    const config = await configFile();

    // Act
    const run = await fleetplane(['plan', '--config', config, '--publish'], stack.env());

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('metric written for: codeintel, batches');
    expect(stack.cloudWatch.datums().map((datum) => datum.maximum)).toEqual([3, 0]);
    expect(stack.autoScaling.group('sourcegraph-executors-codeintel')?.desired).toBe(0);
  });
});

describe('fleetplane with bad input', () => {
  it('names every bad key of a bad config and exits 2 without a stack trace', async () => {
    // Prepare
    const file = join(directory, 'bad.yml');
    await writeFile(file, 'sourcegraph: { endpoint: nope }\nfleets: [{ name: a }]\ntypo: 1\n');

    // Act
    const run = await fleetplane(['plan', '--config', file]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/sourcegraph\.endpoint[\s\S]*fleets\[0\]\.queues[\s\S]*typo: unknown key/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it.each([
    [['plan'], /required option '-c, --config <file>'/],
    [['plan', '--config', 'x.yml', '--bogus'], /unknown option '--bogus'/],
    [['nonsense'], /unknown command 'nonsense'/],
    [['start', '--duration', 'soon'], /expected a whole number above 0/],
  ])('rejects %j with a clear message and a non-zero exit', async (args, message) => {
    // Act
    const run = await fleetplane(args);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it('lists its commands and options with --help', async () => {
    // Act
    const run = await fleetplane(['start', '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--duration <seconds>[\s\S]*--poll <seconds>[\s\S]*--no-live/);
  });
});

describe('fleetplane start (npm start)', () => {
  it('runs the real function against the local stack, scales out for the burst and exits 0 with a summary', async () => {
    // Act: a shortened run; the full one lasts about two minutes
    const run = await fleetplane(['start', '--duration', '20', '--poll', '1', '--boot', '3', '--no-live']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.stdout).toMatch(/first scale-out after\s+codeintel \d+\.\d s, batches \d+\.\d s/);
    expect(run.stdout).toMatch(/jobs done\s+\d+ of 60 \(interrupted by scale-in: 0\)/);
    expect(run.stdout).toMatch(/decisions\s+[1-9]\d* made, 0 failed/);
    expect(run.stdout).toMatch(/failed invocations\s+0/);
  }, 60_000);

  it('refuses options the function would refuse, before starting anything', async () => {
    // Act
    const run = await fleetplane(['start', '--window', '5']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/scaleInWindowSeconds: /);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
