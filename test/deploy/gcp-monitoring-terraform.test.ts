/**
 * infra/gcp's dashboard and alert policies (monitoring.tf), checked on the configuration text as the other
 * gcp-*-terraform tests check theirs: the dashboard rendered from its template as `templatefile` would and read as
 * JSON, every metric type and label it and the policies use being one shared/gcp writes, and the policies' gates.
 * Where terraform is on PATH, `terraform console` also evaluates the capacity policies' locals on sample documents
 * and compares them with the domain's allocation rules. What the PromQL expressions mean is proven by promtool in
 * test/integration/gcp-alert-rules.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type MonitoringEmulator, startMonitoringEmulator } from '../../local/gcp/monitoring.ts';
import { matches, parseFilter } from '../../local/gcp/monitoring-filter.ts';
import { type FleetplaneConfig, parseConfigText } from '../../shared/config/index.ts';
import { type Fleet, managedFleets } from '../../shared/domain/fleet.ts';
import { isRecord, isString } from '../../shared/domain/guards.ts';
import {
  type Allocations,
  allocatedSize,
  deepQueueThreshold,
  seriesAllocation,
} from '../../shared/domain/queue-metric.ts';
import { QUEUE_NAMES, type QueueName, seriesNameOf } from '../../shared/domain/queues.ts';
import * as cycleMetrics from '../../shared/gcp/monitoring-cycle-metrics.ts';
import * as healthMetrics from '../../shared/gcp/monitoring-health-metrics.ts';
import * as rotationMetrics from '../../shared/gcp/monitoring-rotation-metrics.ts';
import { attribute, type Block, child, children, finder, INFRA, iamGrants, readInfra } from './hcl-blocks.ts';

const {
  CYCLE_DURATION_METRIC_TYPE,
  CYCLE_FAILED_METRIC_TYPE,
  CYCLE_SUCCEEDED_METRIC_TYPE,
  ERRORS_METRIC_TYPE,
  FLEET_CURRENT_SIZE_METRIC_TYPE,
  FLEET_DESIRED_SIZE_METRIC_TYPE,
  QUEUE_DEPTH_METRIC_TYPE,
  SCALE_DECISIONS_METRIC_TYPE,
  SOURCEGRAPH_LATENCY_METRIC_TYPE,
} = cycleMetrics;
const {
  FLEET_INSTANCES_METRIC_TYPE,
  HEALTH_HELD_METRIC_TYPE,
  HEALTH_REPLACEMENTS_METRIC_TYPE,
  UNEXPLAINED_EXECUTORS_METRIC_TYPE,
} = healthMetrics;
const { ROTATION_DURATION_METRIC_TYPE, ROTATION_FAILED_METRIC_TYPE, ROTATION_SUCCEEDED_METRIC_TYPE } = rotationMetrics;

/** A module's metric types, found by the naming convention so a new one is covered too. */
const typesOf = (module: Readonly<Record<string, unknown>>) =>
  Object.entries(module).flatMap(([name, value]) => (name.endsWith('_METRIC_TYPE') && isString(value) ? [value] : []));
/** Every metric type shared/gcp exports. */
const METRIC_TYPES = [...typesOf(cycleMetrics), ...typesOf(healthMetrics), ...typesOf(rotationMetrics)];

/** The metric labels each type is written with, as the constants' documentation states them and the adapters write. */
const WRITTEN_LABELS: Readonly<Record<string, readonly string[]>> = {
  [CYCLE_SUCCEEDED_METRIC_TYPE]: ['environment'],
  [CYCLE_FAILED_METRIC_TYPE]: ['environment'],
  [CYCLE_DURATION_METRIC_TYPE]: ['environment'],
  [SOURCEGRAPH_LATENCY_METRIC_TYPE]: ['environment'],
  [QUEUE_DEPTH_METRIC_TYPE]: ['environment', 'series'],
  [FLEET_CURRENT_SIZE_METRIC_TYPE]: ['environment', 'fleet'],
  [FLEET_DESIRED_SIZE_METRIC_TYPE]: ['environment', 'fleet'],
  [SCALE_DECISIONS_METRIC_TYPE]: ['environment', 'fleet', 'reason'],
  [ERRORS_METRIC_TYPE]: ['environment', 'source'],
  [FLEET_INSTANCES_METRIC_TYPE]: ['environment', 'fleet', 'health'],
  [UNEXPLAINED_EXECUTORS_METRIC_TYPE]: ['environment'],
  [HEALTH_REPLACEMENTS_METRIC_TYPE]: ['environment', 'fleet', 'outcome'],
  [HEALTH_HELD_METRIC_TYPE]: ['environment', 'fleet'],
  [ROTATION_SUCCEEDED_METRIC_TYPE]: ['environment'],
  [ROTATION_FAILED_METRIC_TYPE]: ['environment'],
  [ROTATION_DURATION_METRIC_TYPE]: ['environment'],
};

