import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import * as z from 'zod';
import {
  CYCLE_ALARM,
  DASHBOARD,
  decisionsSearch,
  type ObservabilityInput,
  observabilityExtras,
  ROTATION_ALARM,
} from '../../deploy/observability.ts';
import { DeployPlanError, planDeploy } from '../../deploy/plan.ts';
import { createEmfCycleMetrics } from '../../shared/aws/emf-cycle-metrics.ts';
import { createEmfHealthMetrics } from '../../shared/aws/emf-health-metrics.ts';
import { createEmfRotationMetrics } from '../../shared/aws/emf-rotation-metrics.ts';
import { parseConfigText } from '../../shared/config/index.ts';
import { managedFleets } from '../../shared/domain/fleet.ts';
import { allocatedSize, deepQueueThreshold } from '../../shared/domain/queue-metric.ts';
import { captureStdout } from '../support/emf.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE: Record<string, unknown> = parse(await readFile(join(REPO_ROOT, 'examples/fleetplane.yml'), 'utf8'));
const REGION = 'us-east-1';

const dimensionsSchema = z.array(z.object({ Name: z.string(), Value: z.string() }));
const metricStatSchema = z.object({
  Metric: z.object({ Namespace: z.string(), MetricName: z.string(), Dimensions: dimensionsSchema }),
  Period: z.number(),
  Stat: z.string(),
});
const querySchema = z.object({
  Id: z.string(),
  MetricStat: metricStatSchema.optional(),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean(),
});
const alarmSchema = z.object({
  Type: z.literal('AWS::CloudWatch::Alarm'),
  Properties: z.object({
    AlarmName: z.unknown(),
    AlarmDescription: z.string().max(1024),
    Metrics: z.array(querySchema).optional(),
    Namespace: z.string().optional(),
    MetricName: z.string().optional(),
    Dimensions: dimensionsSchema.optional(),
    Statistic: z.string().optional(),
    Period: z.number().optional(),
    ComparisonOperator: z.string(),
    Threshold: z.number(),
    EvaluationPeriods: z.number(),
    DatapointsToAlarm: z.number(),
    TreatMissingData: z.string(),
    AlarmActions: z.array(z.string()).optional(),
    OKActions: z.array(z.string()).optional(),
  }),
});
type Alarm = z.infer<typeof alarmSchema>;
const joinPartSchema = z.union([z.string(), z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) })]);
const dashboardSchema = z.object({
  Type: z.literal('AWS::CloudWatch::Dashboard'),
  Properties: z.object({
    DashboardName: z.unknown(),
    DashboardBody: z.object({ 'Fn::Join': z.tuple([z.literal(''), z.array(joinPartSchema)]) }),
  }),
});
const bodySchema = z.object({
  widgets: z.array(
    z.object({
      type: z.enum(['metric', 'alarm']),
      x: z.number(),
      y: z.number(),
      width: z.number(),
      height: z.number(),
      properties: z.record(z.string(), z.unknown()),
    }),
  ),
});
type DashboardWidget = z.infer<typeof bodySchema>['widgets'][number];
const metricLineSchema = z.array(z.union([z.string(), z.record(z.string(), z.unknown())]));

/** Plans a deploy of `document` exactly as `osls package` would, and builds its monitoring. */
function monitoringOf(document: Record<string, unknown>, options: Partial<ObservabilityInput> = {}) {
  const config = { text: JSON.stringify(document), source: 'file:fleetplane.json' };
  const plan = planDeploy({ region: REGION, timeoutSeconds: 60, config, shellEnv: {} });
  return observabilityExtras(plan, { region: REGION, config, shellEnv: {}, ...options }).resources.Resources;
}

const alarmsOf = (resources: Readonly<Record<string, unknown>>): Record<string, Alarm> =>
  Object.fromEntries(
    Object.entries(resources).flatMap(([id, resource]) => {
      const alarm = alarmSchema.safeParse(resource);
      return alarm.success ? [[id, alarm.data]] : [];
    }),
  );

