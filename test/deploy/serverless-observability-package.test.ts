import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as z from 'zod';
import { isolatedEnv } from '../../local/child-env.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO_ROOT, 'node_modules', '.bin', 'osls');
/** Bundling the SDK and zipping takes a few seconds; a loaded 2-core runner can take many times that. */
const PACKAGE_TIMEOUT_MS = 120_000;
const EXAMPLE_TEXT = await readFile(join(REPO_ROOT, 'examples/fleetplane.yml'), 'utf8');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:fleetplane-alarms';

const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() }),
  ),
});
type Resources = z.infer<typeof templateSchema>['Resources'];
const stackScoped = (name: string) => ({ 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, name]] });
const bodyPartsSchema = z.object({
  'Fn::Join': z.tuple([
    z.literal(''),
    z.array(z.union([z.string(), z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) })])),
  ]),
});
const widgetsSchema = z.object({
  widgets: z.array(z.object({ type: z.string(), properties: z.record(z.string(), z.unknown()) })),
});

/** Packages exactly as a deploy would, offline, with obviously fake credentials; the template's resources by id. */
async function oslsPackage(directory: string, params: readonly string[]): Promise<Resources> {
  await promisify(execFile)(OSLS, ['package', '--package', directory, ...params.map((param) => `--param=${param}`)], {
    cwd: REPO_ROOT,
    env: isolatedEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-offline-tests',
    }),
    timeout: PACKAGE_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const text = await readFile(join(directory, 'cloudformation-template-update-stack.json'), 'utf8');
  return templateSchema.parse(JSON.parse(text)).Resources;
}

const byType = (resources: Resources, type: string) =>
  Object.entries(resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id)
    .sort();

/**
 * The dashboard's widgets as CloudWatch would read the body once CloudFormation resolved it, each alarm ARN standing
 * in as `<logical id>.Arn`; and the logical ids it points at.
 */
function dashboardOf(resources: Resources) {
  const [, parts] = bodyPartsSchema.parse(resources.FleetplaneDashboard?.Properties?.DashboardBody)['Fn::Join'];
  const arns = parts.flatMap((part) => (typeof part === 'string' ? [] : [part['Fn::GetAtt'][0]]));
  const text = parts.map((part) => (typeof part === 'string' ? part : `${part['Fn::GetAtt'][0]}.Arn`)).join('');
  return { widgets: widgetsSchema.parse(JSON.parse(text)).widgets, arns };
}

