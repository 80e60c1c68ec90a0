/**
 * The alert policies of infra/gcp/monitoring.tf under the real Prometheus rule engine: each PromQL query exactly as
 * the .tf file holds it, its Terraform interpolations filled in for a sample config, becomes an alerting rule that
 * `promtool test rules` (Debian's `prometheus` package, installed by .ci/run) evaluates over input series named as
 * Cloud Monitoring names fleetplane's custom metrics in PromQL. Cloud Monitoring evaluates PromQL like Prometheus 2.44
 * apart from staleness, which the queries avoid by reading explicit ranges. Locally the suite is skipped without
 * promtool; under CI it runs, so a missing install fails loudly instead of passing quietly.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../../shared/config/index.ts';
import { managedFleets } from '../../shared/domain/fleet.ts';
import { allocatedSize, seriesAllocation } from '../../shared/domain/queue-metric.ts';
import {
  CYCLE_SUCCEEDED_METRIC_TYPE,
  FLEET_CURRENT_SIZE_METRIC_TYPE,
  QUEUE_DEPTH_METRIC_TYPE,
} from '../../shared/gcp/monitoring-cycle-metrics.ts';
import {
  ROTATION_FAILED_METRIC_TYPE,
  ROTATION_SUCCEEDED_METRIC_TYPE,
} from '../../shared/gcp/monitoring-rotation-metrics.ts';
import { attribute, type Block, child, finder, readInfra } from '../deploy/hcl-blocks.ts';

const run = promisify(execFile);
const installed = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const required = installed || process.env.CI === 'true';

/**
 * The sample config the interpolations are filled from: GCP takes half of codeintel and none of batches. Fleet `code`
 * (codeintel, 3 jobs per VM) sees half of the published depth, so its policy fires at 6; fleet `batch` gets no policy.
 */
const SAMPLE_DOCUMENT = [
  'environment: prod',
  'sourcegraph: { endpoint: https://sourcegraph.example.com }',
  'metrics: { cloudwatch: { region: us-east-1 }, cloudMonitoring: { projectId: my-project } }',
  'allocations: { codeintel: { aws: 0.5, gcp: 0.5 }, batches: { aws: 1 } }',
  'fleets:',
  '  - { name: code, queues: [codeintel], mode: direct, jobsPerInstance: 3, maxInstances: 50, scaleIn: { mode: resize },',
  '      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: code } }',
  '  - { name: batch, queues: [batches], mode: shadow, jobsPerInstance: 2, maxInstances: 50,',
  '      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: batch } }',
].join('\n');
const SAMPLE = { environment: 'prod', fleet: 'code', series: 'codeintel', jobsPerInstance: 3, threshold: 6 } as const;
/**
 * local.capacity_alert_fleets for the sample, one entry per capacity policy, as gcp-monitoring-terraform.test.ts shows
 * Terraform derives it from the same document (its half-and-half case).
 */
const CAPACITY_POLICIES: Readonly<Record<string, { series: string; jobs_per_instance: number; threshold: number }>> = {
  [SAMPLE.fleet]: { series: SAMPLE.series, jobs_per_instance: SAMPLE.jobsPerInstance, threshold: SAMPLE.threshold },
};
const INTERPOLATIONS: Readonly<Record<string, string>> = { 'local.monitoring_environment': SAMPLE.environment };
/** The interpolations of one capacity policy, `for_each` over CAPACITY_POLICIES. */
const capacityInterpolations = (fleet: string): Readonly<Record<string, string>> => {
  const policy = CAPACITY_POLICIES[fleet];
  if (policy === undefined) {
    throw new Error(`the sample makes no capacity policy for ${fleet}`);
  }
  return {
    ...INTERPOLATIONS,
    'each.key': fleet,
    'each.value.series': policy.series,
    'each.value.jobs_per_instance': String(policy.jobs_per_instance),
    'each.value.threshold': String(policy.threshold),
  };
};
const POLICIES = ['no_successful_cycle', 'queue_deep_no_capacity_change', 'rotation_failed'] as const;
type Policy = (typeof POLICIES)[number];