/** The dashboard body, each alarm ARN standing in as `arn:…:alarm:<logical id>`. */
function widgetsOf(resources: Readonly<Record<string, unknown>>): DashboardWidget[] {
  const [, parts] = dashboardSchema.parse(resources[DASHBOARD]).Properties.DashboardBody['Fn::Join'];
  const text = parts
    .map((part) =>
      typeof part === 'string' ? part : `arn:aws:cloudwatch:${REGION}:123456789012:alarm:${part['Fn::GetAtt'][0]}`,
    )
    .join('');
  return bodySchema.parse(JSON.parse(text)).widgets;
}

const key = (namespace: string, metric: string, dimensions: Readonly<Record<string, string>>) =>
  `${namespace} ${metric} ${JSON.stringify(Object.fromEntries(Object.entries(dimensions).sort()))}`;

/** Every metric an alarm reads, by namespace, name and exact dimensions. */
function alarmMetricKeys(alarm: Alarm): string[] {
  const { Metrics, Namespace, MetricName, Dimensions } = alarm.Properties;
  const dims = (list: z.infer<typeof dimensionsSchema>) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
  if (Metrics !== undefined) {
    return Metrics.flatMap(({ MetricStat }) =>
      MetricStat === undefined
        ? []
        : [key(MetricStat.Metric.Namespace, MetricStat.Metric.MetricName, dims(MetricStat.Metric.Dimensions))],
    );
  }
  return [key(Namespace ?? '', MetricName ?? '', dims(Dimensions ?? []))];
}

