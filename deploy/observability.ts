import { createHash } from 'node:crypto';
import {
  CYCLE_DURATION_METRIC,
  CYCLE_FAILED_METRIC,
  CYCLE_SUCCEEDED_METRIC,
  ERRORS_METRIC,
  FLEET_CURRENT_SIZE_METRIC,
  FLEET_DESIRED_SIZE_METRIC,
  FLEET_INSTANCES_METRIC,
  FLEETPLANE_NAMESPACE,
  HEALTH_HELD_METRIC,
  HEALTH_REPLACEMENTS_METRIC,
  QUEUE_DEPTH_METRIC,
  ROTATION_DURATION_METRIC,
  ROTATION_FAILED_METRIC,
  ROTATION_SUCCEEDED_METRIC,
  SCALE_DECISIONS_METRIC,
  SOURCEGRAPH_LATENCY_METRIC,
  UNEXPLAINED_EXECUTORS_METRIC,
} from '../shared/aws/fleetplane-metrics.ts';
import { type Env, type FleetplaneConfig, parseConfigText, parseWorkerEnv } from '../shared/config/index.ts';
import { type AwsGroupTarget, type Fleet, managedFleets } from '../shared/domain/fleet.ts';
import { HEALTH_CLASSES } from '../shared/domain/health.ts';
import { deepQueueThreshold } from '../shared/domain/queue-metric.ts';
import { ERROR_SOURCES } from '../shared/ports/cycle-metrics.ts';
import { REPLACEMENT_OUTCOMES } from '../shared/ports/health-metrics.ts';
import type { CfnString } from './iam.ts';
import { type DeployPlan, DeployPlanError } from './plan.ts';

/** Logical ids of the resources every deploy gets; a fleet's alarm is `QueueDeepAlarm<fleet>`. */
export const DASHBOARD = 'FleetplaneDashboard';
export const CYCLE_ALARM = 'NoSuccessfulCycleAlarm';
export const ROTATION_ALARM = 'RotationFailedAlarm';
const QUEUE_ALARM_PREFIX = 'QueueDeepAlarm';

/**
 * The stack's name through `Ref`, not a `${AWS::StackName}` string: osls reads `${…}` as its own variables (see
 * `iam.ts`).
 */
const STACK_NAME = { Ref: 'AWS::StackName' } as const;
const stackScoped = (name: string): CfnString => ({ 'Fn::Join': ['-', [STACK_NAME, name]] });

/** What the deploy knows besides the plan: the same inputs `planDeploy` validated. */
export interface ObservabilityInput {
  /** `provider.region`: where the stack, its alarms and the functions' EMF metrics live. */
  readonly region: string;
  /** The config document (`--param config=<file>`); absent = drop-in mode. */
  readonly config?: { readonly text: string; readonly source: string };
  /** The deploying shell's environment; only `SRC_ACCESS_TOKEN` is read, as `planDeploy` does. */
  readonly shellEnv: Env;
  /** `--param alarmTopic=<SNS topic ARN>[,<ARN>…]`: where alarm state changes are sent; absent = nowhere. */
  readonly alarmTopic?: string;
}

/** What serverless.yml reads for fleetplane's own monitoring. */
export interface ObservabilityExtras {
  /** The dashboard and alarms, merged into `resources` with the functions' roles. */
  readonly resources: { readonly Resources: Readonly<Record<string, unknown>> };
}

/**
 * A CloudWatch dashboard and alarms over the metrics fleetplane publishes about itself (`fleetplane-metrics.ts`), with
 * `environment` set to the value the functions will publish with. Alarms:
 * - no successful cycle for 5 minutes, always (drop-in mode runs cycles too);
 * - queue deep and no capacity change for 15 minutes, per fleet that sizes an AWS group;
 * - rotation failed, where the rotate function is deployed.
 * Names start with the stack name, which osls makes `<service>-<stage>` (or `provider.stackName`), so two stages in
 * one account never collide and nothing new has to be resolved; the dashboard adds the region because dashboards are
 * global to the account while stacks and alarms are regional.
 */