/** Cloud Monitoring's PromQL name for a metric type: the first "/" becomes ":", every other special character "_". */
const promqlName = (type: string) => type.replace('/', ':').replace(/[^\w:]/g, '_');
/** The labels a written series carries in PromQL: its metric labels, the resource type, the `global` resource's label. */
const series = (type: string, labels: Readonly<Record<string, string>>) => {
  const all = { ...labels, monitored_resource: 'global', project_id: 'my-project' };
  const text = Object.entries(all)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  return `${promqlName(type)}{${text}}`;
};
/** One value a minute from minute 0; `undefined` is a minute with no point. */
const perMinute = (values: readonly (number | undefined)[]) =>
  values.map((value) => (value === undefined ? '_' : String(value))).join(' ');
const minutes = (count: number, value: (minute: number) => number | undefined) =>
  perMinute(Array.from({ length: count }, (_, minute) => value(minute)));

interface Rule {
  readonly expr: string;
  readonly for: string;
  readonly interval: string;
}

/** `${...}` interpolations replaced from `values`; anything else left would not be PromQL. */
function interpolate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([^}]*)\}/g, (match, expression: string) => {
    const value = values[expression.trim()];
    if (value === undefined) {
      throw new Error(`no sample value for ${match}`);
    }
    return value;
  });
}

/** The policy's condition as Terraform would send it for the sample config. */
function ruleOf(blocks: readonly Block[], policy: Policy, values: Readonly<Record<string, string>>): Rule {
  const top = finder(blocks);
  const condition = child(
    child(top('resource', 'google_monitoring_alert_policy', policy), 'conditions'),
    'condition_prometheus_query_language',
  );
  const heredoc = /query\s+= <<-EOT\n([\s\S]*?)\n\s*EOT/.exec(condition.body)?.[1];
  const locals = blocks.find((block) => block.file === 'monitoring.tf' && block.type === 'locals')?.body ?? '';
  const interval = attribute(condition.body, 'evaluation_interval')?.replace(
    /^local\.(\w+)$/,
    (_, name: string) => attribute(locals, name) ?? '',
  );
  const unquote = (value: string | undefined) => /^"([^"]+)"$/.exec(value ?? '')?.[1];
  const rule = {
    expr: interpolate(heredoc ?? '', values),
    for: unquote(attribute(condition.body, 'duration')),
    interval: unquote(interval),
  };
  if (heredoc === undefined || rule.for === undefined || rule.interval === undefined) {
    throw new Error(`could not read the query, duration and evaluation interval of ${policy}`);
  }
  return { expr: rule.expr, for: rule.for, interval: rule.interval };
}

interface Scenario {
  readonly series: readonly { readonly series: string; readonly values: string }[];
  /** Minute → the labels of each alert expected to fire then (besides alertname); empty: none fires. */
  readonly expect: Readonly<Record<number, readonly Readonly<Record<string, string>>[]>>;
}

let directory: string;
/** Each policy's rules: one per instance Terraform makes of it for the sample config (`count` or `for_each`). */
let rules: Record<Policy, Rule[]>;
let runs = 0;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleetplane-alert-rules-'));
  const { blocks } = await readInfra();
  rules = {
    no_successful_cycle: [ruleOf(blocks, 'no_successful_cycle', INTERPOLATIONS)],
    queue_deep_no_capacity_change: Object.keys(CAPACITY_POLICIES).map((fleet) =>
      ruleOf(blocks, 'queue_deep_no_capacity_change', capacityInterpolations(fleet)),
    ),
    rotation_failed: [ruleOf(blocks, 'rotation_failed', INTERPOLATIONS)],
  };
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The evaluation interval every rule of the policy shares (it is one local in monitoring.tf). */
function intervalOf(policy: Policy): string {
  const intervals = new Set(rules[policy].map((rule) => rule.interval));
  const [interval] = intervals;
  if (interval === undefined || intervals.size !== 1) {
    throw new Error(`${policy}: expected one evaluation interval, found ${[...intervals].join(', ')}`);
  }
  return interval;
}