/** Every metric a dashboard graph names explicitly (SEARCH expressions excluded). */
function widgetMetricKeys(widget: DashboardWidget): string[] {
  const lines = z.array(metricLineSchema).parse(widget.properties.metrics ?? []);
  return lines.flatMap((line) => {
    const [namespace, metric, ...rest] = line;
    if (typeof namespace !== 'string' || typeof metric !== 'string') {
      return [];
    }
    const names = rest.filter((item) => typeof item === 'string');
    const dimensions = Object.fromEntries(
      names.flatMap((name, index) => (index % 2 === 0 ? [[name, String(names[index + 1])]] : [])),
    );
    return [key(namespace, metric, dimensions)];
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('observabilityExtras: alarms', () => {
  it('alarms on a deep queue only for fleets that size an AWS group, at one instance’s worth of jobs', () => {
    // Prepare: direct and shadow AWS fleets, a metrics-only fleet with a group, and a fleet on GCP.
    const [codeintel, batches] = z.array(z.record(z.string(), z.unknown())).parse(EXAMPLE.fleets);
    const document = {
      ...EXAMPLE,
      metrics: {
        ...z.record(z.string(), z.unknown()).parse(EXAMPLE.metrics),
        cloudMonitoring: { projectId: 'my-project' },
      },
      fleets: [
        codeintel,
        batches,
        { ...batches, name: 'published.only', mode: 'metrics', queues: ['codeintel'] },
        {
          ...codeintel,
          name: 'on-gcp',
          queues: ['batches'],
          target: { cloud: 'gcp', project: 'my-project', zone: 'us-central1-a', instanceGroupManager: 'executors' },
        },
      ],
    };

    // Act
    const alarms = alarmsOf(monitoringOf(document));

    // Assess
    expect(Object.keys(alarms).sort()).toEqual([CYCLE_ALARM, 'QueueDeepAlarmbatches', 'QueueDeepAlarmcodeintel']);
    expect(depthThresholdOf(alarms.QueueDeepAlarmcodeintel)).toBe(18);
    expect(depthThresholdOf(alarms.QueueDeepAlarmbatches)).toBe(4);
  });

  it('needs 15 one-minute datapoints, all breaching, none of them from a minute without data', () => {
    // Act
    const alarms = Object.entries(alarmsOf(monitoringOf(EXAMPLE))).filter(([id]) => id.startsWith('QueueDeepAlarm'));

    // Assess
    expect(alarms).toHaveLength(2);
    for (const [, alarm] of alarms) {
      const metrics = alarm.Properties.Metrics ?? [];
      expect(alarm.Properties).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 15,
        DatapointsToAlarm: 15,
        TreatMissingData: 'notBreaching',
      });
      // An alarm watches exactly one expression; every metric it reads shares one period; at most 10 metrics.
      expect(metrics.filter((query) => query.ReturnData).map((query) => query.Id)).toEqual(['stuck']);
      const periods = metrics.flatMap((query) => (query.MetricStat === undefined ? [] : [query.MetricStat.Period]));
      expect(new Set(periods)).toEqual(new Set([60]));
      expect(periods.length).toBeLessThanOrEqual(10);
    }
  });

  it('for a direct fleet, counts a minute only if nothing acted and nothing moved in it', () => {
    // Act
    const alarm = alarmsOf(monitoringOf(EXAMPLE)).QueueDeepAlarmcodeintel;

    // Assess
    const metrics = alarm?.Properties.Metrics ?? [];
    expect(metrics.map((query) => [query.Id, query.MetricStat?.Metric.MetricName, query.MetricStat?.Stat])).toEqual([
      ['queue', 'QueueDepth', 'Minimum'],
      ['sized', 'FleetCurrentSize', 'SampleCount'],
      ['current_max', 'FleetCurrentSize', 'Maximum'],
      ['current_min', 'FleetCurrentSize', 'Minimum'],
      ['desired_max', 'FleetDesiredSize', 'Maximum'],
      ['desired_min', 'FleetDesiredSize', 'Minimum'],
      ['stuck', undefined, undefined],
    ]);
    expect(metrics.at(-1)?.Expression).toBe(
      'IF(queue >= 18 AND sized > 0 AND current_max == current_min AND desired_max == desired_min ' +
        'AND current_max == desired_max, 1, 0)',
    );
    expect(metrics[0]?.MetricStat?.Metric.Dimensions).toEqual([
      { Name: 'environment', Value: 'prod' },
      { Name: 'series', Value: 'codeintel' },
    ]);
    for (const query of metrics.slice(1, -1)) {
      expect(query.MetricStat?.Metric.Dimensions).toEqual([
        { Name: 'environment', Value: 'prod' },
        { Name: 'fleet', Value: 'codeintel' },
      ]);
    }
  });

  it('for a shadow fleet, tests only the size it found, since its desired size is never applied', () => {
    // Act
    const alarm = alarmsOf(monitoringOf(EXAMPLE)).QueueDeepAlarmbatches;

    // Assess
    const metrics = alarm?.Properties.Metrics ?? [];
    expect(metrics.map((query) => query.MetricStat?.Metric.MetricName)).not.toContain('FleetDesiredSize');
    expect(metrics.at(-1)?.Expression).toBe('IF(queue >= 4 AND sized > 0 AND current_max == current_min, 1, 0)');
    expect(alarm?.Properties.AlarmDescription).toContain('shadow mode never resizes');
  });

  it('evaluates a minute to 1 only with a deep queue and no resize or move, never from missing data', () => {
    // Prepare: per-minute statistics of cycles, as CloudWatch aggregates them for the alarm.
    const alarms = alarmsOf(monitoringOf(EXAMPLE));
    const direct = stuckExpressionOf(alarms.QueueDeepAlarmcodeintel);
    const shadow = stuckExpressionOf(alarms.QueueDeepAlarmbatches);
    const held = { queue: 30, sized: 4, current_max: 3, current_min: 3, desired_max: 3, desired_min: 3 };

    // Act + Assess
    expect(evaluateMinute(direct, held)).toBe(1);
    expect(evaluateMinute(shadow, held)).toBe(1);
    // A queue that dipped below one instance's worth during the minute.
    expect(evaluateMinute(direct, { ...held, queue: 17 })).toBe(0);
    // The minute's last cycle resized 3 -> 4; the next cycle, in the next minute, finds 4.
    expect(evaluateMinute(direct, { ...held, desired_max: 4, desired_min: 4 })).toBe(0);
    // A cycle resized and a later one in the same minute found the new size.
    expect(evaluateMinute(direct, { ...held, current_max: 4, desired_max: 4 })).toBe(0);
    // Shadow: what fleetplane would do is not a change; a size that moved is.
    expect(evaluateMinute(shadow, { ...held, desired_max: 5, desired_min: 5 })).toBe(1);
    expect(evaluateMinute(shadow, { ...held, current_max: 4 })).toBe(0);
    // Missing data: read as 0 where the other side has a value; even two absent sizes taken as equal stay 0.
    expect(evaluateMinute(direct, { ...held, queue: undefined })).toBe(0);
    const unsized = { queue: 30 };
    expect(evaluateMinute(direct, unsized)).toBe(0);
    expect(evaluateMinute(shadow, unsized)).toBe(0);
    expect(evaluateMinute(direct, {})).toBeUndefined();
  });

  it('derives the depth threshold from the fleet’s AWS share, truncated as the worker does', () => {
    // Prepare
    const cases = [
      { jobsPerInstance: 18, allocation: 1, expected: 18 },
      { jobsPerInstance: 4, allocation: 0.5, expected: 8 },
      { jobsPerInstance: 18, allocation: 0.3 },
      { jobsPerInstance: 7, allocation: 0.1 },
      { jobsPerInstance: 1, allocation: 0.7, expected: 2 },
    ];

    for (const { jobsPerInstance, allocation, expected } of cases) {
      // Act
      const threshold = deepQueueThreshold(
        { series: 'batches', jobsPerInstance },
        { ...allAws(1), batches: { aws: allocation, gcp: 0 } },
        'aws',
      );

      // Assess: the smallest depth whose allocated value reaches one instance's worth.
      expect(threshold).toBeDefined();
      const depth = threshold ?? 0;
      expect(allocatedSize(depth, allocation)).toBeGreaterThanOrEqual(jobsPerInstance);
      expect(allocatedSize(depth - 1, allocation)).toBeLessThan(jobsPerInstance);
      if (expected !== undefined) {
        expect(depth).toBe(expected);
      }
    }
    expect(
      deepQueueThreshold(
        { series: 'batches', jobsPerInstance: 4 },
        { ...allAws(1), batches: { aws: 0, gcp: 1 } },
        'aws',
      ),
    ).toBeUndefined();
  });

  it('reads a config allocation into the threshold, and skips a fleet AWS takes no share for', () => {
    // Act
    const alarms = alarmsOf(
      monitoringOf({ ...EXAMPLE, allocations: { batches: { aws: 0.5 }, codeintel: { aws: 0 } } }),
    );

    // Assess
    expect(depthThresholdOf(alarms.QueueDeepAlarmbatches)).toBe(8);
    expect(alarms.QueueDeepAlarmcodeintel).toBeUndefined();
  });

  it('alarms when no cycle succeeded in 5 one-minute periods, counting silence as failure', () => {
    // Act
    const alarm = alarmsOf(monitoringOf(EXAMPLE))[CYCLE_ALARM];

    // Assess
    expect(alarm?.Properties).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'breaching',
    });
    expect(alarm?.Properties.Metrics).toEqual([
      {
        Id: 'succeeded',
        MetricStat: {
          Metric: {
            Namespace: 'fleetplane',
            MetricName: 'CycleSucceeded',
            Dimensions: [{ Name: 'environment', Value: 'prod' }],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      { Id: 'cycles', Expression: 'FILL(succeeded, 0)', Label: 'Successful cycles per minute', ReturnData: true },
    ]);
  });

  it('alarms on a failed rotation only where the rotate function is deployed', () => {
    // Act
    const without = monitoringOf(EXAMPLE);
    const withSecret = monitoringOf({ ...EXAMPLE, executorSecret: { awsSecretsManager: 'fleetplane/executor' } });

    // Assess
    expect(without[ROTATION_ALARM]).toBeUndefined();
    expect(JSON.stringify(widgetsOf(without))).not.toContain('Rotation');
    expect(alarmsOf(withSecret)[ROTATION_ALARM]?.Properties).toMatchObject({
      Namespace: 'fleetplane',
      MetricName: 'RotationFailed',
      Dimensions: [{ Name: 'environment', Value: 'prod' }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(JSON.stringify(widgetsOf(withSecret))).toContain('"RotationFailed"');
  });

  it('sends state changes to the alarm topics, and only ALARM for the rotation alarm', () => {
    // Prepare
    const topics = ['arn:aws:sns:us-east-1:123456789012:fleetplane-alarms', 'arn:aws:sns:us-east-1:123456789012:pager'];
    const document = { ...EXAMPLE, executorSecret: { awsSecretsManager: 'fleetplane/executor' } };

    // Act
    const silent = alarmsOf(monitoringOf(document));
    const routed = alarmsOf(monitoringOf(document, { alarmTopic: ` ${topics[0]}, ${topics[1]} ` }));

    // Assess
    for (const alarm of Object.values(silent)) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      expect(alarm.Properties.OKActions).toBeUndefined();
    }
    for (const id of [CYCLE_ALARM, 'QueueDeepAlarmcodeintel', 'QueueDeepAlarmbatches']) {
      expect(routed[id]?.Properties).toMatchObject({ AlarmActions: topics, OKActions: topics });
    }
    expect(routed[ROTATION_ALARM]?.Properties.AlarmActions).toEqual(topics);
    expect(routed[ROTATION_ALARM]?.Properties.OKActions).toBeUndefined();
  });

  it('refuses an alarm topic that is not an SNS topic ARN in the stack’s region, or more than 5', () => {
    // Prepare
    const six = Array.from({ length: 6 }, (_, i) => `arn:aws:sns:us-east-1:123456789012:t${i}`).join(',');

    // Act + Assess
    expect(() => monitoringOf(EXAMPLE, { alarmTopic: 'fleetplane-alarms' })).toThrow(DeployPlanError);
    expect(() => monitoringOf(EXAMPLE, { alarmTopic: 'arn:aws:sqs:us-east-1:123456789012:q' })).toThrow(
      /not one: arn:aws:sqs/,
    );
    expect(() => monitoringOf(EXAMPLE, { alarmTopic: six })).toThrow(/up to 5 SNS topic ARNs/);
    expect(() => monitoringOf(EXAMPLE, { alarmTopic: 'arn:aws:sns:eu-west-1:123456789012:fleetplane-alarms' })).toThrow(
      /can only notify a topic there/,
    );
  });

  it('names alarms and the dashboard after the stack (and region), with alphanumeric logical ids per fleet', () => {
    // Prepare
    const [codeintel] = z.array(z.record(z.string(), z.unknown())).parse(EXAMPLE.fleets);
    const fleets = ['code-intel.v2', 'code_intel.v2', 'codeintelv2'].map((name) => ({
      ...codeintel,
      name,
      target: { cloud: 'aws', region: REGION, autoScalingGroup: `executors-${name}` },
    }));

    // Act
    const resources = monitoringOf({ ...EXAMPLE, fleets });
    const alarms = alarmsOf(resources);

    // Assess
    const ids = Object.keys(alarms).filter((id) => id !== CYCLE_ALARM);
    expect(ids).toHaveLength(3);
    expect(ids).toContain('QueueDeepAlarmcodeintelv2');
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9]+$/);
    }
    expect(alarms[CYCLE_ALARM]?.Properties.AlarmName).toEqual({
      'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'no-successful-cycle']],
    });
    expect(Object.values(alarms).map((alarm) => JSON.stringify(alarm.Properties.AlarmName))).toContain(
      JSON.stringify({ 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'queue-deep-no-capacity-change-code_intel.v2']] }),
    );
    expect(dashboardSchema.parse(resources[DASHBOARD]).Properties.DashboardName).toEqual({
      'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { Ref: 'AWS::Region' }]],
    });
  });
});