/** Cloud Monitoring's PromQL name for a metric type: the first "/" becomes ":", every other special character "_". */
const promqlName = (type: string) => type.replace('/', ':').replace(/[^\w:]/g, '_');

const ENVIRONMENT = 'prod';
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

let blocks: Block[];
let top: ReturnType<typeof finder>;
const resource = (type: string, name: string) => top('resource', type, name);
const localIn = (file: string, name: string) => {
  const locals = blocks.find((block) => block.file === file && block.type === 'locals');
  return attribute(locals?.body ?? '', name);
};
const gateOf = (block: Block) => attribute(block.body, 'count') ?? attribute(block.body, 'for_each');
const POLICIES = ['no_successful_cycle', 'queue_deep_no_capacity_change', 'rotation_failed'] as const;
const policy = (name: (typeof POLICIES)[number]) => resource('google_monitoring_alert_policy', name);
const promql = (name: (typeof POLICIES)[number]) =>
  child(child(policy(name), 'conditions'), 'condition_prometheus_query_language');

/** `templatefile` as far as the template uses it: `${name}` from `vars`, `$${` a literal `${`, no directives. */
function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\$\$\{|%%\{|%\{|\$\{([^}]*)\}/g, (match, name: string | undefined) => {
    if (match === '$${' || match === '%%{') {
      return match.slice(1);
    }
    const value = name === undefined ? undefined : vars[name.trim()];
    if (value === undefined) {
      throw new Error(`the template uses ${match}, which templatefile is not given`);
    }
    return value;
  });
}

interface ChartedSet {
  readonly chart: string;
  readonly filter: string;
  readonly groupByFields: readonly string[];
  readonly aggregation: Record<string, unknown>;
  readonly legendTemplate?: string;
}

/** Every xyChart data set of the dashboard, with its tile's place. */
function chartedSets(dashboard: unknown): { sets: ChartedSet[]; tiles: Record<string, unknown>[] } {
  const layout = isRecord(dashboard) ? dashboard.mosaicLayout : undefined;
  const tiles = isRecord(layout) && Array.isArray(layout.tiles) ? layout.tiles.filter(isRecord) : [];
  const sets = tiles.flatMap((tile) => {
    const widget = isRecord(tile.widget) ? tile.widget : {};
    const chart = isString(widget.title) ? widget.title : '';
    const dataSets = isRecord(widget.xyChart) && Array.isArray(widget.xyChart.dataSets) ? widget.xyChart.dataSets : [];
    return dataSets.filter(isRecord).map((set): ChartedSet => {
      const query = isRecord(set.timeSeriesQuery) ? set.timeSeriesQuery.timeSeriesFilter : undefined;
      const filter = isRecord(query) && isString(query.filter) ? query.filter : '';
      const aggregation = isRecord(query) && isRecord(query.aggregation) ? query.aggregation : {};
      const groupBy = Array.isArray(aggregation.groupByFields) ? aggregation.groupByFields.filter(isString) : [];
      return {
        chart,
        filter,
        groupByFields: groupBy,
        aggregation,
        ...(isString(set.legendTemplate) ? { legendTemplate: set.legendTemplate } : {}),
      };
    });
  });
  return { sets, tiles };
}

/** The metric type and the metric labels a data set names (filter, grouping, legend). */
function usedBy(set: ChartedSet): { type: string; labels: string[] } {
  const terms = parseFilter(set.filter);
  if (typeof terms === 'string') {
    throw new Error(`${set.chart}: ${terms}`);
  }
  const labelOf = (field: string) => /^metric\.labels?\.(\w+)$/.exec(field)?.[1] ?? `not a metric label: ${field}`;
  const legendLabels = [...(set.legendTemplate ?? '').matchAll(/\$\{([^}]*)\}/g)].map((match) =>
    labelOf(match[1] ?? ''),
  );
  return {
    type: terms.find((term) => term.selector === 'metric.type')?.value ?? '',
    labels: [
      ...terms.filter((term) => term.selector.startsWith('metric.label')).map((term) => labelOf(term.selector)),
      ...set.groupByFields.map(labelOf),
      ...legendLabels,
    ],
  };
}

let template: string;
let monitoring: MonitoringEmulator;
let client: MetricServiceClient;

beforeAll(async () => {
  // Prepare: every .tf file, the dashboard template, and a Monitoring emulator for the cycle adapter's writes.
  ({ blocks } = await readInfra());
  top = finder(blocks);
  template = await readFile(join(INFRA, 'dashboard.json.tftpl'), 'utf8');
  monitoring = await startMonitoringEmulator({ clock: () => T0 + 2_000 });
  client = new MetricServiceClient(gcpClientOptions(monitoring.emulator));
});
afterAll(async () => {
  await client.close();
  await monitoring.emulator.close();
});

