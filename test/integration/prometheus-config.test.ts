import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runPrometheusConfigCommand } from '../../cli/prometheus-config.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { ADDRESSES, LAYOUTS } from '../../shared/prometheus/index.ts';
import { runNode } from '../support/run-node.ts';

/**
 * The generated config against the real Prometheus (Debian's `prometheus` package, installed by .ci/run): promtool
 * accepts every variant, and a loopback Prometheus applying the generated relabelling to file_sd targets that carry the
 * meta labels EC2 / GCE discovery set produces every label. Locally the suite is skipped without the binaries; under
 * CI it runs, so a missing install fails loudly instead of passing quietly.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'cli/fleetplane.ts');
const run = promisify(execFile);
const installed = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const tools = installed('promtool') && installed('prometheus');
const required = tools || process.env.CI === 'true';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleetplane-prometheus-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const placeOf = {
  aws: ['--region', 'us-east-1'],
  gcp: ['--project', 'my-project', '--zone', 'us-central1-a'],
} as const;

async function generate(args: {
  cloud: 'aws' | 'gcp';
  layout: (typeof LAYOUTS)[number];
  address: (typeof ADDRESSES)[number];
}): Promise<string> {
  let text = '';
  await runPrometheusConfigCommand(
    {
      cloud: args.cloud,
      instanceTag: 'codeintel-prod',
      layout: args.layout,
      address: args.address,
      ...(args.cloud === 'aws' ? { region: 'us-east-1' } : { project: 'my-project', zone: 'us-central1-a' }),
    },
    {},
    (chunk) => {
      text += chunk;
    },
  );
  return text;
}

describe.runIf(required)('fleetplane prometheus-config with the real Prometheus', () => {
  it('has promtool and prometheus on PATH (.ci/run installs Debian’s prometheus package)', () => {
    expect(tools, 'promtool or prometheus is missing: apt-get install prometheus').toBe(true);
  });

  const variants = (['aws', 'gcp'] as const).flatMap((cloud) =>
    LAYOUTS.flatMap((layout) => ADDRESSES.map((address) => ({ cloud, layout, address }))),
  );
  it.each(variants)('promtool accepts $cloud, layout $layout, address $address', async (variant) => {
    // Prepare
    const file = join(directory, `${variant.cloud}-${variant.layout}-${variant.address}.yml`);
    await writeFile(file, await generate(variant));

    // Act
    const result = await run('promtool', ['check', 'config', file]);

    // Assess
    expect(result.stdout).toContain('SUCCESS');
  });

  it('the real CLI prints the same document to stdout', async () => {
    // Prepare
    const args = ['prometheus-config', '--cloud', 'gcp', '--instance-tag', 'codeintel-prod', ...placeOf.gcp];

    // Act
    const cli = await runNode(CLI, args);

    // Assess
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(await generate({ cloud: 'gcp', layout: 'both', address: 'private' }));
  });

  it('relabels EC2 and GCE targets: address on port 9999, module, zone, instance, version / project', async () => {
    // Prepare: every legacy variant's jobs, their discovery swapped for file_sd over sample targets.
    const files = {
      aws: join(directory, 'ec2-targets.json'),
      gcp: join(directory, 'gce-targets.json'),
    };
    await writeFile(files.aws, JSON.stringify(EC2_TARGETS));
    await writeFile(files.gcp, JSON.stringify(GCE_TARGETS));
    const jobs: unknown[] = [];
    for (const cloud of ['aws', 'gcp'] as const) {
      for (const address of ADDRESSES) {
        const generated: unknown = parse(await generate({ cloud, layout: 'legacy', address }));
        for (const job of scrapeConfigsOf(generated)) {
          const { ec2_sd_configs: _ec2, gce_sd_configs: _gce, job_name, ...rest } = job;
          jobs.push({
            ...rest,
            job_name: `${cloud}-${address}-${String(job_name)}`,
            file_sd_configs: [{ files: [files[cloud]] }],
          });
        }
      }
    }
    const config = join(directory, 'prometheus.yml');
    // An hour between scrapes: the targets are loopback addresses nobody serves, and the test reads labels only.
    await writeFile(config, stringify({ global: { scrape_interval: '1h' }, scrape_configs: jobs }));
    const prometheus = await startPrometheus(config);

    try {
      // Act
      const targets = await activeTargets(prometheus.port, 12);

      // Assess: running instances only; the public variants only those with a public IP.
      const url = (job: string, instance: string) =>
        targets.find((target) => target.labels.job === job && target.labels.instance === instance)?.scrapeUrl;
      const labels = (job: string, instance: string) =>
        targets.find((target) => target.labels.job === job && target.labels.instance === instance)?.labels;
      expect(targets).toHaveLength(12);
      for (const target of targets) {
        expect(target.labels.zone, JSON.stringify(target.labels)).toMatch(/^(us-east-1[ab]|us-central1-[ab])$/);
      }

      expect(labels('aws-private-sourcegraph-executors', 'i-0a1')).toMatchObject({
        zone: 'us-east-1a',
        version: 'ami-0e1',
      });
      expect(labels('aws-private-sourcegraph-executors', 'i-0b2')).toMatchObject({
        zone: 'us-east-1b',
        version: 'ami-0e1',
      });
      expect(url('aws-private-sourcegraph-executors', 'i-0a1')).toBe('http://127.0.0.11:9999/proxy?module=executor');
      expect(url('aws-private-sourcegraph-executor-nodes', 'i-0b2')).toBe('http://127.0.0.12:9999/proxy?module=node');
      expect(url('aws-public-sourcegraph-executors', 'i-0a1')).toBe('http://127.0.0.21:9999/proxy?module=executor');
      expect(url('aws-public-sourcegraph-executor-nodes', 'i-0a1')).toBe('http://127.0.0.21:9999/proxy?module=node');
      expect(url('aws-public-sourcegraph-executors', 'i-0b2')).toBeUndefined();
      expect(url('aws-private-sourcegraph-executors', 'i-0c3')).toBeUndefined();

      expect(labels('gcp-private-sourcegraph-executors', 'executor-a')).toMatchObject({
        zone: 'us-central1-a',
        project: 'my-project',
      });
      expect(labels('gcp-private-sourcegraph-executor-nodes', 'executor-b')).toMatchObject({
        zone: 'us-central1-b',
        project: 'my-project',
      });
      expect(url('gcp-private-sourcegraph-executors', 'executor-a')).toBe(
        'http://127.0.0.31:9999/proxy?module=executor',
      );
      expect(url('gcp-private-sourcegraph-executor-nodes', 'executor-b')).toBe(
        'http://127.0.0.32:9999/proxy?module=node',
      );
      expect(url('gcp-public-sourcegraph-executors', 'executor-a')).toBe(
        'http://127.0.0.41:9999/proxy?module=executor',
      );
      expect(url('gcp-public-sourcegraph-executors', 'executor-b')).toBeUndefined();
      expect(url('gcp-private-sourcegraph-executors', 'executor-c')).toBeUndefined();
    } finally {
      await prometheus.stop();
    }
  });
});

/**
 * Targets as EC2 / GCE discovery would hand them over: `__address__` is the private IP on the discovery's default port
 * (80), so only the generated rule can move it to 9999. Every address is on loopback.
 */