describe('observabilityExtras: dashboard', () => {
  it('shows every alarm’s state, each fleet’s sizes with its bounds, and decisions by a SEARCH', () => {
    // Act
    const resources = monitoringOf(EXAMPLE);
    const widgets = widgetsOf(resources);

    // Assess
    expect(widgets[0]?.properties.alarms).toEqual(
      Object.keys(alarmsOf(resources)).map((id) => `arn:aws:cloudwatch:${REGION}:123456789012:alarm:${id}`),
    );
    const titles = widgets.map((widget) => widget.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Fleet codeintel: current vs desired size',
        'Fleet batches: current vs desired size',
        'Fleet codeintel: instances by health',
        'Fleet batches: health replacements per check',
      ]),
    );
    const sizes = widgets.find((widget) => widget.properties.title === 'Fleet codeintel: current vs desired size');
    expect(sizes?.properties.annotations).toEqual({
      horizontal: [
        { label: 'maxInstances', value: 10 },
        { label: 'minInstances', value: 1 },
      ],
    });
    expect(JSON.stringify(widgets)).toContain(
      `SEARCH('{fleetplane,environment,fleet,reason} MetricName=\\"ScaleDecisions\\" environment=\\"prod\\"', 'Sum', 60)`,
    );
    for (const widget of widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      if (widget.type === 'metric') {
        expect(widget.properties).toMatchObject({ region: REGION, view: 'timeSeries' });
      }
    }
  });

  it('reads health widgets from the stack’s region, where the health function’s EMF lands, whatever the config’s CloudWatch region', () => {
    // Prepare: the worker's queue-size series goes to another region; fleetplane's own metrics do not follow it.
    const metrics = { cloudwatch: { namespace: 'sourcegraph-executor', region: 'eu-west-1' } };

    // Act
    const widgets = widgetsOf(monitoringOf({ ...EXAMPLE, metrics }));

    // Assess
    const regionOf = (title: string) => widgets.find((widget) => widget.properties.title === title)?.properties.region;
    expect(regionOf('Fleet codeintel: instances by health')).toBe(REGION);
    expect(regionOf('Fleet codeintel: health replacements per check')).toBe(REGION);
    expect(regionOf('Executors heartbeating from no known instance')).toBe(REGION);
    expect(regionOf('Scaling cycles per minute')).toBe(REGION);
  });

  it('escapes the environment for an exact SEARCH match, and leaves out one it cannot quote', () => {
    // Act + Assess
    expect(decisionsSearch('prod (eu) "blue"')).toBe(
      `SEARCH('{fleetplane,environment,fleet,reason} MetricName="ScaleDecisions" environment="prod \\(eu\\) \\"blue\\""', 'Sum', 60)`,
    );
    expect(decisionsSearch("o'brien")).toBe(
      `SEARCH('{fleetplane,environment,fleet,reason} MetricName="ScaleDecisions"', 'Sum', 60)`,
    );
  });

  it('in drop-in mode: the cycle alarm and the worker’s series, in the worker’s environment, and nothing per fleet', () => {
    // Prepare: the worker's variables, as a drop-in deploy reads them from the shell.
    const shellEnv = {
      SRC_ENDPOINT: 'https://sourcegraph.example.com',
      SRC_ACCESS_TOKEN: 'sgp_example',
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'staging',
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
      EXECUTOR_METRIC_AWS_REGION: REGION,
    };
    const plan = planDeploy({ region: REGION, timeoutSeconds: 60, shellEnv, allowPlaintextToken: true });

    // Act
    const resources = observabilityExtras(plan, { region: REGION, shellEnv }).resources.Resources;

    // Assess
    const alarms = alarmsOf(resources);
    expect(Object.keys(alarms)).toEqual([CYCLE_ALARM]);
    expect(alarms[CYCLE_ALARM]?.Properties.Metrics?.[0]?.MetricStat?.Metric.Dimensions).toEqual([
      { Name: 'environment', Value: 'staging' },
    ]);
    const widgets = widgetsOf(resources);
    const text = JSON.stringify(widgets);
    expect(text).not.toMatch(/Fleet|SEARCH|FleetInstances/);
    const queue = widgets.find((widget) => String(widget.properties.title).startsWith('Queue depth'));
    expect(queue && widgetMetricKeys(queue)).toEqual(
      ['codeintel', 'batches', 'batches_codeintel'].map((series) =>
        key('fleetplane', 'QueueDepth', { environment: 'staging', series }),
      ),
    );
  });
});