describe('infra/gcp dashboard', () => {
  const rendered = (): unknown => JSON.parse(renderTemplate(template, { environment: ENVIRONMENT }));

  it('is rendered by templatefile from dashboard.json.tftpl with the config document’s environment', () => {
    // Act
    const dashboard = resource('google_monitoring_dashboard', 'fleetplane');
    const call = /dashboard_json = templatefile\("\$\{path\.module\}\/([^"]+)", \{([\s\S]*?)\}\)/.exec(dashboard.body);
    const vars = Object.fromEntries(
      [...(call?.[2] ?? '').matchAll(/^\s*(\w+)\s*=\s*(.+?)\s*$/gm)].map((match) => [match[1], match[2]]),
    );

    // Assess: the environment is the one the functions label their series with.
    expect(call?.[1]).toBe('dashboard.json.tftpl');
    expect(vars).toEqual({ environment: 'local.monitoring_environment' });
    expect(localIn('monitoring.tf', 'monitoring_environment')).toBe('try(local.config.environment, "dev")');
    expect(gateOf(dashboard)).toBe('var.enable_dashboard ? 1 : 0');
    expect(attribute(dashboard.body, 'project')).toBe('local.metrics_project');
    expect(attribute(top('variable', 'enable_dashboard').body, 'default')).toBe('true');
    expect(renderTemplate(template, { environment: ENVIRONMENT })).not.toMatch(/\$\{environment\}|%\{/);
  });

  it('lays its charts out on a 12-column mosaic without overlaps', () => {
    // Act
    const { tiles } = chartedSets(rendered());
    const cells = tiles.flatMap((tile) => {
      // An absent position is 0, as the API reads it.
      const at = (key: string) => Number(tile[key] ?? 0);
      const width = at('width');
      return Array.from({ length: width * at('height') }, (_, index) => {
        const column = at('xPos') + (index % width);
        return { column, cell: `${column},${at('yPos') + Math.floor(index / width)}` };
      });
    });

    // Assess: the dashboard API takes 1 to 12 columns in its older documentation (48 in newer); 12 suits both.
    expect(rendered()).toMatchObject({ mosaicLayout: { columns: 12 } });
    expect(tiles.length).toBe(13);
    expect(Math.max(...cells.map((cell) => cell.column))).toBeLessThan(12);
    expect(new Set(cells.map((cell) => cell.cell)).size).toBe(cells.length);
  });

  it('charts the issue’s views, each a metric shared/gcp writes, on global, in this environment only', () => {
    // Act
    const { sets } = chartedSets(rendered());
    const used = sets.map((set) => ({ set, ...usedBy(set) }));
    const grouped = (type: string) => used.filter((use) => use.type === type).map((use) => use.set.groupByFields);

    // Assess: the filter pins the environment and the resource; nothing names a label the series lack.
    expect(sets.length).toBeGreaterThanOrEqual(10);
    for (const { set, type, labels } of used) {
      expect(METRIC_TYPES, set.chart).toContain(type);
      expect(set.filter, set.chart).toContain('resource.type="global"');
      expect(set.filter, set.chart).toContain(`metric.label.environment="${ENVIRONMENT}"`);
      expect(WRITTEN_LABELS[type], set.chart).toEqual(expect.arrayContaining(labels));
    }
    expect(new Set(used.map((use) => use.type))).toEqual(
      new Set([
        CYCLE_SUCCEEDED_METRIC_TYPE,
        CYCLE_FAILED_METRIC_TYPE,
        CYCLE_DURATION_METRIC_TYPE,
        SOURCEGRAPH_LATENCY_METRIC_TYPE,
        QUEUE_DEPTH_METRIC_TYPE,
        FLEET_CURRENT_SIZE_METRIC_TYPE,
        FLEET_DESIRED_SIZE_METRIC_TYPE,
        SCALE_DECISIONS_METRIC_TYPE,
        ERRORS_METRIC_TYPE,
        ROTATION_SUCCEEDED_METRIC_TYPE,
        ROTATION_FAILED_METRIC_TYPE,
        ROTATION_DURATION_METRIC_TYPE,
        FLEET_INSTANCES_METRIC_TYPE,
        HEALTH_REPLACEMENTS_METRIC_TYPE,
        HEALTH_HELD_METRIC_TYPE,
        UNEXPLAINED_EXECUTORS_METRIC_TYPE,
      ]),
    );
    expect(grouped(QUEUE_DEPTH_METRIC_TYPE)).toEqual([['metric.label.series']]);
    expect(grouped(FLEET_CURRENT_SIZE_METRIC_TYPE)).toEqual([['metric.label.fleet']]);
    expect(grouped(FLEET_DESIRED_SIZE_METRIC_TYPE)).toEqual([['metric.label.fleet']]);
    expect(grouped(SCALE_DECISIONS_METRIC_TYPE)).toEqual([['metric.label.fleet', 'metric.label.reason']]);
    expect(grouped(ERRORS_METRIC_TYPE)).toEqual([['metric.label.source']]);
    expect(grouped(FLEET_INSTANCES_METRIC_TYPE)).toEqual([['metric.label.fleet', 'metric.label.health']]);
    expect(grouped(HEALTH_REPLACEMENTS_METRIC_TYPE)).toEqual([['metric.label.fleet', 'metric.label.outcome']]);
    expect(grouped(HEALTH_HELD_METRIC_TYPE)).toEqual([['metric.label.fleet']]);
  });

  it('aligns every data set as the API requires: a reducer only after an aligner, periods of a minute or more', () => {
    // Act
    const { sets } = chartedSets(rendered());
    const seconds = (value: unknown) => (isString(value) ? Number(/^(\d+)s$/.exec(value)?.[1] ?? Number.NaN) : 0);

    // Assess: the health checks run every 5 minutes, so their charts align to 5 minutes and show no gaps; rotations
    // are rarer still.
    for (const { chart, aggregation, filter } of sets) {
      expect(aggregation.perSeriesAligner, chart).toMatch(/^ALIGN_(SUM|MEAN|MAX)$/);
      expect(aggregation.crossSeriesReducer, chart).toMatch(/^REDUCE_(SUM|MEAN|MAX)$/);
      expect(seconds(aggregation.alignmentPeriod), chart).toBeGreaterThanOrEqual(
        /fleet_instances|health_|unexplained_executors|rotation_/.test(filter) ? 300 : 60,
      );
    }
  });

  it('selects the series the cycle, health and rotation adapters write, by each chart’s own filter', async () => {
    // Prepare: one cycle, one health check and one rotation with every value, as the functions publish them.
    const projectId = 'fleetplane-dashboard';
    await cycleMetrics.createCloudMonitoringCycleMetrics(client, { projectId }).publish({
      environment: ENVIRONMENT,
      at: T0,
      succeeded: true,
      durationMs: 812.5,
      sourcegraphLatencyMs: 140,
      queueDepths: [{ series: 'codeintel', depth: 9 }],
      fleets: [{ fleet: 'codeintel', reason: 'scale-out', current: 2, desired: 4 }],
      errors: { sourcegraph: 0, cloud: 0, metrics: 0 },
    });
    await healthMetrics.createCloudMonitoringHealthMetrics(client, { projectId }).publish({
      environment: ENVIRONMENT,
      at: T0,
      fleets: [
        {
          fleet: 'codeintel',
          counts: { booting: 0, healthy: 2, orphan: 0, stale: 1, outdated: 0 },
          replacements: { replaced: 1, 'would-replace': 0, refused: 0 },
          held: false,
        },
      ],
      unexplainedExecutors: 1,
    });
    await rotationMetrics
      .createCloudMonitoringRotationMetrics(client, { projectId })
      .publish({ environment: ENVIRONMENT, at: T0, succeeded: true, durationMs: 41_000 });
    const written = monitoring.series().filter((series) => series.project === projectId);

    // Act
    const sets = chartedSets(rendered()).sets;
    const selected = sets.map((set) => {
      const terms = parseFilter(set.filter);
      return typeof terms === 'string' ? [] : written.filter((series) => matches(series, terms));
    });

    // Assess: each chart finds its series, every metric type is written, and the label table is what they carry.
    expect(new Set(written.map((series) => series.metric.type))).toEqual(new Set(METRIC_TYPES));
    selected.forEach((series, index) => {
      expect(series.length, sets[index]?.chart).toBeGreaterThan(0);
    });
    for (const series of written) {
      expect(Object.keys(series.metric.labels).sort(), series.metric.type).toEqual(
        [...(WRITTEN_LABELS[series.metric.type] ?? [])].sort(),
      );
    }
  });

  it('refuses an environment that would need escaping in filters and PromQL', () => {
    // Prepare: the regex as Terraform reads the HCL string.
    const condition = localIn('monitoring.tf', 'monitoring_environment_ok') ?? '';
    const literal = /regex\("((?:[^"\\]|\\.)*)", local\.monitoring_environment\)/.exec(condition)?.[1] ?? '$^';
    const accepts = new RegExp(literal.replace(/\\(["\\])/g, '$1'));

    // Assess
    expect(['prod', 'staging-eu', 'team a/prod', 'préprod'].filter((name) => accepts.test(name))).toHaveLength(4);
    expect(['pr"od', 'pr\\od', 'pr\nod', ''].filter((name) => accepts.test(name))).toEqual([]);
    const guarded = [resource('google_monitoring_dashboard', 'fleetplane'), ...POLICIES.map(policy)];
    for (const block of guarded) {
      const precondition = child(child(block, 'lifecycle'), 'precondition');
      expect(attribute(precondition.body, 'condition'), block.labels[1]).toBe('local.monitoring_environment_ok');
    }
  });
});

describe('infra/gcp alert policies', () => {
  it('creates one PromQL condition per policy in the metrics project, notifying var.notification_channels', () => {
    for (const name of POLICIES) {
      // Act
      const block = policy(name);
      const condition = promql(name);

      // Assess: a PromQL policy takes exactly one condition.
      expect(children(block, 'conditions'), name).toHaveLength(1);
      expect(attribute(block.body, 'project'), name).toBe('local.metrics_project');
      expect(attribute(block.body, 'combiner'), name).toBe('"OR"');
      expect(attribute(block.body, 'notification_channels'), name).toBe('var.notification_channels');
      expect(attribute(condition.body, 'duration'), name).toBe('"0s"');
      expect(attribute(condition.body, 'evaluation_interval'), name).toBe('local.alert_evaluation_interval');
      expect(attribute(condition.body, 'disable_metric_validation'), name).toBe('true');
    }
    expect(localIn('monitoring.tf', 'alert_evaluation_interval')).toBe('"60s"');
  });

  it('gates the cycle policy on enable_alert_policies, one capacity policy per fleet, rotation like rotate.tf', () => {
    // Act
    const gates = Object.fromEntries(POLICIES.map((name) => [name, gateOf(policy(name))]));

    // Assess: rotation_enabled is rotate.tf's gate, the config's executorSecret.gcpSecretManager.
    expect(gates).toEqual({
      no_successful_cycle: 'var.enable_alert_policies ? 1 : 0',
      queue_deep_no_capacity_change: 'var.enable_alert_policies ? local.capacity_alert_fleets : {}',
      rotation_failed: 'var.enable_alert_policies && local.rotation_enabled ? 1 : 0',
    });
    expect(localIn('rotate.tf', 'rotation_enabled')).toBe('local.executor_secret_name != null');
    expect(localIn('rotate.tf', 'executor_secret_name')).toBe(
      'try(local.config.executorSecret.gcpSecretManager, null)',
    );
    expect(attribute(top('variable', 'enable_alert_policies').body, 'default')).toBe('true');
  });

  it('derives each capacity candidate from a GCP shadow or direct fleet: its series, jobsPerInstance and share', () => {
    // Prepare: a document with a fleet of every kind; Terraform reads it with yamldecode, the function with the parser.
    const document = [
      'environment: prod',
      'sourcegraph: { endpoint: https://sourcegraph.example.com }',
      'metrics: { cloudMonitoring: { projectId: my-project } }',
      'fleets:',
      '  - { name: code, queues: [codeintel], mode: direct, jobsPerInstance: 2, maxInstances: 5, scaleIn: { mode: resize },',
      '      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: code } }',
      '  - { name: both, queues: [codeintel, batches], mode: shadow, jobsPerInstance: 4, maxInstances: 5,',
      '      target: { cloud: gcp, project: my-project, region: us-central1, instanceGroupManager: both } }',
      '  - { name: watched, queues: [batches], mode: metrics, jobsPerInstance: 1, maxInstances: 5,',
      '      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: watched } }',
      '  - { name: elsewhere, queues: [batches], mode: direct, jobsPerInstance: 1, maxInstances: 5,',
      '      target: { cloud: aws, region: us-east-1, autoScalingGroup: elsewhere } }',
    ].join('\n');
    const locals = blocks.find((block) => block.file === 'monitoring.tf' && block.type === 'locals')?.body ?? '';
    const expression = /capacity_alert_candidates = \{([\s\S]*?)\n {2}\}/.exec(locals)?.[1] ?? '';
    const policies = /capacity_alert_fleets = \{([\s\S]*?)\n {2}\}/.exec(locals)?.[1] ?? '';
    const raw: unknown = parse(document);
    const fleets = isRecord(raw) && Array.isArray(raw.fleets) ? raw.fleets.filter(isRecord) : [];

    // Act: the for-expression read as Terraform evaluates it (gcp_fleets is main.tf's filter on target.cloud).
    const derived = Object.fromEntries(
      fleets
        .filter((fleet) => isRecord(fleet.target) && fleet.target.cloud === 'gcp')
        .filter((fleet) => ['shadow', 'direct'].includes(String(fleet.mode)))
        .map((fleet) => {
          const queues = Array.isArray(fleet.queues) ? fleet.queues.map(String) : [];
          const series = [...new Set(queues)].sort().join('_');
          return [String(fleet.name), { series, jobs_per_instance: fleet.jobsPerInstance }];
        }),
    );
    const parsed = parseConfigText(document, 'test', { SRC_ACCESS_TOKEN: 'fake-token-for-tests' });

    // Assess: the text is that expression, and it names the series the function publishes each fleet's depth under.
    expect(expression).toContain('for fleet in local.gcp_fleets : fleet.name => {');
    expect(expression).toMatch(/series\s+= join\("_", sort\(distinct\(fleet\.queues\)\)\)/);
    expect(expression).toMatch(/jobs_per_instance = fleet\.jobsPerInstance/);
    // The series' share (seriesAllocation): codeintel's for a multi-queue series, as a float64.
    expect(expression).toContain(
      'share = pow(local.gcp_queue_shares[length(distinct(fleet.queues)) > 1 ? "codeintel" : fleet.queues[0]], 1)',
    );
    expect(expression).toContain('} if contains(["shadow", "direct"], try(fleet.mode, ""))');
    expect(policies).toContain('for name, fleet in local.capacity_alert_candidates : name => {');
    expect(policies).toContain('} if fleet.share > 0');
    expect(locals).toContain(`for queue in ${JSON.stringify([...QUEUE_NAMES].sort()).replace(',', ', ')} : queue`);
    expect(localIn('main.tf', 'gcp_fleets')).toBe(
      '[for fleet in try(local.config.fleets, []) : fleet if try(fleet.target.cloud, "") == "gcp"]',
    );
    expect(derived).toEqual({
      code: { series: 'codeintel', jobs_per_instance: 2 },
      both: { series: 'batches_codeintel', jobs_per_instance: 4 },
    });
    for (const [name, { series }] of Object.entries(derived)) {
      expect(parsed.fleets.find((fleet) => fleet.name === name)?.series).toBe(series);
    }
    // distinct and sort as Terraform applies them (lexical order), on the queue lists the parser accepts and more.
    const combinations: QueueName[][] = [[...QUEUE_NAMES], [...QUEUE_NAMES].reverse(), ['codeintel', 'codeintel']];
    for (const queues of combinations) {
      expect([...new Set(queues)].sort().join('_')).toBe(seriesNameOf(queues));
    }
  });

  it('queries only PromQL names of metrics shared/gcp writes, on global, in this environment, by written labels', () => {
    for (const name of POLICIES) {
      // Act
      const query = /query\s+= <<-EOT\n([\s\S]*?)\n\s*EOT/.exec(promql(name).body)?.[1] ?? '';
      const selectors = [...query.matchAll(/(custom_googleapis_com:\w+)\{((?:\$\{[^}]*\}|[^{}])*)\}/g)].map(
        (match) => ({
          type: METRIC_TYPES.find((type) => promqlName(type) === match[1]),
          matchers: Object.fromEntries(
            [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((matcher) => [matcher[1], matcher[2]]),
          ),
        }),
      );

      // Assess
      expect(selectors.length, name).toBeGreaterThan(0);
      expect(query.match(/custom_googleapis_com:\w+/g)?.length, name).toBe(selectors.length);
      for (const { type, matchers } of selectors) {
        expect(type, name).toBeDefined();
        expect(matchers, name).toMatchObject({
          monitored_resource: 'global',
          environment: `\${local.monitoring_environment}`,
        });
        const { monitored_resource: _, ...labels } = matchers;
        expect(WRITTEN_LABELS[type ?? ''], name).toEqual(expect.arrayContaining(Object.keys(labels)));
      }
    }
    expect(promqlName(QUEUE_DEPTH_METRIC_TYPE)).toBe('custom_googleapis_com:fleetplane_queue_depth');
  });

  it('takes notification channels by name, none by default', () => {
    // Prepare: the validation's regex, as Terraform reads the HCL string.
    const variable = top('variable', 'notification_channels');
    const condition = attribute(child(variable, 'validation').body, 'condition') ?? '';
    const accepts = new RegExp(/regex\("((?:[^"\\]|\\.)*)", name\)/.exec(condition)?.[1] ?? '$^');

    // Assess
    expect(attribute(variable.body, 'type')).toBe('list(string)');
    expect(attribute(variable.body, 'default')).toBe('[]');
    expect(accepts.test('projects/my-project/notificationChannels/1234567890')).toBe(true);
    expect(
      ['1234567890', 'projects/my-project/channels/1', 'projects//notificationChannels/1'].filter((value) =>
        accepts.test(value),
      ),
    ).toEqual([]);
  });

  it('lets the rotate functions write the rotation outcomes: timeSeries.create in the metrics project, with rotation', () => {
    // Act
    const role = resource('google_project_iam_custom_role', 'rotate_metrics');
    const grant = resource('google_project_iam_member', 'rotate_metrics');
    const granted = iamGrants(blocks).filter((block) => attribute(block.body, 'role')?.includes('rotate_metrics'));

    // Assess: a custom role as for the scale and health functions, not roles/monitoring.metricWriter.
    expect(role.file).toBe('rotate.tf');
    expect([...role.body.matchAll(/"(monitoring\.[\w.]+)"/g)].map((match) => match[1])).toEqual([
      'monitoring.timeSeries.create',
    ]);
    expect(attribute(role.body, 'project')).toBe('local.metrics_project');
    expect(gateOf(role)).toBe('local.rotation_enabled ? 1 : 0');
    expect(gateOf(grant)).toBe('local.rotation_enabled ? 1 : 0');
    expect(attribute(grant.body, 'project')).toBe('local.metrics_project');
    expect(attribute(grant.body, 'member')).toBe('local.rotate_member');
    expect(granted.map((block) => block.labels.join('.'))).toEqual(['google_project_iam_member.rotate_metrics']);
  });

  it('outputs the dashboard and the policies', () => {
    // Act
    const value = (name: string) => top('output', name).body;

    // Assess
    expect(attribute(value('monitoring_dashboard'), 'value')).toBe('one(google_monitoring_dashboard.fleetplane[*].id)');
    for (const name of POLICIES) {
      expect(value('alert_policies')).toContain(`google_monitoring_alert_policy.${name}`);
    }
  });
});

/**
 * Terraform itself, where it is on PATH: CI cannot install it (neither npm nor Debian ships it), so there these cases
 * are skipped and the text checks above stand alone. No phone-home: the checkpoint call would leave the machine.
 */
const TERRAFORM_ENV = { CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
const terraformInstalled =
  spawnSync('terraform', ['version'], { stdio: 'ignore', env: { ...process.env, ...TERRAFORM_ENV } }).status === 0;
/** One console run takes well under a second; a loaded runner many times that. */
const TERRAFORM_TIMEOUT_MS = 30_000;

const GCP_GROUP = (name: string) =>
  `target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: ${name} }`;
/** A fleet of every kind the policies must tell apart, the same in every case. */
const THRESHOLD_FLEETS = [
  `{ name: code, queues: [codeintel], mode: direct, jobsPerInstance: 3, maxInstances: 50, scaleIn: { mode: resize }, ${GCP_GROUP('code')} }`,
  `{ name: batch, queues: [batches], mode: shadow, jobsPerInstance: 2, maxInstances: 50, ${GCP_GROUP('batch')} }`,
  `{ name: both, queues: [codeintel, batches], mode: direct, jobsPerInstance: 29, maxInstances: 50, scaleIn: { mode: resize }, ${GCP_GROUP('both')} }`,
  `{ name: watched, queues: [batches], mode: metrics, jobsPerInstance: 1, maxInstances: 5, ${GCP_GROUP('watched')} }`,
  '{ name: elsewhere, queues: [codeintel], mode: direct, jobsPerInstance: 1, maxInstances: 5, target: { cloud: aws, region: us-east-1, autoScalingGroup: elsewhere } }',
];

interface ThresholdCase {
  readonly name: string;
  readonly metrics: string;
  readonly allocations?: string;
  /** Fleet → the queue_depth its policy fires at; a fleet left out gets no policy. */
  readonly thresholds: Readonly<Record<string, number>>;
}

const THRESHOLD_CASES: readonly ThresholdCase[] = [
  {
    name: 'no allocations, Cloud Monitoring only: all of every queue, so jobsPerInstance',
    metrics: '{ cloudMonitoring: { projectId: my-project } }',
    thresholds: { code: 3, batch: 2, both: 29 },
  },
  {
    name: 'no allocations, both clouds: still all of every queue for GCP',
    metrics: '{ cloudwatch: { region: us-east-1 }, cloudMonitoring: { projectId: my-project } }',
    thresholds: { code: 3, batch: 2, both: 29 },
  },
  {
    // The sample test/integration/gcp-alert-rules.test.ts runs under promtool.
    name: 'codeintel half and half, batches all to AWS: twice jobsPerInstance, and no policy on batches',
    metrics: '{ cloudwatch: { region: us-east-1 }, cloudMonitoring: { projectId: my-project } }',
    allocations: '{ codeintel: { aws: 0.5, gcp: 0.5 }, batches: { aws: 1 } }',
    thresholds: { code: 6, both: 58 },
  },
  {
    name: 'an empty entry is all of the queue, one naming only aws none of it',
    metrics: '{ cloudwatch: { region: us-east-1 }, cloudMonitoring: { projectId: my-project } }',
    allocations: '{ codeintel: {}, batches: { aws: 0.7 } }',
    thresholds: { code: 3, both: 29 },
  },
  {
    // 10 * 0.29 = 2.9 and 100 * 0.29 = 28.999999999999996 in float64: both truncate to one job short.
    name: 'a multi-queue series takes the codeintel share, truncated in float64',
    metrics: '{ cloudMonitoring: { projectId: my-project } }',
    allocations: '{ codeintel: { gcp: 0.29 }, batches: { gcp: 1 } }',
    thresholds: { code: 11, batch: 2, both: 101 },
  },
  {
    // 10 * 0.3 is 2.9999999999999998889776975 with the double nearest 0.3, and rounds to 3 as a float64 product.
    name: 'each product is rounded to a float64 before it is truncated',
    metrics: '{ cloudMonitoring: { projectId: my-project } }',
    allocations: '{ codeintel: { gcp: 0.3 } }',
    thresholds: { code: 10, batch: 2, both: 97 },
  },
  {
    name: 'nothing published to Cloud Monitoring: GCP takes no share, so no policy',
    metrics: '{ cloudwatch: { region: us-east-1 } }',
    allocations: '{ codeintel: { gcp: 1 } }',
    thresholds: {},
  },
];

function thresholdDocument({ metrics, allocations }: ThresholdCase): string {
  return [
    'environment: prod',
    'sourcegraph: { endpoint: https://sourcegraph.example.com }',
    `metrics: ${metrics}`,
    ...(allocations === undefined ? [] : [`allocations: ${allocations}`]),
    'fleets:',
    ...THRESHOLD_FLEETS.map((fleet) => `  - ${fleet}`),
  ].join('\n');
}

/** The smallest queue_depth whose GCP share reaches jobsPerInstance, by the domain's rules, counted up from 0. */
function gcpThreshold(fleet: Fleet, allocations: Allocations): number | undefined {
  const share = seriesAllocation(fleet.series, allocations, 'gcp');
  if (share <= 0) {
    return undefined;
  }
  for (let depth = 0; depth <= 10_000; depth += 1) {
    if (allocatedSize(depth, share) >= fleet.jobsPerInstance) {
      return depth;
    }
  }
  throw new Error(`${fleet.name}: no threshold below 10000 jobs`);
}

/** The capacity policies the function's parsed config calls for: a series, jobsPerInstance and threshold per fleet. */
function expectedPolicies(config: FleetplaneConfig) {
  return Object.fromEntries(
    managedFleets(config.fleets, 'gcp').flatMap((fleet) => {
      const threshold = gcpThreshold(fleet, config.allocations);
      // The same rule as the AWS alarm's, on GCP's share.
      expect(deepQueueThreshold(fleet, config.allocations, 'gcp'), fleet.name).toBe(threshold);
      return threshold === undefined
        ? []
        : [[fleet.name, { series: fleet.series, jobs_per_instance: fleet.jobsPerInstance, threshold }]];
    }),
  );
}

describe.runIf(terraformInstalled)('infra/gcp capacity thresholds under terraform console', () => {
  let module: string;

  /** `jsonencode(expression)` evaluated for the document; console prints the JSON as a quoted string. */
  function evaluate(document: string, expression: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const env = { ...process.env, ...TERRAFORM_ENV, TF_VAR_config_document: document };
      const console = execFile(
        'terraform',
        ['console'],
        { cwd: module, env, timeout: TERRAFORM_TIMEOUT_MS },
        (error, stdout, stderr) => {
          if (error) {
            reject(new Error(`terraform console failed: ${stderr}`, { cause: error }));
            return;
          }
          resolve(JSON.parse(JSON.parse(stdout.trim())));
        },
      );
      console.stdin?.end(`jsonencode(${expression})\n`);
    });
  }

  beforeAll(async () => {
    // Prepare: monitoring.tf's locals and main.tf's reading of the document, without the resources (no providers).
    module = await mkdtemp(join(tmpdir(), 'fleetplane-tf-monitoring-'));
    const locals = blocks.find((block) => block.file === 'monitoring.tf' && block.type === 'locals')?.body ?? '';
    await writeFile(join(module, 'monitoring.tf'), `locals {\n${locals}\n}\n`);
    await writeFile(
      join(module, 'config.tf'),
      [
        'variable "config_document" {',
        '  type = string',
        '}',
        'locals {',
        `  config     = ${localIn('main.tf', 'config')}`,
        `  gcp_fleets = ${localIn('main.tf', 'gcp_fleets')}`,
        '}',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(module, { recursive: true, force: true });
  });

  it.each(THRESHOLD_CASES)('fires at the depth whose GCP share reaches jobsPerInstance: $name', async (testCase) => {
    // Prepare
    const document = thresholdDocument(testCase);
    const config = parseConfigText(document, 'test', { SRC_ACCESS_TOKEN: 'fake-token-for-tests' });

    // Act
    const policies = await evaluate(document, 'local.capacity_alert_fleets');

    // Assess: Terraform's policies are the domain's, whose thresholds are the ones stated.
    const expected = expectedPolicies(config);
    expect(policies).toEqual(expected);
    expect(Object.fromEntries(Object.entries(expected).map(([name, { threshold }]) => [name, threshold]))).toEqual(
      testCase.thresholds,
    );
  });
});
