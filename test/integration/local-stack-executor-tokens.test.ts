import {
  AutoScalingClient,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { awsClientConfig } from '../../local/aws/index.ts';
import { executorMetricsOf, LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack.ts';

/**
 * The local stack told where executors read their token: each VM reads the secret store as it launches, and
 * Sourcegraph's site configuration decides, over time, whether its executor gets in. A rotation done by hand (the
 * site configuration through GraphQL, the secret through the real SDK or the emulator's API) and a roll done by hand
 * show the rejected executors and the window in which they were.
 */

const START = Date.UTC(2026, 2, 2, 10);
const BOOT_MS = 8_000;
const LONG_JOB_MS = 30 * 60_000;
const AWS_SECRET = 'fleetplane/executor-token';
const GCP_SECRET = 'executor-token';
const ROTATED = 'rotated-executor-shared-secret-0123456789';
const GROUP = 'sourcegraph-executors-codeintel';

const siteConfigAnswer = z.object({
  data: z.object({ site: z.object({ configuration: z.object({ id: z.number(), effectiveContents: z.string() }) }) }),
});
const updateAnswer = z.object({ data: z.object({ updateSiteConfiguration: z.boolean() }) });
const executorsAnswer = z.object({
  data: z.object({ executors: z.object({ nodes: z.array(z.object({ hostname: z.string(), active: z.boolean() })) }) }),
});

describe('local stack: executors boot with the token in the secret store', () => {
  const time = { now: START };
  let stack: LocalStack;
  let asg: AutoScalingClient;
  let secrets: SecretsManagerClient;

  beforeEach(async () => {
    time.now = START;
    stack = await startLocalStack({
      clock: () => time.now,
      bootDelayMs: BOOT_MS,
      executorSecret: { aws: AWS_SECRET, gcp: { project: LOCAL_GCP_PROJECT, secret: GCP_SECRET } },
    });
    asg = new AutoScalingClient({ ...awsClientConfig(stack.autoScaling.emulator, LOCAL_REGION), maxAttempts: 1 });
    secrets = new SecretsManagerClient({
      ...awsClientConfig(stack.secretsManager.emulator, LOCAL_REGION),
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    asg.destroy();
    secrets.destroy();
    await stack.close();
  });

  const graphql = async <T extends z.ZodType>(answer: T, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${stack.sourcegraph.url}/.api/graphql`, {
      method: 'POST',
      headers: { authorization: `token ${LOCAL_SOURCEGRAPH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return answer.parse(await response.json());
  };
  /** What setSecret does: only `executors.accessToken` changes, the rest goes back as read, with `lastID`. */
  const switchSourcegraph = async (token: string) => {
    const read = await graphql(siteConfigAnswer, 'query { site { configuration { id effectiveContents } } }');
    const { id, effectiveContents } = read.data.site.configuration;
    await graphql(
      updateAnswer,
      'mutation Update($lastID: Int!, $input: String!) { updateSiteConfiguration(lastID: $lastID, input: $input) }',
      { lastID: id, input: effectiveContents.replace('"REDACTED"', JSON.stringify(token)) },
    );
  };
  const executorRows = async () =>
    (await graphql(executorsAnswer, 'query { executors(first: 50) { nodes { hostname active } } }')).data.executors
      .nodes;
  const testAuth = async (token: string) =>
    (
      await fetch(`${stack.sourcegraph.url}/.executors/test/auth`, {
        headers: { authorization: `token-executor ${token}` },
      })
    ).status;
  const scaleTo = (desired: number) =>
    asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: desired }));
  const groupKey = () => stack.autoScaling.group(GROUP)?.worldGroup ?? '';
  const instanceIds = () => stack.world.instances(groupKey()).map((instance) => instance.id);

  it('refuses the executors that booted with the old token from the switch until the roll replaces them', async () => {
    // Prepare: the secret holds Sourcegraph's token; two executors run eight long jobs
    await secrets.send(new CreateSecretCommand({ Name: AWS_SECRET, SecretString: LOCAL_EXECUTOR_TOKEN }));
    stack.world.enqueue('codeintel', 8, { durationMs: LONG_JOB_MS });
    await scaleTo(2);
    time.now += BOOT_MS;
    const old = instanceIds();
    const before = stack.world.depth('codeintel');

    // Act: rotate as the rotation does it (Sourcegraph first, then AWSCURRENT), a VM launching in between
    time.now += 60_000;
    await switchSourcegraph(ROTATED);
    const switchedAt = time.now;
    time.now += 5_000;
    await scaleTo(3);
    const between = instanceIds().find((id) => !old.includes(id)) ?? '';
    time.now += 5_000;
    await secrets.send(new PutSecretValueCommand({ SecretId: AWS_SECRET, SecretString: ROTATED }));
    await scaleTo(5);
    time.now += BOOT_MS;
    const afterRotation = {
      depth: stack.world.depth('codeintel'),
      rows: await executorRows(),
      metrics: executorMetricsOf(stack.world).map((metrics) => metrics.name),
      window: stack.world.rejectionWindow(),
    };
    // The roll: every VM that booted before the secret moved goes.
    await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: old[0], ShouldDecrementDesiredCapacity: true }),
    );
    time.now += 2_000;
    for (const id of [old[1] ?? '', between]) {
      await asg.send(
        new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true }),
      );
    }
    const rolledAt = time.now;

    // Assess: before, both executors ran four jobs each
    expect(before).toEqual({ queued: 0, processing: 8, errored: 0 });
    // The old executors lost their jobs at the switch; the two fresh ones took them
    const fresh = stack.world.instances(groupKey()).filter((instance) => ![...old, between].includes(instance.id));
    const freshNames = fresh.map((instance) => instance.executor?.name ?? '');
    expect(afterRotation.depth).toEqual({ queued: 0, processing: 8, errored: 0 });
    expect(stack.world.jobs().every((job) => job.interruptions === 1 && freshNames.includes(job.executor ?? ''))).toBe(
      true,
    );
    expect(stack.world.stats()).toMatchObject({ jobsLostToRejection: 8, jobsInterrupted: 8, executorsRejected: 3 });
    // Sourcegraph lists the old executors, inactive; the one that booted between the steps never heartbeated
    const byName = new Map(afterRotation.rows.map((row) => [row.hostname, row.active]));
    const nameOf = (id: string) => stack.world.instance(id)?.executor?.name ?? '';
    expect(afterRotation.rows).toHaveLength(4);
    expect(old.map((id) => byName.get(nameOf(id)))).toEqual([false, false]);
    expect(freshNames.map((name) => byName.get(name))).toEqual([true, true]);
    expect(byName.has(nameOf(between))).toBe(false);
    expect(afterRotation.metrics.toSorted()).toEqual(freshNames.toSorted());
    expect(afterRotation.window).toEqual({ from: switchedAt });
    // The window: from the switch until the last refused VM was gone
    expect(stack.world.rejections()).toEqual([
      { instance: old[0], executor: nameOf(old[0] ?? ''), from: switchedAt, to: rolledAt - 2_000 },
      { instance: old[1], executor: nameOf(old[1] ?? ''), from: switchedAt, to: rolledAt },
      { instance: between, executor: nameOf(between), from: switchedAt + 5_000 + BOOT_MS, to: rolledAt },
    ]);
    expect(stack.world.rejectionWindow()).toEqual({ from: switchedAt, to: rolledAt });
    // Sourcegraph's own account of the token, and its answers now
    expect(stack.sourcegraph.executorTokenHistory().map((change) => change.from)).toEqual([START, switchedAt]);
    expect(stack.sourcegraph.executorTokenRejectedSince(LOCAL_EXECUTOR_TOKEN)).toBe(switchedAt);
    expect(stack.sourcegraph.executorTokenAcceptedAt(LOCAL_EXECUTOR_TOKEN, switchedAt - 1)).toBe(true);
    expect([await testAuth(LOCAL_EXECUTOR_TOKEN), await testAuth(ROTATED)]).toEqual([401, 200]);
    expect(stack.secretsManager.currentValue(AWS_SECRET)).toBe(ROTATED);
  });

  it('has MIG VMs read the GCP secret: none before it exists, then its newest version', async () => {
    // Prepare: a VM launched before the secret exists boots with no token
    const zone = 'us-central1-a';
    const addGroup = (name: string) =>
      stack.compute.addGroup({ project: LOCAL_GCP_PROJECT, zone, name, targetSize: 1, queues: ['batches'] });
    const early = addGroup('early');
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, GCP_SECRET, LOCAL_EXECUTOR_TOKEN);
    const fleet = addGroup('fleet');
    time.now += BOOT_MS;
    const executorOf = (group: typeof fleet) => stack.world.instances(group.worldGroup)[0]?.executor;
    const beforeSwitch = executorOf(fleet)?.rejectedSince;

    // Act: the emulators' own APIs rotate, then a new group launches
    time.now += 30_000;
    stack.sourcegraph.setExecutorToken(ROTATED);
    const switchedAt = time.now;
    stack.secretManager.addVersion(LOCAL_GCP_PROJECT, GCP_SECRET, ROTATED);
    const rolled = addGroup('rolled');
    time.now += BOOT_MS;

    // Assess
    expect(executorOf(early)?.rejectedSince).toBe(START + BOOT_MS);
    expect(beforeSwitch).toBeUndefined();
    expect(executorOf(fleet)?.rejectedSince).toBe(switchedAt);
    expect(executorOf(rolled)?.rejectedSince).toBeUndefined();
    expect(stack.world.rejectionWindow()).toEqual({ from: START + BOOT_MS });
    expect(stack.secretManager.currentValue(LOCAL_GCP_PROJECT, GCP_SECRET)).toBe(ROTATED);
  });
});
