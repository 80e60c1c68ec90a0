import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  executorScrapeConfigs,
  JOB_NAMES,
  renderPrometheusConfig,
  ScrapeOptionsError,
} from '../../../shared/prometheus/index.ts';

const aws = { cloud: 'aws', region: 'us-east-1' } as const;
const gcp = { cloud: 'gcp', project: 'my-project', zone: 'us-central1-a' } as const;

describe('executorScrapeConfigs', () => {
  it('legacy AWS: two /proxy jobs (executor, node) discovering the tag on port 9999', () => {
    // Act
    const jobs = executorScrapeConfigs({ layout: 'legacy', discoveries: [aws], instanceTag: 'codeintel-prod' });

    // Assess
    expect(jobs.map((job) => [job.job_name, job.metrics_path, job.params])).toEqual([
      [JOB_NAMES.executors, '/proxy', { module: ['executor'] }],
      [JOB_NAMES.nodes, '/proxy', { module: ['node'] }],
    ]);
    expect(jobs[0]?.ec2_sd_configs).toEqual([
      { region: 'us-east-1', port: 9999, filters: [{ name: 'tag:executor_tag', values: ['codeintel-prod'] }] },
    ]);
    expect(jobs[0]?.relabel_configs).toContainEqual({
      source_labels: ['__meta_ec2_private_ip'],
      regex: '(.+)',
      target_label: '__address__',
      replacement: `\${1}:9999`,
    });
  });

  it('sets each label from a regex that matches the value the discovery gives (an AZ name, a zone URL)', () => {
    // Prepare: Prometheus anchors relabel regexes, as JavaScript does with ^…$.
    const rules = (discovery: typeof aws | typeof gcp) =>
      executorScrapeConfigs({ layout: 'legacy', discoveries: [discovery], instanceTag: 't' })[0]?.relabel_configs ?? [];
    const apply = (rule: { regex?: string; replacement?: string } | undefined, value: string) =>
      value.replace(new RegExp(`^(?:${rule?.regex})$`), rule?.replacement ?? '$1');

    // Act
    const awsZone = rules(aws).find((rule) => rule.target_label === 'zone');
    const gcpZone = rules(gcp).find((rule) => rule.target_label === 'zone');

    // Assess
    expect(apply(awsZone, 'us-east-1a')).toBe('us-east-1a');
    expect(apply(gcpZone, 'https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a')).toBe(
      'us-central1-a',
    );
    expect(rules(aws).map((rule) => rule.target_label ?? rule.action)).toEqual([
      'keep',
      '__address__',
      'zone',
      'instance',
      'version',
    ]);
    expect(rules(gcp).map((rule) => rule.target_label ?? rule.action)).toEqual([
      'keep',
      '__address__',
      'zone',
      'instance',
      'project',
    ]);
  });

  it('public addresses keep only instances that have one, and dial it', () => {
    // Act
    const rules =
      executorScrapeConfigs({ layout: 'legacy', discoveries: [gcp], instanceTag: 't', address: 'public' })[0]
        ?.relabel_configs ?? [];

    // Assess
    expect(rules).toContainEqual({ source_labels: ['__meta_gce_public_ip'], regex: '.+', action: 'keep' });
    expect(rules.find((rule) => rule.target_label === '__address__')?.source_labels).toEqual(['__meta_gce_public_ip']);
  });

  it('GCE: one zonal discovery per place, filtered on the label, duplicates folded', () => {
    // Act
    const jobs = executorScrapeConfigs({
      layout: 'legacy',
      discoveries: [gcp, gcp, { ...gcp, zone: 'us-central1-b' }],
      instanceTag: 'codeintel-prod',
    });

    // Assess
    expect(jobs[1]?.gce_sd_configs).toEqual([
      { project: 'my-project', zone: 'us-central1-a', port: 9999, filter: 'labels.executor_tag = "codeintel-prod"' },
      { project: 'my-project', zone: 'us-central1-b', port: 9999, filter: 'labels.executor_tag = "codeintel-prod"' },
    ]);
  });

  it('current layout: a static scrape of the worker endpoint; both: legacy jobs then the worker', () => {
    // Act
    const current = executorScrapeConfigs({ layout: 'current', workerUrl: 'https://worker.internal:7000/m' });
    const both = executorScrapeConfigs({ layout: 'both', discoveries: [aws], instanceTag: 't' });

    // Assess
    expect(current).toEqual([
      {
        job_name: JOB_NAMES.worker,
        scheme: 'https',
        metrics_path: '/m',
        static_configs: [{ targets: ['worker.internal:7000'] }],
      },
    ]);
    expect(both.map((job) => job.job_name)).toEqual([JOB_NAMES.executors, JOB_NAMES.nodes, JOB_NAMES.worker]);
    expect(both[2]?.static_configs).toEqual([{ targets: ['sourcegraph-worker:6996'] }]);
  });

  it.each([
    [{ layout: 'legacy', instanceTag: 't' }, /where to discover/],
    [{ layout: 'legacy', discoveries: [aws] }, /instance tag/],
    [{ layout: 'legacy', discoveries: [aws, gcp], instanceTag: 't' }, /one cloud/],
    [{ layout: 'legacy', discoveries: [gcp], instanceTag: 'Has "quotes"' }, /GCE label value/],
    [{ layout: 'legacy', discoveries: [aws], instanceTag: 'a\nb' }, /EC2 tag value/],
    [{ layout: 'legacy', discoveries: [{ cloud: 'aws', region: 'useast' }], instanceTag: 't' }, /AWS region/],
    [{ layout: 'legacy', discoveries: [{ ...gcp, zone: 'us-central1' }], instanceTag: 't' }, /GCE zone/],
    [{ layout: 'current', workerUrl: 'not a url' }, /not a URL/],
    [{ layout: 'current', workerUrl: 'http://worker:6996/metrics?x=1' }, /without query/],
  ] as const)('refuses %j', (options, message) => {
    // Act / Assess
    expect(() => executorScrapeConfigs(options)).toThrow(ScrapeOptionsError);
    expect(() => executorScrapeConfigs(options)).toThrow(message);
  });
});

describe('renderPrometheusConfig', () => {
  it('renders a commented scrape_configs document that parses back to the jobs, without aliases', () => {
    // Prepare
    const jobs = executorScrapeConfigs({ layout: 'both', discoveries: [aws], instanceTag: 'codeintel-prod' });

    // Act
    const text = renderPrometheusConfig(jobs, 'line one\nline two');

    // Assess
    expect(text.startsWith('# line one\n# line two\n')).toBe(true);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text).toContain('module: [executor]');
    expect(parse(text)).toEqual({ scrape_configs: jobs });
  });
});
