import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type SourcegraphEmulator, startSourcegraphEmulator } from '../../local/sourcegraph/index.ts';
import { createWorld } from '../../local/world/world.ts';

const TOKEN = 'sgp_smoke_0123456789abcdef0123456789abcdef';
const cloudwatch = mockClient(CloudWatchClient);
const autoScaling = mockClient(AutoScalingClient);
let sourcegraph: SourcegraphEmulator;
let logged: string[];

const context = {
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as Context;

async function importHandler(env: Record<string, string>) {
  for (const [key, value] of Object.entries({ AWS_REGION: 'us-east-1', ...env })) {
    vi.stubEnv(key, value);
  }
  vi.resetModules();
  const module = await import('../../functions/aws/scale.ts');
  return module.handler;
}

beforeAll(async () => {
  // 95 codeintel jobs; one batch spec with 6 queued and 1 errored workspace execution. No executors: nothing moves.
  const world = createWorld({ clock: Date.now });
  world.enqueue('codeintel', 95);
  world.enqueue('batches', 6, { batchSpec: 'spec-1' });
  world.enqueue('batches', 1, { batchSpec: 'spec-1', state: 'errored' });
  sourcegraph = await startSourcegraphEmulator({ world, tokens: [{ token: TOKEN, siteAdmin: true }] });
});

afterAll(async () => {
  await sourcegraph.close();
});

beforeEach(() => {
  cloudwatch.reset();
  autoScaling.reset();
  cloudwatch.on(PutMetricDataCommand).resolves({});
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'executors-codeintel',
        DesiredCapacity: 1,
        MinSize: 0,
        MaxSize: 20,
        Instances: [],
        AvailabilityZones: ['us-east-1a'],
        DefaultCooldown: 300,
        HealthCheckType: 'EC2',
        CreatedTime: new Date(),
      },
    ],
  });
  logged = [];
  // Powertools writes info to stdout, warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
  }
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('AWS scale function', () => {
  it("drop-in mode: writes the worker's three series exactly as the worker does", async () => {
    // Prepare
    const handler = await importHandler({
      SRC_ENDPOINT: sourcegraph.url,
      SRC_ACCESS_TOKEN: TOKEN,
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
      EXECUTOR_METRIC_AWS_REGION: 'us-west-2',
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'prod',
    });

    // Act
    const result = await handler({ once: true }, context);

    // Assess
    expect(result).toMatchObject({ cycles: 1, published: ['codeintel', 'batches', 'batches_codeintel'], fleets: [] });
    const puts = cloudwatch.commandCalls(PutMetricDataCommand);
    expect(puts).toHaveLength(1);
    const dimensions = (queueName: string) => [
      { Name: 'queueName', Value: queueName },
      { Name: 'environment', Value: 'prod' },
    ];
    expect(puts[0]?.args[0].input).toEqual({
      Namespace: 'sourcegraph-executor',
      MetricData: [
        { MetricName: 'src_executors_queue_size', Dimensions: dimensions('codeintel'), Unit: 'Count', Value: 95 },
        { MetricName: 'src_executors_queue_size', Dimensions: dimensions('batches'), Unit: 'Count', Value: 7 },
        {
          MetricName: 'src_executors_queue_size',
          Dimensions: dimensions('batches_codeintel'),
          Unit: 'Count',
          Value: 102,
        },
      ],
    });
    expect(sourcegraph.emulator.requests.length).toBeLessThanOrEqual(2);
    expect(autoScaling.calls()).toHaveLength(0);
  });

  it('config mode: a direct fleet is resized at once, without honouring cooldowns', async () => {
    // Prepare
    const config = {
      environment: 'prod',
      sourcegraph: { endpoint: sourcegraph.url, token: TOKEN },
      fleets: [
        {
          name: 'codeintel',
          queues: ['codeintel'],
          mode: 'direct',
          target: { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'executors-codeintel' },
          jobsPerInstance: 10,
          maxInstances: 20,
        },
      ],
    };
    const handler = await importHandler({ FLEETPLANE_CONFIG: JSON.stringify(config) });

    // Act
    const result = await handler({ once: true }, context);

    // Assess
    expect(result).toMatchObject({
      fleets: [{ fleet: 'codeintel', status: 'ok', action: 'resized', reason: 'scale-out', current: 1, desired: 10 }],
    });
    expect(autoScaling.commandCalls(SetDesiredCapacityCommand).map((call) => call.args[0].input)).toEqual([
      { AutoScalingGroupName: 'executors-codeintel', DesiredCapacity: 10, HonorCooldown: false },
    ]);
    const decision = logged.map((line) => JSON.parse(line)).find((line) => line.message === 'fleet decision');
    expect(decision).toMatchObject({
      fleet: 'codeintel',
      mode: 'direct',
      depth: 95,
      current: 1,
      desired: 10,
      reason: 'scale-out',
    });
    expect(logged.join('')).not.toContain(TOKEN);
  });

  it('fails with every bad key named when the config is invalid, and never logs the token', async () => {
    // Prepare
    const handler = await importHandler({
      FLEETPLANE_CONFIG: JSON.stringify({
        sourcegraph: { endpoint: 'nope', token: TOKEN },
        fleets: [{ name: 'x' }],
        extra: 1,
      }),
    });

    // Act
    const run = handler({ once: true }, context);

    // Assess
    await expect(run).rejects.toThrow(/sourcegraph\.endpoint[\s\S]*fleets\[0\]\.queues[\s\S]*extra: unknown key/);
    await expect(run).rejects.not.toThrow(TOKEN);
    expect(logged.join('')).toContain('invocation failed');
    expect(logged.join('')).not.toContain(TOKEN);
  });

  it('fails the invocation when Sourcegraph rejects the token, so error alarms fire', async () => {
    // Prepare
    const handler = await importHandler({
      SRC_ENDPOINT: sourcegraph.url,
      SRC_ACCESS_TOKEN: 'sgp_wrong_token_0000000000000000000000',
      EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
    });

    // Act
    const run = handler({ once: true }, context);

    // Assess
    await expect(run).rejects.toThrow(/series codeintel not published: .*SourcegraphAuthError/);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    expect(logged.join('')).not.toContain('sgp_wrong_token');
  });
});