describe('observabilityExtras: every metric it reads is one fleetplane publishes', () => {
  it('matches the EMF the scale, rotate and health functions print', async () => {
    // Prepare: a deploy with every function, and one of each publication for it, through the real adapters.
    const document = { ...EXAMPLE, executorSecret: { awsSecretsManager: 'fleetplane/executor' } };
    const resources = monitoringOf(document);
    const config = parseConfigText(JSON.stringify(document), 'file:fleetplane.json', { AWS_REGION: REGION });
    const { environment } = config;
    const at = Date.now() - 10_000;
    const written = captureStdout();

    // Act
    try {
      await createEmfCycleMetrics().publish({
        environment,
        at,
        succeeded: true,
        durationMs: 900,
        sourcegraphLatencyMs: 120,
        queueDepths: config.series.map((series) => ({ series, depth: 30 })),
        fleets: managedFleets(config.fleets, 'aws').map(({ name }) => ({
          fleet: name,
          reason: 'scale-out',
          current: 2,
          desired: 3,
        })),
        errors: { sourcegraph: 0, cloud: 0, metrics: 0 },
      });
      await createEmfRotationMetrics().publish({ environment, at, succeeded: false, durationMs: 1500 });
      await createEmfHealthMetrics().publish({
        environment,
        at,
        fleets: config.fleets.map(({ name }) => ({
          fleet: name,
          counts: { booting: 1, healthy: 1, orphan: 0, stale: 0, outdated: 0 },
          replacements: { replaced: 0, 'would-replace': 1, refused: 0 },
          held: false,
        })),
        unexplainedExecutors: 0,
      });
    } finally {
      vi.restoreAllMocks();
    }

    // Assess
    const published = new Set(emfKeys(written));
    const alarmed = Object.values(alarmsOf(resources)).flatMap(alarmMetricKeys);
    const read = [...alarmed, ...widgetsOf(resources).flatMap(widgetMetricKeys)];
    expect(read.length).toBeGreaterThan(30);
    // The deep-queue alarms' sizes, before and after each cycle acted, are among what the alarms read.
    for (const metric of ['FleetCurrentSize', 'FleetDesiredSize']) {
      expect(alarmed).toContain(key('fleetplane', metric, { environment, fleet: 'codeintel' }));
    }
    expect(alarmed).toContain(key('fleetplane', 'QueueDepth', { environment, series: 'codeintel' }));
    expect(read.filter((metric) => !published.has(metric))).toEqual([]);
  });
});

