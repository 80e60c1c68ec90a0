import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulationReport } from '../../simulator/model.ts';
import { runNode } from '../support/run-node.ts';

const CLI = new URL('../../cli/fleetplane.ts', import.meta.url).pathname;
const fleetplane = (args: readonly string[]) => runNode(CLI, ['simulate', ...args]);

describe('fleetplane simulate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetplane-simulate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays a generated day against all four policies, the same way every time', async () => {
    const args = ['--generator', 'spiky', '--seed', '3', '--json'];
    const [first, second] = await Promise.all([fleetplane(args), fleetplane(args)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const report: SimulationReport = JSON.parse(first.stdout);
    expect(report.trace).toMatchObject({ name: 'spiky:seed=3', durationS: 86_400 });
    expect(report.results.map((result) => result.policy)).toEqual(['fleetplane', 'tf-aws', 'gce', 'buildkite']);
    for (const result of report.results) {
      expect(result.completed + result.unfinished).toBe(report.trace.jobs);
      expect(result.timeline.length).toBeGreaterThan(1440);
      expect(result.bursts.length).toBeGreaterThan(0);
    }
  });

  it('replays a CSV trace, prints the table and writes the HTML report and the trace it replayed', async () => {
    const trace = join(dir, 'burst.csv');
    const rows = Array.from({ length: 40 }, (_, index) => `${600 + (index % 3)},codeintel,${300 + index}`);
    await writeFile(trace, ['arrival_s,queue,duration_s', ...rows, ''].join('\n'));
    const html = join(dir, 'report.html');
    const saved = join(dir, 'saved.csv');
    const run = await fleetplane(['--trace', trace, '--policies', 'fleetplane,tf-aws', '--boot', '60', '--max', '8']);
    const withFiles = await fleetplane(['--trace', trace, '--html', html, '--save-trace', saved, '--policies', 'gce']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`trace file:${trace}: 40 jobs`);
    expect(run.stdout).toContain('boot 60s');
    expect(run.stdout).toMatch(/^fleetplane\s/m);
    expect(run.stdout).toMatch(/^tf-aws\s/m);
    expect(run.stdout).not.toMatch(/^gce\s/m);
    expect(withFiles.code).toBe(0);
    expect(withFiles.stdout).toContain(`report written to ${html}`);
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/i);
    expect((await readFile(saved, 'utf8')).split('\n')[0]).toBe('arrival_s,queue,duration_s');
  });

  it('runs fleetplane with busy-aware scale-in when asked, interrupting no job', async () => {
    const run = await fleetplane([
      '--generator',
      'spiky',
      '--policies',
      'fleetplane',
      '--scale-in',
      'busy-signal',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report: SimulationReport = JSON.parse(run.stdout);
    expect(report.results.map((result) => [result.policy, result.interruptedJobs])).toEqual([['fleetplane', 0]]);
  });

  it('names every problem of a bad trace and exits 2, without a stack trace', async () => {
    const trace = join(dir, 'bad.csv');
    await writeFile(trace, 'arrival_s,queue,duration_s\n-1,codeintel,10\n5,indexing,10\n7,batches,0\n');
    const run = await fleetplane(['--trace', trace]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/line 2.*arrival_s/);
    expect(run.stderr).toMatch(/line 3.*"indexing"/);
    expect(run.stderr).toMatch(/line 4.*duration_s/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an unknown generator, unknown policies and contradictory bounds, each with a clear message', async () => {
    const generator = await fleetplane(['--generator', 'hourly']);
    const policy = await fleetplane(['--generator', 'steady', '--policies', 'fleetplane,karpenter']);
    const bounds = await fleetplane(['--generator', 'steady', '--min', '5', '--max', '2']);
    const neither = await fleetplane([]);
    expect([generator.code, policy.code, bounds.code, neither.code]).toEqual([2, 2, 2, 2]);
    expect(generator.stderr).toContain('unknown generator "hourly"; choose one of steady, nightly-burst');
    expect(policy.stderr).toContain('unknown policy "karpenter"');
    expect(bounds.stderr).toContain('minInstances must not exceed maxInstances');
    expect(neither.stderr).toContain('give exactly one of --trace <file.csv> or --generator <name>');
  });

  it('refuses an unusable seed or output path before simulating anything', async () => {
    const seed = await fleetplane(['--generator', 'steady', '--seed', '99999999999']);
    const html = await fleetplane(['--generator', 'steady', '--html', join(dir, 'missing', 'report.html')]);
    expect([seed.code, html.code]).toEqual([1, 2]);
    expect(seed.stderr).toContain('expected a whole number from 0 to 4294967295');
    expect(html.stderr).toMatch(/--html .*report\.html: cannot write there \(ENOENT\)/);
    expect(html.stderr).not.toMatch(/\n\s+at /);
    expect(html.stdout).toBe('');
  });
});
