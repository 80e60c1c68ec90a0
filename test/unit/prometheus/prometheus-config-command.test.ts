import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../../../cli/errors.ts';
import { type PrometheusConfigOptions, runPrometheusConfigCommand } from '../../../cli/prometheus-config.ts';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleetplane-prometheus-cli-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const fleet = (name: string, target: object) => ({
  name,
  queues: ['codeintel'],
  mode: 'metrics',
  target,
  jobsPerInstance: 4,
  maxInstances: 5,
});

async function configFile(document: object): Promise<string> {
  const file = join(directory, `config-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ sourcegraph: { endpoint: 'https://sourcegraph.example.com' }, ...document }));
  return file;
}

async function generate(options: Partial<PrometheusConfigOptions>): Promise<Record<string, unknown>[]> {
  let text = '';
  await runPrometheusConfigCommand({ address: 'private', layout: 'both', ...options }, {}, (chunk) => {
    text += chunk;
  });
  const document: { scrape_configs: Record<string, unknown>[] } = parse(text);
  return document.scrape_configs;
}

describe('prometheus-config from a fleet config', () => {
  it('takes the cloud, every region and the worker URL from the config; the tag from the flag', async () => {
    // Prepare
    const config = await configFile({
      busySignal: { url: 'http://worker.internal:6996/metrics' },
      fleets: [
        fleet('east', { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-east' }),
        fleet('west', { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors-west' }),
      ],
    });

    // Act
    const jobs = await generate({ config, instanceTag: 'codeintel-prod' });

    // Assess
    expect(jobs[0]?.ec2_sd_configs).toMatchObject([{ region: 'us-east-1' }, { region: 'us-west-2' }]);
    expect(jobs[2]?.static_configs).toEqual([{ targets: ['worker.internal:6996'] }]);
  });

  it('takes a zonal group’s project and zone', async () => {
    // Prepare
    const config = await configFile({
      fleets: [
        fleet('gce', { cloud: 'gcp', project: 'my-project', zone: 'us-central1-b', instanceGroupManager: 'executors' }),
      ],
    });

    // Act
    const jobs = await generate({ config, instanceTag: 'codeintel-prod', layout: 'legacy' });

    // Assess
    expect(jobs[0]?.gce_sd_configs).toMatchObject([{ project: 'my-project', zone: 'us-central1-b' }]);
  });

  it('says the config does not record the instance tag', async () => {
    // Prepare
    const config = await configFile({
      fleets: [fleet('east', { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-east' })],
    });

    // Act / Assess
    await expect(generate({ config })).rejects.toThrow(/fleet config does not record .*instance tag.*--instance-tag/);
  });

  it('asks for a zone when a group is regional, and for --cloud when fleets use both clouds', async () => {
    // Prepare
    const regional = await configFile({
      fleets: [
        fleet('gce', { cloud: 'gcp', project: 'my-project', region: 'us-central1', instanceGroupManager: 'executors' }),
      ],
    });
    const mixed = await configFile({
      fleets: [
        fleet('east', { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-east' }),
        fleet('gce', { cloud: 'gcp', project: 'my-project', zone: 'us-central1-b', instanceGroupManager: 'executors' }),
      ],
    });

    // Act / Assess
    await expect(generate({ config: regional, instanceTag: 't' })).rejects.toThrow(
      /regional .* pass --project and --zone/,
    );
    await expect(generate({ config: regional, instanceTag: 't', zone: 'us-central1-c' })).resolves.toHaveLength(3);
    await expect(generate({ config: mixed, instanceTag: 't' })).rejects.toThrow(/both clouds: pass --cloud/);
  });
});

describe('prometheus-config from flags', () => {
  it('needs no cloud or tag for the current layout alone', async () => {
    // Act
    const jobs = await generate({ layout: 'current' });

    // Assess
    expect(jobs).toEqual([
      {
        job_name: 'sourcegraph-executors-worker',
        scheme: 'http',
        metrics_path: '/metrics',
        static_configs: [{ targets: ['sourcegraph-worker:6996'] }],
      },
    ]);
  });

  it.each([
    [{ instanceTag: 't' }, /needs --cloud/],
    [{ cloud: 'aws', instanceTag: 't' }, /pass --region/],
    [
      { cloud: 'aws', instanceTag: 't', region: 'us-east-1', zone: 'us-central1-a' },
      /--project and --zone are for --cloud gcp/,
    ],
    [{ cloud: 'gcp', instanceTag: 't', zone: 'us-central1-a' }, /pass --project with --zone/],
    [{ cloud: 'gcp', instanceTag: 'UPPER', project: 'my-project', zone: 'us-central1-a' }, /GCE label value/],
  ] as const)('refuses %j with a usage error', async (options, message) => {
    // Act / Assess
    const failure = generate(options);
    await expect(failure).rejects.toThrow(UsageError);
    await expect(failure).rejects.toThrow(message);
  });
});
