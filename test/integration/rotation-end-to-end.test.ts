import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsClientConfig } from '../../local/aws/index.ts';
import { LOCAL_EXECUTOR_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { FleetRoll } from '../../shared/app/fleet-roll.ts';
import { type RotationReport, type RotationRuntime, rotateExecutorSecret } from '../../shared/app/rotation.ts';
import { createAwsRotationRuntime } from '../../shared/aws/rotation-deps.ts';
import { createGcpRotationRuntime } from '../../shared/gcp/rotation-deps.ts';

/**
 * The whole rotation on each cloud against the local stack, through the real composition roots and SDK clients:
 * executors boot with the token the secret store holds, Sourcegraph's site configuration (with comments) takes the new
 * one, the secret is promoted, and the fleet is rolled (ASG instance refresh, MIG rolling replace) until every
 * executor runs with the new token. The world measures, from the executors' side, when they were refused; the report
 * must agree with it.
 */

const START = Date.UTC(2026, 10, 28, 9, 0, 0);
const BOOT_MS = 8_000;
const JOB_MS = 20 * 60_000;
const AWS_SECRET = 'fleetplane/executor-token';
const GCP_SECRET = 'executor-token';
const ZONE = 'us-central1-a';
const POLL_MS = 15_000;
const MIG = 'sourcegraph-executors';
const SITE_CONFIG = `{
  // Set by hand in 2024; rotated by fleetplane since.
  "externalURL": "https://sourcegraph.example.com",
  /* The executors' shared secret: fleetplane owns this value. */
  "executors.accessToken": "${LOCAL_EXECUTOR_TOKEN}",
  "executors.frontendURL": "https://sourcegraph.internal", // what executors dial
  "auth.providers": [{ "type": "builtin" }],
}
`;

describe('rotation end to end on the local stack', () => {
  const time = { now: START };
  let stack: LocalStack;
  let logs: string[];

  beforeEach(async () => {
    time.now = START;
    logs = [];
    stack = await startLocalStack({
      clock: () => time.now,
      bootDelayMs: BOOT_MS,
      executorSecret: { aws: AWS_SECRET, gcp: { project: LOCAL_GCP_PROJECT, secret: GCP_SECRET } },
    });
    stack.sourcegraph.setSiteConfig(SITE_CONFIG);
    // The AWS SDK reads endpoints and credentials from the process environment: point it at the stack, nowhere else.
    for (const [name, value] of Object.entries(stack.env())) {
      vi.stubEnv(name, value);
    }
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await stack.close();
  });

  /** Runs `work` with the function logger's stdout lines captured, to scan them for tokens. */
  const capturingLogs = async <T>(work: () => Promise<T>): Promise<T> => {
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      return await work();
    } finally {
      process.stdout.write = write;
    }
  };

  /** The runtime the rotate function builds, on the test's clock; sleeping moves simulated time on. */
  const runtimeOf = (
    build: typeof createAwsRotationRuntime,
    config: object,
    extraEnv: Record<string, string> = {},
  ): Promise<RotationRuntime> =>
    capturingLogs(() =>
      build(
        { ...stack.env(), ...extraEnv, FLEETPLANE_CONFIG: JSON.stringify(config), FLEETPLANE_LOG_LEVEL: 'info' },
        () => time.now,
        async (ms) => {
          time.now += ms;
        },
      ),
    );

  const rotate = (runtime: RotationRuntime): Promise<RotationReport> =>
    capturingLogs(() =>
      rotateExecutorSecret(
        runtime.deps,
        {},
        { tokenLength: runtime.tokenLength, rollUntil: time.now + 60 * 60_000, rollPollMs: POLL_MS },
      ),
    );

  /** Boots the fleet's executors with the old token and gives them work. */
  const warmUp = () => {
    time.now += BOOT_MS + 1_000;
    stack.world.enqueue('codeintel', 6, { durationMs: JOB_MS });
    time.now += 5_000;
    const running = stack.world.executors().filter((executor) => executor.running.size > 0);
    expect(running.length).toBeGreaterThan(0);
  };

  /** What must hold after any cloud's rotation: Sourcegraph, the secret and every executor on the new token. */
  const assertRotated = (report: RotationReport, roll: FleetRoll, group: string, before: readonly string[]) => {
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    // Only the token changed in the site configuration; comments and layout are kept.
    expect(stack.sourcegraph.siteConfig().contents).toBe(SITE_CONFIG.replace(LOCAL_EXECUTOR_TOKEN, token));
    expect(report.steps.map((step) => step.outcome)).toEqual(['done', 'done', 'done', 'done']);

    // The roll replaced every instance, and it ended.
    expect(roll).toMatchObject({ outcome: 'started', roll: { state: 'succeeded', remaining: 0 } });
    const after = stack.world
      .instances(group)
      .filter((instance) => instance.state === 'running')
      .map((instance) => instance.id);
    expect(after).toHaveLength(before.length);
    expect(after.filter((id) => before.includes(id))).toEqual([]);

    // From the executors' side: refused from the switch until the last old instance went, and no longer.
    const measured = stack.world.rejectionWindow();
    expect(measured?.from).toBe(report.switchedAt);
    expect(measured?.to).toBeDefined();
    expect(roll.outcome !== 'failed' && roll.rejectionWindow).toMatchObject({ from: report.switchedAt });
    // The report sees the last old instance gone at the first poll after it went.
    const reported = roll.outcome === 'failed' ? undefined : roll.rejectionWindow;
    expect(reported?.basis).toBe('instances');
    const lag = (reported?.until ?? Number.NaN) - (measured?.to ?? Number.NaN);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual(POLL_MS);
    expect(stack.world.rejections().every((rejection) => rejection.to !== undefined)).toBe(true);

    // The new executors took the work back and finish it.
    time.now += JOB_MS + 60_000;
    const stats = stack.world.stats();
    expect(stats.jobsLostToRejection).toBeGreaterThan(0);
    expect(stack.world.depth('codeintel')).toEqual({ queued: 0, processing: 0, errored: 0 });

    // No token, old or new, in anything the rotation logged.
    const output = logs.join('');
    expect(output).toContain('fleet roll progress');
    expect(output).not.toContain(token);
    expect(output).not.toContain(LOCAL_EXECUTOR_TOKEN);
  };

  it('AWS: Secrets Manager, the site configuration and an ASG instance refresh', async () => {
    // Prepare: three executors of the codeintel fleet running jobs with the old token
    stack.secretsManager.createSecret(AWS_SECRET, LOCAL_EXECUTOR_TOKEN);
    const asg = new AutoScalingClient({ ...awsClientConfig(stack.autoScaling.emulator, LOCAL_REGION), maxAttempts: 1 });
    const group = 'sourcegraph-executors-codeintel';
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 3 }));
    asg.destroy();
    warmUp();
    const before = stack.world.instances(`aws:${LOCAL_REGION}:${group}`).map((instance) => instance.id);
    const runtime = await runtimeOf(createAwsRotationRuntime, {
      ...stack.config(),
      executorSecret: { awsSecretsManager: AWS_SECRET },
    });

    // Act
    const report = await rotate(runtime);

    // Assess
    const current = stack.secretsManager.versions(AWS_SECRET).find((v) => v.stages.includes('AWSCURRENT'));
    expect(current?.secretString).toBe(stack.sourcegraph.executorToken());
    const roll = report.rolls.find((candidate) => candidate.fleet === 'codeintel');
    expect(roll).toBeDefined();
    assertRotated(report, roll as FleetRoll, `aws:${LOCAL_REGION}:${group}`, before);
  });

  it('GCP: Secret Manager, the site configuration and a MIG rolling replace', async () => {
    // Prepare: a zonal MIG of three executors running jobs with the old token
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, GCP_SECRET, LOCAL_EXECUTOR_TOKEN);
    stack.compute.addGroup({ project: LOCAL_GCP_PROJECT, zone: ZONE, name: MIG, targetSize: 3, queues: ['codeintel'] });
    warmUp();
    const key = `gcp:${LOCAL_GCP_PROJECT}:${ZONE}:${MIG}`;
    const before = stack.world.instances(key).map((instance) => instance.id);
    const config = {
      ...stack.config(),
      metrics: { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
      fleets: [
        {
          name: 'gce-codeintel',
          queues: ['codeintel'],
          mode: 'direct',
          target: { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone: ZONE, instanceGroupManager: MIG },
          jobsPerInstance: 4,
          maxInstances: 6,
          roll: { maxUnavailable: 1 },
        },
      ],
      executorSecret: { gcpSecretManager: `projects/${LOCAL_GCP_PROJECT}/secrets/${GCP_SECRET}` },
    };
    const runtime = await runtimeOf(createGcpRotationRuntime, config, {
      FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: stack.secretManager.emulator.url,
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: stack.compute.emulator.url,
    });

    // Act
    const report = await rotate(runtime);

    // Assess: one VM at a time, as the fleet's settings say
    expect(stack.secretManager.currentValue(LOCAL_GCP_PROJECT, GCP_SECRET)).toBe(stack.sourcegraph.executorToken());
    const [roll] = report.rolls;
    expect(report.rolls).toHaveLength(1);
    assertRotated(report, roll as FleetRoll, key, before);
  });
});