export function observabilityExtras(plan: DeployPlan, input: ObservabilityInput): ObservabilityExtras {
  const config = runtimeConfig(plan, input);
  const topics = alarmTopics(input.alarmTopic, input.region);
  const alarms: Record<string, unknown> = {
    [CYCLE_ALARM]: noSuccessfulCycleAlarm(config.environment, topics),
  };
  for (const { logicalId, alarm } of deepQueueAlarms(config, topics)) {
    alarms[logicalId] = alarm;
  }
  if (plan.rotate !== undefined) {
    alarms[ROTATION_ALARM] = rotationFailedAlarm(config.environment, topics);
  }
  return {
    resources: {
      Resources: {
        ...alarms,
        [DASHBOARD]: {
          Type: 'AWS::CloudWatch::Dashboard',
          Properties: {
            DashboardName: { 'Fn::Join': ['-', [STACK_NAME, { Ref: 'AWS::Region' }]] },
            DashboardBody: dashboardBody(plan, config, input.region, Object.keys(alarms)),
          },
        },
      },
    },
  };
}

/**
 * The configuration the functions will run with, parsed as they parse it: from the document, or (drop-in) from the
 * worker's variables the plan puts in their environment. `planDeploy` has already refused anything invalid.
 */
function runtimeConfig(plan: DeployPlan, input: ObservabilityInput): FleetplaneConfig {
  if (input.config === undefined || plan.mode === 'drop-in') {
    return parseWorkerEnv({ ...plan.environment, AWS_REGION: input.region });
  }
  const token = input.shellEnv.SRC_ACCESS_TOKEN?.trim();
  return parseConfigText(input.config.text, input.config.source, {
    AWS_REGION: input.region,
    SRC_ACCESS_TOKEN: token === '' ? undefined : token,
  });
}

/** An SNS topic ARN, e.g. `arn:aws:sns:us-east-1:123456789012:fleetplane-alarms`. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** PutMetricAlarm takes at most 5 actions per state. */
const MAX_ALARM_ACTIONS = 5;

function alarmTopics(param: string | undefined, region: string): readonly string[] {
  const topics = (param ?? '')
    .split(',')
    .map((topic) => topic.trim())
    .filter((topic) => topic !== '');
  // CloudWatch does not check an action's ARN: a typo would deploy alarms that notify nobody.
  const bad = topics.filter((topic) => !SNS_TOPIC_ARN.test(topic));
  if (bad.length > 0 || topics.length > MAX_ALARM_ACTIONS) {
    throw new DeployPlanError(
      `alarmTopic must be up to ${MAX_ALARM_ACTIONS} SNS topic ARNs separated by commas, such as ` +
        `"arn:aws:sns:${region}:123456789012:fleetplane-alarms"${bad.length > 0 ? `; not one: ${bad.join(', ')}` : ''}`,
    );
  }
  // PutMetricAlarm refuses an SNS action in another region than the alarm's; say so before CloudFormation fails.
  const elsewhere = topics.filter((topic) => topic.split(':')[3] !== region);
  if (elsewhere.length > 0) {
    throw new DeployPlanError(
      `alarmTopic ${elsewhere.join(', ')}: the alarms live in ${region} and can only notify a topic there; create ` +
        `the topic in ${region}`,
    );
  }
  return topics;
}

function actions(topics: readonly string[], withOk: boolean): Record<string, readonly string[]> {
  if (topics.length === 0) {
    return {};
  }
  return withOk ? { AlarmActions: topics, OKActions: topics } : { AlarmActions: topics };
}

/** PutMetricAlarm refuses a description longer than this; only a very long environment name gets near it. */
const MAX_DESCRIPTION_CHARS = 1024;
const description = (text: string): string => text.slice(0, MAX_DESCRIPTION_CHARS);