const emfDocumentSchema = z
  .object({
    _aws: z.object({
      CloudWatchMetrics: z.array(
        z.object({
          Namespace: z.string(),
          Dimensions: z.array(z.array(z.string())),
          Metrics: z.array(z.object({ Name: z.string() })),
        }),
      ),
    }),
  })
  .catchall(z.unknown());

/** What CloudWatch extracts from EMF lines: per directive, each metric with its dimension set's values. */
function emfKeys(written: readonly string[]): string[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const document = emfDocumentSchema.parse(JSON.parse(line));
      return document._aws.CloudWatchMetrics.flatMap(({ Namespace, Dimensions, Metrics }) =>
        Dimensions.flatMap((set) => {
          const dimensions = Object.fromEntries(set.map((name) => [name, String(document[name])]));
          return Metrics.map(({ Name }) => key(Namespace, Name, dimensions));
        }),
      );
    });
}

function allAws(share: number) {
  return {
    codeintel: { aws: share, gcp: 0 },
    batches: { aws: share, gcp: 0 },
  } as const;
}

/** The deep-queue alarm's expression, checked to be the `IF(<condition>, 1, 0)` the helpers below read. */
function stuckExpressionOf(alarm: Alarm | undefined): string {
  const expression = alarm?.Properties.Metrics?.find((query) => query.ReturnData)?.Expression ?? '';
  expect(expression).toMatch(/^IF\(.+, 1, 0\)$/);
  return expression;
}