const EC2_TARGETS = [
  ec2('i-0a1', 'us-east-1a', 'running', '127.0.0.11', '127.0.0.21'),
  ec2('i-0b2', 'us-east-1b', 'running', '127.0.0.12'),
  ec2('i-0c3', 'us-east-1a', 'stopped', '127.0.0.13', '127.0.0.23'),
];
const GCE_TARGETS = [
  gce('executor-a', 'us-central1-a', 'RUNNING', '127.0.0.31', '127.0.0.41'),
  gce('executor-b', 'us-central1-b', 'RUNNING', '127.0.0.32'),
  gce('executor-c', 'us-central1-a', 'TERMINATED', '127.0.0.33', '127.0.0.43'),
];

function ec2(id: string, zone: string, state: string, privateIp: string, publicIp?: string) {
  return {
    targets: [`${privateIp}:80`],
    labels: {
      __meta_ec2_instance_id: id,
      __meta_ec2_availability_zone: zone,
      __meta_ec2_instance_state: state,
      __meta_ec2_private_ip: privateIp,
      __meta_ec2_ami: 'ami-0e1',
      __meta_ec2_tag_executor_tag: 'codeintel-prod',
      ...(publicIp === undefined ? {} : { __meta_ec2_public_ip: publicIp }),
    },
  };
}

function gce(name: string, zone: string, status: string, privateIp: string, publicIp?: string) {
  return {
    targets: [`${privateIp}:80`],
    labels: {
      __meta_gce_instance_name: name,
      __meta_gce_zone: `https://www.googleapis.com/compute/v1/projects/my-project/zones/${zone}`,
      __meta_gce_instance_status: status,
      __meta_gce_private_ip: privateIp,
      __meta_gce_project: 'my-project',
      __meta_gce_label_executor_tag: 'codeintel-prod',
      ...(publicIp === undefined ? {} : { __meta_gce_public_ip: publicIp }),
    },
  };
}

function scrapeConfigsOf(document: unknown): Record<string, unknown>[] {
  if (!isRecord(document) || !Array.isArray(document.scrape_configs)) {
    throw new Error('generated document has no scrape_configs');
  }
  return document.scrape_configs.filter(isRecord);
}

interface Target {
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapeUrl: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

async function startPrometheus(config: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok,
      () => stderr,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

async function activeTargets(port: number, count: number): Promise<Target[]> {
  let targets: Target[] = [];
  await waitFor(
    async () => {
      const body: unknown = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`)).json();
      const active =
        isRecord(body) && isRecord(body.data) && Array.isArray(body.data.activeTargets) ? body.data.activeTargets : [];
      targets = active.filter(isRecord).map((target) => ({
        labels: isRecord(target.labels)
          ? (Object.fromEntries(Object.entries(target.labels).map(([k, v]) => [k, String(v)])) as Record<
              string,
              string
            >)
          : {},
        scrapeUrl: String(target.scrapeUrl),
      }));
      return targets.length >= count;
    },
    () => JSON.stringify(targets),
  );
  return targets;
}

/** Polls until `ready` holds; Prometheus applies discovered targets a few seconds after start. */
async function waitFor(ready: () => Promise<boolean>, describeState: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ready()) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for Prometheus: ${describeState()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