/** A metric in fleetplane's namespace as an alarm's `MetricStat` names it: every dimension, or it matches nothing. */
function metricStat(metric: string, dimensions: Readonly<Record<string, string>>, period: number, stat: string) {
  return {
    Metric: {
      Namespace: FLEETPLANE_NAMESPACE,
      MetricName: metric,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: period,
    Stat: stat,
  };
}

/** Seconds per datapoint of the cycle alarm: cycles run several times a minute, every minute. */
const CYCLE_PERIOD_SECONDS = 60;
/** "No successful cycle for 5 minutes": five one-minute datapoints, all of them breaching. */
const CYCLE_EVALUATION_PERIODS = 5;

/**
 * No cycle reported `CycleSucceeded` = 1 in any of the last five minutes: each minute's Sum counts the successful
 * cycles, and all five one-minute datapoints must be below 1, so one success anywhere in the window keeps it OK. (One
 * 300 s datapoint on the default sliding window would say the same; minute datapoints graph at the rate cycles run,
 * and a newest minute still on its way from the logs, read as 0, never alarms alone.) A dead function publishes
 * nothing: `FILL(…, 0)` turns each silent minute into a 0, so silence alarms after 5 minutes too. Without it CloudWatch
 * evaluates the most recent datapoints that exist in its (longer) evaluation range, and the successes from before the
 * function died would hold the alarm OK until they aged out of it. Missing data stays `breaching` for whatever FILL
 * leaves empty.
 */
function noSuccessfulCycleAlarm(environment: string, topics: readonly string[]) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: stackScoped('no-successful-cycle'),
      AlarmDescription: description(
        `No fleetplane scaling cycle succeeded for 5 minutes in environment "${environment}" ` +
          `(${FLEETPLANE_NAMESPACE}/${CYCLE_SUCCEEDED_METRIC}), or the scale function published nothing at all. ` +
          'Executor groups are not being sized. Check the scale function: its logs (errors, timeouts), its ' +
          'invocations and throttles, the Sourcegraph endpoint and token, and CycleFailed and Errors by source on ' +
          'the dashboard.',
      ),
      Metrics: [
        {
          Id: 'succeeded',
          MetricStat: metricStat(CYCLE_SUCCEEDED_METRIC, { environment }, CYCLE_PERIOD_SECONDS, 'Sum'),
          ReturnData: false,
        },
        { Id: 'cycles', Expression: 'FILL(succeeded, 0)', Label: 'Successful cycles per minute', ReturnData: true },
      ],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: CYCLE_EVALUATION_PERIODS,
      DatapointsToAlarm: CYCLE_EVALUATION_PERIODS,
      TreatMissingData: 'breaching',
      ...actions(topics, true),
    },
  };
}

/** One datapoint per minute: the scale function runs several cycles in each, so every minute has its own sizes. */
const QUEUE_PERIOD_SECONDS = 60;
/**
 * "For 15 minutes": fifteen one-minute datapoints, all of which must breach. One 900 s datapoint on the sliding window
 * tested "the size's Maximum == Minimum" over whatever data the window held; after a deploy, or a gap in the scale
 * function's data, that could be a single minute, where it is trivially true, so any backlog alarmed at once (and was
 * OK again a minute later). Here a minute without data is never a breaching one: CloudWatch fills missing minutes with
 * the alarm's treatment (`notBreaching`) only while its evaluation range holds fewer than 15 real datapoints, so a fresh
 * stack stays OK until 15 real minutes breached. Once the range holds 15 or more it evaluates the latest 15 real ones,
 * so after a short gap the 15 may straddle it: still 15 observed minutes each meeting the condition.
 */
const QUEUE_EVALUATION_PERIODS = 15;

/**
 * Per fleet that sizes an AWS group (the fleets whose sizes the scale function publishes; a metrics-mode fleet has
 * none): each minute is 1 when the series' lowest depth in it reached one instance's worth of jobs and the fleet's
 * capacity did not change in it, else 0; the alarm fires after 15 such minutes. Maximum == Minimum of a size within a
 * minute says nothing about a step between two minutes, and DIFF across minutes is no way out: what it returns for
 * the first datapoint of the range an alarm reads is undocumented. Every cycle instead publishes both the group's size
 * before it acted (`FleetCurrentSize`) and after (`FleetDesiredSize`), so a direct fleet's cycle that changed the size
 * shows desired != current in its own minute, whichever minute the next cycle falls in. A direct fleet's minute
 * therefore counts when its current and its desired size each held and were equal: nothing acted and nothing moved. A
 * shadow fleet never acts, and its desired size is only what fleetplane would do, so only its current size is tested:
 * a change made by someone else between the last cycle of one minute and the first of the next is seen in neither (as
 * for a direct fleet's group changed from outside at that instant); with several cycles a minute, most changes fall
 * within one. It also fires for a fleet pinned at maxInstances: that is a capacity signal too.
 *
 * Per the metric math rules, comparisons combine with AND inside an IF condition, and where only one of two series
 * has a datapoint the missing one reads as 0. A minute without a queue depth (Sourcegraph unread: not this alarm's
 * business) is therefore 0, since the threshold is at least 1. A minute without sizes (the group not described) is 0
 * through `sized > 0`, the sizes' sample count being absent there, even were two absent sizes taken as equal. A
 * minute without any data is missing, not breaching; the cycle alarm covers a function that publishes nothing. An
 * alarm may read at most 10 metrics, all with one period, and only the expression it watches returns data.
 */