/** Runs `promtool test rules` for one policy over one scenario; resolves with promtool's verdict and output. */
async function promtool(policy: Policy, scenario: Scenario): Promise<{ ok: boolean; output: string }> {
  const interval = intervalOf(policy);
  const name = `case-${++runs}`;
  await writeFile(
    join(directory, `${name}.rules.yml`),
    stringify({
      groups: [
        {
          name: 'fleetplane',
          interval,
          rules: rules[policy].map((rule) => ({ alert: policy, expr: rule.expr, for: rule.for })),
        },
      ],
    }),
  );
  await writeFile(
    join(directory, `${name}.test.yml`),
    stringify({
      rule_files: [`${name}.rules.yml`],
      evaluation_interval: interval,
      tests: [
        {
          interval: '1m',
          input_series: scenario.series,
          alert_rule_test: Object.entries(scenario.expect).map(([minute, alerts]) => ({
            eval_time: `${minute}m`,
            alertname: policy,
            exp_alerts: alerts.map((labels) => ({ exp_labels: labels })),
          })),
        },
      ],
    }),
  );
  return run('promtool', ['test', 'rules', `${name}.test.yml`], { cwd: directory }).then(
    ({ stdout, stderr }) => ({ ok: true, output: `${stdout}${stderr}` }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
}

describe.runIf(required)('infra/gcp alert policies under promtool test rules', () => {
  it('has promtool on PATH (.ci/run installs Debian’s prometheus package)', () => {
    expect(installed, 'promtool is missing: apt-get install prometheus').toBe(true);
  });

  describe('no successful cycle for 5 minutes', () => {
    const succeeded = (environment: string) => series(CYCLE_SUCCEEDED_METRIC_TYPE, { environment });
    // The series the `< 1` branch returns, and the one absent_over_time makes from the selector's equality matchers.
    const failing = { environment: SAMPLE.environment, monitored_resource: 'global', project_id: 'my-project' };
    const silent = { environment: SAMPLE.environment, monitored_resource: 'global' };

    it('stays quiet while cycles succeed, whatever another environment does', async () => {
      // Act
      const result = await promtool('no_successful_cycle', {
        series: [
          { series: succeeded(SAMPLE.environment), values: minutes(41, () => 1) },
          { series: succeeded('staging'), values: minutes(41, () => 0) },
        ],
        expect: { 5: [], 20: [], 40: [] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('fires once 5 minutes pass without a successful cycle, and clears with the next one', async () => {
      // Act: successes until minute 10, failures until 29, successes again from 30.
      const result = await promtool('no_successful_cycle', {
        series: [
          {
            series: succeeded(SAMPLE.environment),
            values: minutes(41, (minute) => (minute <= 10 || minute >= 30 ? 1 : 0)),
          },
        ],
        expect: { 14: [], 15: [], 16: [failing], 29: [failing], 30: [] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('fires when the function stops publishing: missing data counts', async () => {
      // Act: successes until minute 10, then nothing at all.
      const result = await promtool('no_successful_cycle', {
        series: [{ series: succeeded(SAMPLE.environment), values: minutes(11, () => 1) }],
        expect: { 15: [], 16: [silent], 40: [silent] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('fires when nothing was ever published for the environment', async () => {
      // Act: only another environment's cycles exist.
      const result = await promtool('no_successful_cycle', {
        series: [{ series: succeeded('staging'), values: minutes(21, () => 1) }],
        expect: { 0: [silent], 10: [silent], 20: [silent] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });
  });

  describe('queue deep and no capacity change for 15 minutes', () => {
    const depth = (name: string) => series(QUEUE_DEPTH_METRIC_TYPE, { environment: SAMPLE.environment, series: name });
    const size = (fleet: string) => series(FLEET_CURRENT_SIZE_METRIC_TYPE, { environment: SAMPLE.environment, fleet });
    // The result keeps the depth series' labels.
    const deep = {
      environment: SAMPLE.environment,
      monitored_resource: 'global',
      project_id: 'my-project',
      series: SAMPLE.series,
    };
    // The threshold: the depth whose GCP share (half, truncated) reaches jobsPerInstance.
    const T = SAMPLE.threshold;
    const J = SAMPLE.jobsPerInstance;

    it('derives the sample’s policies from the GCP share: twice jobsPerInstance for code, none for batch', () => {
      // Prepare: the sample as the function parses it.
      const config = parseConfigText(SAMPLE_DOCUMENT, 'sample', { SRC_ACCESS_TOKEN: 'fake-token-for-tests' });

      // Act
      const shares = managedFleets(config.fleets, 'gcp').map((fleet) => ({
        fleet,
        share: seriesAllocation(fleet.series, config.allocations, 'gcp'),
      }));

      // Assess: T is the smallest depth whose share is J; a fleet with no share has no entry, so no policy.
      expect(shares.map(({ fleet, share }) => [fleet.name, share])).toEqual([
        ['code', 0.5],
        ['batch', 0],
      ]);
      for (const { fleet, share } of shares) {
        const policy = CAPACITY_POLICIES[fleet.name];
        if (share === 0) {
          expect(policy, fleet.name).toBeUndefined();
          continue;
        }
        expect(policy, fleet.name).toEqual({
          series: fleet.series,
          jobs_per_instance: fleet.jobsPerInstance,
          threshold: expect.any(Number),
        });
        expect(allocatedSize(policy?.threshold ?? 0, share)).toBeGreaterThanOrEqual(fleet.jobsPerInstance);
        expect(allocatedSize((policy?.threshold ?? 0) - 1, share)).toBeLessThan(fleet.jobsPerInstance);
      }
      expect(T).toBeGreaterThan(J);
    });

    it('fires after 15 minutes at or above the threshold with the size unchanged, for this fleet only', async () => {
      // Act: another series and another fleet are just as stuck, and must not make alerts of their own.
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: minutes(41, () => T + 3) },
          { series: size(SAMPLE.fleet), values: minutes(41, () => 3) },
          { series: depth('batches'), values: minutes(41, () => 50) },
          { series: size('other'), values: minutes(41, () => 1) },
        ],
        expect: { 10: [], 14: [], 15: [deep], 30: [deep] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('fires at exactly the threshold: one instance’s worth of GCP’s share waiting, e.g. pinned at maxInstances', async () => {
      // Act
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: minutes(31, () => T) },
          { series: size(SAMPLE.fleet), values: minutes(31, () => 10) },
        ],
        expect: { 15: [deep], 30: [deep] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('stays quiet one job below the threshold, though that depth is above jobsPerInstance', async () => {
      // Act: T - 1 jobs published, of which GCP's half (truncated) is one short of an instance's worth.
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: minutes(41, () => T - 1) },
          { series: size(SAMPLE.fleet), values: minutes(41, () => 3) },
        ],
        expect: { 15: [], 20: [], 40: [] },
      });

      // Assess
      expect(T - 1).toBeGreaterThan(J);
      expect(result.ok, result.output).toBe(true);
    });

    it('makes no policy for a fleet GCP takes no share of: its deep, stuck queue fires nothing', async () => {
      // Act: every capacity policy the sample makes, with batch's series deep and its size stuck for 40 minutes.
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth('batches'), values: minutes(41, () => 500) },
          { series: size('batch'), values: minutes(41, () => 2) },
        ],
        expect: { 15: [], 20: [], 40: [] },
      });

      // Assess
      expect(rules.queue_deep_no_capacity_change.map((rule) => /fleet="([^"]*)"/.exec(rule.expr)?.[1])).toEqual([
        SAMPLE.fleet,
      ]);
      expect(result.ok, result.output).toBe(true);
    });

    it('stays quiet while the size changes, and fires 15 minutes after the last change', async () => {
      // Act: the group grows from 3 to 4 between minutes 9 and 10.
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: minutes(41, () => T + 3) },
          { series: size(SAMPLE.fleet), values: minutes(41, (minute) => (minute < 10 ? 3 : 4)) },
        ],
        expect: { 15: [], 20: [], 24: [], 25: [deep] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('stays quiet when the depth dipped below the threshold within the 15 minutes', async () => {
      // Act: one reading below the threshold at minute 8.
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: minutes(41, (minute) => (minute === 8 ? T - 1 : T + 3)) },
          { series: size(SAMPLE.fleet), values: minutes(41, () => 3) },
        ],
        expect: { 15: [], 23: [], 24: [deep] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('stays quiet without size data (missing data is not breaching)', async () => {
      // Act
      const sizeless = await promtool('queue_deep_no_capacity_change', {
        series: [{ series: depth(SAMPLE.series), values: minutes(41, () => T + 3) }],
        expect: { 20: [], 40: [] },
      });
      const nothing = await promtool('queue_deep_no_capacity_change', { series: [], expect: { 20: [] } });

      // Assess
      expect(sizeless.ok, sizeless.output).toBe(true);
      expect(nothing.ok, nothing.output).toBe(true);
    });

    it('waits for 15 minutes of data when the series start mid-way (a fresh deployment)', async () => {
      // Act: the series start at minute 20 (a fresh deployment); only 15 minutes later is the queue known to be stuck.
      const start = (value: number) => minutes(41, (minute) => (minute < 20 ? undefined : value));
      const result = await promtool('queue_deep_no_capacity_change', {
        series: [
          { series: depth(SAMPLE.series), values: start(T + 3) },
          { series: size(SAMPLE.fleet), values: start(3) },
        ],
        expect: { 21: [], 30: [], 34: [], 35: [deep] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });
  });

  describe('rotation failed', () => {
    const outcome = (type: string, environment: string) => series(type, { environment });
    const failed = { environment: SAMPLE.environment, monitored_resource: 'global', project_id: 'my-project' };

    it('fires on a failed rotation, for 15 minutes', async () => {
      // Act: one rotation, failed, written at minute 10.
      const result = await promtool('rotation_failed', {
        series: [
          {
            series: outcome(ROTATION_FAILED_METRIC_TYPE, SAMPLE.environment),
            values: minutes(11, (m) => (m === 10 ? 1 : undefined)),
          },
          {
            series: outcome(ROTATION_SUCCEEDED_METRIC_TYPE, SAMPLE.environment),
            values: minutes(11, (m) => (m === 10 ? 0 : undefined)),
          },
        ],
        expect: { 9: [], 10: [failed], 25: [failed], 26: [] },
      });

      // Assess
      expect(result.ok, result.output).toBe(true);
    });

    it('stays quiet on successful rotations, on another environment’s failures, and without rotations', async () => {
      // Act
      const succeeded = await promtool('rotation_failed', {
        series: [
          {
            series: outcome(ROTATION_FAILED_METRIC_TYPE, SAMPLE.environment),
            values: minutes(21, (m) => (m % 10 === 0 ? 0 : undefined)),
          },
          {
            series: outcome(ROTATION_SUCCEEDED_METRIC_TYPE, SAMPLE.environment),
            values: minutes(21, (m) => (m % 10 === 0 ? 1 : undefined)),
          },
          { series: outcome(ROTATION_FAILED_METRIC_TYPE, 'staging'), values: minutes(21, () => 1) },
        ],
        expect: { 10: [], 20: [] },
      });
      const none = await promtool('rotation_failed', { series: [], expect: { 10: [] } });

      // Assess
      expect(succeeded.ok, succeeded.output).toBe(true);
      expect(none.ok, none.output).toBe(true);
    });
  });

  it('reads every query from monitoring.tf with each interpolation filled in', () => {
    // Assess: what promtool ran is the .tf text; a leftover `${` would have thrown when the rules were read.
    for (const policy of POLICIES) {
      expect(rules[policy].length, policy).toBeGreaterThan(0);
      for (const rule of rules[policy]) {
        expect(rule.expr, policy).toContain(`environment="${SAMPLE.environment}"`);
        expect(rule.for, policy).toBe('0s');
        expect(rule.interval, policy).toBe('60s');
      }
    }
    const [capacity] = rules.queue_deep_no_capacity_change;
    expect(capacity?.expr).toContain(`[15m]) >= ${SAMPLE.threshold}\n`);
    expect(capacity?.expr).toContain(`fleet="${SAMPLE.fleet}"`);
  });
});