describe('osls package with examples/fleetplane.yml: dashboard and alarms', () => {
  let directory: string;
  let byId: Resources;

  beforeAll(async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-package-observability-'));
    byId = await oslsPackage(directory, ['config=examples/fleetplane.yml']);
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('declares the cycle alarm and one deep-queue alarm per fleet sizing an AWS group, and no rotation alarm', () => {
    // Act
    const alarms = byType(byId, 'AWS::CloudWatch::Alarm');

    // Assess
    expect(alarms).toEqual(['NoSuccessfulCycleAlarm', 'QueueDeepAlarmbatches', 'QueueDeepAlarmcodeintel']);
  });

  it('alarms when no cycle succeeded for 5 minutes in the config’s environment, notifying nobody by default', () => {
    // Act
    const alarm = byId.NoSuccessfulCycleAlarm?.Properties;

    // Assess
    expect(alarm).toMatchObject({
      AlarmName: stackScoped('no-successful-cycle'),
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'breaching',
      Metrics: [
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
        { Id: 'cycles', Expression: 'FILL(succeeded, 0)', ReturnData: true },
      ],
    });
    expect(alarm?.AlarmActions).toBeUndefined();
    expect(alarm?.OKActions).toBeUndefined();
  });

  it('alarms on the codeintel queue at 18 jobs (its jobsPerInstance) in 15 one-minute datapoints at an unchanged size', () => {
    // Act
    const alarm = byId.QueueDeepAlarmcodeintel?.Properties;

    // Assess: direct, so each minute also needs no resize (desired == current).
    const size = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: { Metric: { MetricName }, Period: 60, Stat },
      ReturnData: false,
    });
    expect(alarm).toMatchObject({
      AlarmName: stackScoped('queue-deep-no-capacity-change-codeintel'),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: 'notBreaching',
      Metrics: [
        size('queue', 'QueueDepth', 'Minimum'),
        size('sized', 'FleetCurrentSize', 'SampleCount'),
        size('current_max', 'FleetCurrentSize', 'Maximum'),
        size('current_min', 'FleetCurrentSize', 'Minimum'),
        size('desired_max', 'FleetDesiredSize', 'Maximum'),
        size('desired_min', 'FleetDesiredSize', 'Minimum'),
        {
          Id: 'stuck',
          Expression:
            'IF(queue >= 18 AND sized > 0 AND current_max == current_min AND desired_max == desired_min ' +
            'AND current_max == desired_max, 1, 0)',
          ReturnData: true,
        },
      ],
    });
  });

  it('alarms on the shadow batches fleet at 4 jobs, testing only the size its cycles found', () => {
    // Act
    const alarm = byId.QueueDeepAlarmbatches?.Properties;

    // Assess
    expect(alarm).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: 'notBreaching',
    });
    const metrics = z.array(z.object({ Id: z.string(), Expression: z.string().optional() })).parse(alarm?.Metrics);
    expect(metrics.map((query) => query.Id)).toEqual(['queue', 'sized', 'current_max', 'current_min', 'stuck']);
    expect(metrics.at(-1)?.Expression).toBe('IF(queue >= 4 AND sized > 0 AND current_max == current_min, 1, 0)');
  });

  it('builds a dashboard named after the stack and region whose body is JSON listing every alarm', () => {
    // Act
    const dashboard = byId.FleetplaneDashboard;
    const { widgets, arns } = dashboardOf(byId);

    // Assess
    expect(dashboard?.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(dashboard?.Properties?.DashboardName).toEqual({
      'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { Ref: 'AWS::Region' }]],
    });
    expect([...arns].sort()).toEqual(byType(byId, 'AWS::CloudWatch::Alarm'));
    expect(widgets[0]?.type).toBe('alarm');
    expect(widgets[0]?.properties.alarms).toEqual(arns.map((id) => `${id}.Arn`));
    expect(widgets.map((widget) => widget.properties.title)).toEqual(
      expect.arrayContaining([
        'Scaling cycles per minute',
        'Fleet codeintel: current vs desired size',
        'Scale decisions per minute by fleet and reason',
        'Fleet batches: instances by health',
      ]),
    );
    expect(JSON.stringify(widgets)).not.toContain('Rotation');
  });
});

describe('osls package with an executor secret and --param alarmTopic', () => {
  let directory: string;
  let byId: Resources;

  beforeAll(async () => {
    // Prepare: the example plus an executor secret (so the rotate function is deployed), from a file outside the repo.
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-package-observability-topic-'));
    const config = join(directory, 'fleetplane.json');
    await writeFile(
      config,
      JSON.stringify({ ...parse(EXAMPLE_TEXT), executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } }),
    );
    byId = await oslsPackage(join(directory, 'package'), [`config=${config}`, `alarmTopic=${TOPIC}`]);
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('adds the rotation alarm on RotationFailed, sending ALARM only', () => {
    // Act
    const alarm = byId.RotationFailedAlarm?.Properties;

    // Assess
    expect(alarm).toMatchObject({
      AlarmName: stackScoped('rotation-failed'),
      Namespace: 'fleetplane',
      MetricName: 'RotationFailed',
      Dimensions: [{ Name: 'environment', Value: 'prod' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [TOPIC],
    });
    expect(alarm?.OKActions).toBeUndefined();
  });

  it('sends the cycle and queue alarms’ ALARM and OK transitions to the topic', () => {
    // Act
    const routed = ['NoSuccessfulCycleAlarm', 'QueueDeepAlarmcodeintel', 'QueueDeepAlarmbatches'].map(
      (id) => byId[id]?.Properties,
    );

    // Assess
    for (const alarm of routed) {
      expect(alarm).toMatchObject({ AlarmActions: [TOPIC], OKActions: [TOPIC] });
    }
  });

  it('graphs rotations on the dashboard and lists the rotation alarm', () => {
    // Act
    const { widgets, arns } = dashboardOf(byId);

    // Assess
    expect(arns).toContain('RotationFailedAlarm');
    expect(widgets.map((widget) => widget.properties.title)).toContain('Executor secret rotations');
  });
});