function deepQueueAlarms(
  config: FleetplaneConfig,
  topics: readonly string[],
): { readonly logicalId: string; readonly alarm: unknown }[] {
  const { environment } = config;
  return managedFleets(config.fleets, 'aws').flatMap((fleet) => {
    const target = fleet.target;
    const threshold = deepQueueThreshold(fleet, config.allocations, 'aws');
    if (target?.cloud !== 'aws' || threshold === undefined) {
      return [];
    }
    const size = { environment, fleet: fleet.name };
    const read = (id: string, metric: string, dimensions: Readonly<Record<string, string>>, stat: string) => ({
      Id: id,
      MetricStat: metricStat(metric, dimensions, QUEUE_PERIOD_SECONDS, stat),
      ReturnData: false,
    });
    const current = [
      read('current_max', FLEET_CURRENT_SIZE_METRIC, size, 'Maximum'),
      read('current_min', FLEET_CURRENT_SIZE_METRIC, size, 'Minimum'),
    ];
    const desired =
      fleet.mode === 'direct'
        ? [
            read('desired_max', FLEET_DESIRED_SIZE_METRIC, size, 'Maximum'),
            read('desired_min', FLEET_DESIRED_SIZE_METRIC, size, 'Minimum'),
          ]
        : [];
    const held = [
      `queue >= ${threshold}`,
      'sized > 0',
      'current_max == current_min',
      ...(fleet.mode === 'direct' ? ['desired_max == desired_min', 'current_max == desired_max'] : []),
    ];
    const alarm = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: stackScoped(`queue-deep-no-capacity-change-${fleet.name}`),
        AlarmDescription: description(deepQueueDescription(fleet, target, threshold, environment)),
        Metrics: [
          read('queue', QUEUE_DEPTH_METRIC, { environment, series: fleet.series }, 'Minimum'),
          read('sized', FLEET_CURRENT_SIZE_METRIC, size, 'SampleCount'),
          ...current,
          ...desired,
          {
            Id: 'stuck',
            Expression: `IF(${held.join(' AND ')}, 1, 0)`,
            Label: `1 = ${fleet.series} queue at ${threshold}+ jobs all minute while fleet ${fleet.name} kept its size`,
            ReturnData: true,
          },
        ],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: QUEUE_EVALUATION_PERIODS,
        DatapointsToAlarm: QUEUE_EVALUATION_PERIODS,
        TreatMissingData: 'notBreaching',
        ...actions(topics, true),
      },
    };
    return [{ logicalId: queueAlarmId(fleet.name), alarm }];
  });
}

function deepQueueDescription(fleet: Fleet, target: AwsGroupTarget, threshold: number, environment: string): string {
  const share = threshold === fleet.jobsPerInstance ? '' : ' (its AWS share reaching jobsPerInstance)';
  const held =
    fleet.mode === 'direct'
      ? 'fleetplane did not resize the group and saw its size hold'
      : "the group's size held as the cycles saw it (shadow mode never resizes)";
  return (
    `Fleet ${fleet.name} (group ${target.autoScalingGroup} in ${target.region}, environment "${environment}"): for 15 ` +
    `minutes with data, the ${fleet.series} queue stayed at ${threshold} jobs or more${share}, one instance's worth ` +
    `(jobsPerInstance ${fleet.jobsPerInstance}), and in each of those minutes ${held}. Check whether the group is at ` +
    `maxInstances (${fleet.maxInstances}) or its own MaxSize, the fleet's mode (${fleet.mode}; only direct ` +
    "resizes), its scale decisions and cloud errors on the dashboard, and the group's scaling activities."
  );
}