/** The queue depth a deep-queue alarm counts from: `queue >= <depth>` in its expression. */
function depthThresholdOf(alarm: Alarm | undefined): number | undefined {
  const depth = /\bqueue >= (\d+)\b/.exec(stuckExpressionOf(alarm))?.[1];
  return depth === undefined ? undefined : Number(depth);
}

/**
 * One minute of the alarm's `IF(a OP b AND …, 1, 0)`, given that minute's statistics by query id. Every absent operand
 * reads as 0, stricter than the documented rule (which covers one side missing), so a 1 here cannot come from missing
 * data under either reading; a minute where no operand has a value has no datapoint.
 */
function evaluateMinute(expression: string, values: Readonly<Record<string, number | undefined>>): number | undefined {
  const condition = expression.slice('IF('.length, -', 1, 0)'.length);
  const operand = (token: string) => (/^\d+$/.test(token) ? Number(token) : values[token]);
  const terms = condition.split(' AND ').map((term) => {
    const [, left = '', operator, right = ''] = /^(\w+) (>=|>|==) (\w+)$/.exec(term) ?? [];
    expect(operator, term).toBeDefined();
    return { operator, left: operand(left), right: operand(right), known: values[left] ?? values[right] };
  });
  if (terms.every((term) => term.known === undefined)) {
    return undefined;
  }
  const holds = terms.every(({ operator, left = 0, right = 0 }) =>
    operator === '>=' ? left >= right : operator === '>' ? left > right : left === right,
  );
  return holds ? 1 : 0;
}