/** Logical ids are alphanumeric: a fleet name with `.`, `_` or `-` keeps its letters plus a hash of the whole name. */
function queueAlarmId(fleet: string): string {
  const alphanumeric = fleet.replace(/[^A-Za-z0-9]/g, '');
  const suffix = alphanumeric === fleet ? '' : createHash('sha256').update(fleet).digest('hex').slice(0, 8);
  return `${QUEUE_ALARM_PREFIX}${alphanumeric}${suffix}`;
}

/**
 * An hour per datapoint: rotations are rare, and a failure stays red on the dashboard (and in ALARM) for an hour
 * instead of flipping back a minute later. A rotation whose steps fail one after another (each reports a failure) is
 * one ALARM, not one notification per step.
 */
const ROTATION_PERIOD_SECONDS = 3600;

/**
 * Any `RotationFailed` = 1 (a whole rotation, or one step of Secrets Manager's protocol). No rotation means no data,
 * which is not a failure. No OK action: OK only means the failure is an hour old, not that anything was fixed.
 */
function rotationFailedAlarm(environment: string, topics: readonly string[]) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: stackScoped('rotation-failed'),
      AlarmDescription: description(
        `Rotating the executor secret failed in environment "${environment}" ` +
          `(${FLEETPLANE_NAMESPACE}/${ROTATION_FAILED_METRIC}). Executors may hold a token Sourcegraph no longer ` +
          "accepts, or the new token may not be rolled out. Check the rotate function's logs, the secret's versions " +
          'and rotation status in Secrets Manager, and the fleets’ instance refreshes; running the rotation again ' +
          'resumes it.',
      ),
      Namespace: FLEETPLANE_NAMESPACE,
      MetricName: ROTATION_FAILED_METRIC,
      Dimensions: [{ Name: 'environment', Value: environment }],
      Statistic: 'Sum',
      Period: ROTATION_PERIOD_SECONDS,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      ...actions(topics, false),
    },
  };
}

/** A widget before layout: the dashboard places them in rows, left to right. */
interface Widget {
  readonly type: 'metric' | 'alarm';
  readonly width: number;
  readonly height: number;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** The dashboard grid is 24 columns wide. */
const GRID_COLUMNS = 24;
/** An alarm status widget lists at most 100 alarms. */
const MAX_ALARMS_PER_WIDGET = 100;
/** Marks where an alarm's ARN goes in the body's JSON, replaced by `Fn::GetAtt` (ARNs are known only to AWS). */
const ARN_PLACEHOLDER = /"@fleetplane-alarm-arn:([A-Za-z0-9]+)@"/g;
const arnPlaceholder = (logicalId: string) => `@fleetplane-alarm-arn:${logicalId}@`;

/**
 * The dashboard: the alarms' states, then the scale function's cycles (outcomes, duration, Sourcegraph latency, errors
 * by source, queue depth per series), each fleet's current and desired size with its bounds, decisions by reason, and
 * rotation and health outcomes where those functions are deployed. Metrics are listed by their exact dimensions where
 * the config names them; decisions by reason use a SEARCH, since reasons are an open set. Every function prints its
 * metrics as EMF, which CloudWatch Logs extracts in the function's (the stack's) region, so every widget reads there.
 */
function dashboardBody(plan: DeployPlan, config: FleetplaneConfig, region: string, alarms: readonly string[]) {
  const { environment } = config;
  const env = { environment };
  const metric = (name: string, dimensions: Readonly<Record<string, string>>, render: Render) => [
    FLEETPLANE_NAMESPACE,
    name,
    ...Object.entries({ ...env, ...dimensions }).flat(),
    render,
  ];
  const graph = (title: string, metrics: readonly unknown[], options: GraphOptions = {}): Widget => ({
    type: 'metric',
    width: options.width ?? 12,
    height: 6,
    properties: {
      title,
      region,
      view: 'timeSeries',
      stacked: options.stacked ?? false,
      period: options.period ?? 60,
      metrics,
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
  });
  const scaled = managedFleets(config.fleets, 'aws');

  const widgets: Widget[] = [];
  for (let start = 0; start < alarms.length; start += MAX_ALARMS_PER_WIDGET) {
    const chunk = alarms.slice(start, start + MAX_ALARMS_PER_WIDGET);
    widgets.push({
      type: 'alarm',
      width: GRID_COLUMNS,
      // The widget shows about four alarms per row.
      height: 2 + Math.ceil(chunk.length / 4),
      properties: { title: 'Alarms', alarms: chunk.map(arnPlaceholder), sortBy: 'stateUpdatedTimestamp' },
    });
  }
  widgets.push(
    graph('Scaling cycles per minute', [
      metric(CYCLE_SUCCEEDED_METRIC, {}, { label: 'Succeeded', stat: 'Sum', color: '#2ca02c' }),
      metric(CYCLE_FAILED_METRIC, {}, { label: 'Failed', stat: 'Sum', color: '#d62728' }),
    ]),
    graph('Errors per minute by source', [
      ...ERROR_SOURCES.map((source) => metric(ERRORS_METRIC, { source }, { label: source, stat: 'Sum' })),
    ]),
    graph('Cycle duration (ms)', [
      metric(CYCLE_DURATION_METRIC, {}, { label: 'Average', stat: 'Average' }),
      metric(CYCLE_DURATION_METRIC, {}, { label: 'Maximum', stat: 'Maximum' }),
    ]),
    graph('Sourcegraph latency (ms)', [
      metric(SOURCEGRAPH_LATENCY_METRIC, {}, { label: 'Average', stat: 'Average' }),
      metric(SOURCEGRAPH_LATENCY_METRIC, {}, { label: 'Maximum', stat: 'Maximum' }),
    ]),
    graph('Queue depth per series (jobs, before allocation)', [
      ...config.series.map((series) => metric(QUEUE_DEPTH_METRIC, { series }, { label: series, stat: 'Maximum' })),
    ]),
  );
  for (const fleet of scaled) {
    const dimensions = { fleet: fleet.name };
    widgets.push(
      graph(
        `Fleet ${fleet.name}: current vs desired size`,
        [
          metric(FLEET_CURRENT_SIZE_METRIC, dimensions, { label: 'Current', stat: 'Maximum' }),
          metric(FLEET_DESIRED_SIZE_METRIC, dimensions, { label: 'Desired', stat: 'Maximum' }),
        ],
        {
          annotations: {
            horizontal: [
              { label: 'maxInstances', value: fleet.maxInstances },
              { label: 'minInstances', value: fleet.minInstances },
            ],
          },
        },
      ),
    );
  }
  if (scaled.length > 0) {
    widgets.push(
      graph(
        'Scale decisions per minute by fleet and reason',
        // Each item of `metrics` is an array; an expression's holds just its one object.
        [[{ expression: decisionsSearch(environment), id: 'decisions', label: '' }]],
        { stacked: true, width: GRID_COLUMNS },
      ),
    );
  }
  if (plan.rotate !== undefined) {
    widgets.push(
      graph(
        'Executor secret rotations',
        [
          metric(ROTATION_SUCCEEDED_METRIC, {}, { label: 'Succeeded', stat: 'Sum', color: '#2ca02c' }),
          metric(ROTATION_FAILED_METRIC, {}, { label: 'Failed', stat: 'Sum', color: '#d62728' }),
          metric(ROTATION_DURATION_METRIC, {}, { label: 'Duration (ms)', stat: 'Maximum', yAxis: 'right' }),
        ],
        { period: ROTATION_PERIOD_SECONDS, width: GRID_COLUMNS },
      ),
    );
  }
  if (plan.health !== undefined) {
    widgets.push(...healthWidgets(config, metric, graph));
  }
  return joinWithArns(
    // `inherit` keeps each graph's period: per minute for cycles (as the alarms read them), per 5 minutes for health
    // checks (finer would draw each check as an isolated dot), per hour for rare rotations.
    JSON.stringify({ start: '-PT6H', periodOverride: 'inherit', widgets: layout(widgets) }),
    new Set(alarms),
  );
}

interface Render {
  readonly label: string;
  readonly stat: string;
  readonly color?: string;
  readonly yAxis?: 'left' | 'right';
}

interface GraphOptions {
  readonly width?: number;
  readonly stacked?: boolean;
  readonly period?: number;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** Health checks run every 5 minutes by default; a longer schedule shows as gaps, never as wrong numbers. */
const HEALTH_PERIOD_SECONDS = 300;

function healthWidgets(
  config: FleetplaneConfig,
  metric: (name: string, dimensions: Readonly<Record<string, string>>, render: Render) => unknown[],
  graph: (title: string, metrics: readonly unknown[], options?: GraphOptions) => Widget,
): Widget[] {
  const options = { period: HEALTH_PERIOD_SECONDS } as const;
  const checked = config.fleets.filter((fleet) => fleet.target?.cloud === 'aws');
  return [
    ...checked.flatMap((fleet) => {
      const dimensions = { fleet: fleet.name };
      return [
        graph(
          `Fleet ${fleet.name}: instances by health`,
          HEALTH_CLASSES.map((health) =>
            metric(FLEET_INSTANCES_METRIC, { ...dimensions, health }, { label: health, stat: 'Maximum' }),
          ),
          { ...options, stacked: true },
        ),
        graph(
          `Fleet ${fleet.name}: health replacements per check`,
          [
            ...REPLACEMENT_OUTCOMES.map((outcome) =>
              metric(HEALTH_REPLACEMENTS_METRIC, { ...dimensions, outcome }, { label: outcome, stat: 'Sum' }),
            ),
            metric(HEALTH_HELD_METRIC, dimensions, { label: 'held (1 = too many broken at once)', stat: 'Maximum' }),
          ],
          options,
        ),
      ];
    }),
    graph(
      'Executors heartbeating from no known instance',
      [metric(UNEXPLAINED_EXECUTORS_METRIC, {}, { label: 'Unexplained executors', stat: 'Maximum' })],
      { ...options, width: GRID_COLUMNS },
    ),
  ];
}

/**
 * Decisions per fleet and reason (one per fleet per cycle). A SEARCH lists every reason that occurred, including
 * failure reasons no constant names. An exact match escapes `"`, `\`, `(` and `)`; the query sits in single quotes,
 * which it cannot escape, so an environment with a `'` is left out of it (the legend still shows each environment).
 */
export function decisionsSearch(environment: string): string {
  const schema = `{${FLEETPLANE_NAMESPACE},environment,fleet,reason}`;
  const exact = environment.replace(/["\\()]/g, (character) => `\\${character}`);
  const filter = environment.includes("'") ? '' : ` environment="${exact}"`;
  return `SEARCH('${schema} MetricName="${SCALE_DECISIONS_METRIC}"${filter}', 'Sum', 60)`;
}

/** Rows left to right: a widget that does not fit the row's remaining columns starts the next row. */
function layout(widgets: readonly Widget[]) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return widgets.map((widget) => {
    if (x + widget.width > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = {
      type: widget.type,
      x,
      y,
      width: widget.width,
      height: widget.height,
      properties: widget.properties,
    };
    x += widget.width;
    rowHeight = Math.max(rowHeight, widget.height);
    return placed;
  });
}

/** The body as `Fn::Join` of its JSON text, with each alarm placeholder replaced by that alarm's ARN. */
function joinWithArns(json: string, alarms: ReadonlySet<string>) {
  const parts: unknown[] = [];
  let last = 0;
  for (const match of json.matchAll(ARN_PLACEHOLDER)) {
    const logicalId = match[1];
    if (logicalId === undefined || !alarms.has(logicalId)) {
      continue;
    }
    parts.push(`${json.slice(last, match.index)}"`, { 'Fn::GetAtt': [logicalId, 'Arn'] });
    last = match.index + match[0].length - 1;
  }
  parts.push(json.slice(last));
  return { 'Fn::Join': ['', parts] };
}
