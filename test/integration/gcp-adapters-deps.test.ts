import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { invokeScale } from '../../shared/app/scale-invocation.ts';
import { ConfigError } from '../../shared/config/index.ts';
import { createGcpScaleRuntime } from '../../shared/gcp/deps.ts';

const zone = 'us-central1-a';
const TOKEN_VERSION = `projects/${LOCAL_GCP_PROJECT}/secrets/sourcegraph-token/versions/latest`;

describe('createGcpScaleRuntime wired to the local stack through the endpoint variables', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ bootDelayMs: 60_000 });
  });
  afterEach(async () => {
    await stack.close();
  });

  const env = (config: object, more: Record<string, string> = {}) => ({
    FLEETPLANE_CONFIG: JSON.stringify(config),
    FLEETPLANE_LOG_LEVEL: 'error',
    FLEETPLANE_GCP_MONITORING_ENDPOINT: stack.monitoring.emulator.url,
    FLEETPLANE_GCP_COMPUTE_ENDPOINT: stack.compute.emulator.url,
    FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: stack.secretManager.emulator.url,
    ...more,
  });
  const config = (overrides: object = {}) => ({
    environment: 'local',
    sourcegraph: { endpoint: stack.sourcegraph.url, tokenSecret: { gcpSecretManager: TOKEN_VERSION } },
    metrics: { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
    fleets: [
      {
        name: 'codeintel',
        queues: ['codeintel'],
        mode: 'direct',
        target: { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone, instanceGroupManager: 'executors-codeintel' },
        jobsPerInstance: 4,
        maxInstances: 10,
        scaleIn: { mode: 'attrition' },
      },
    ],
    ...overrides,
  });

  it('reads the token from Secret Manager, publishes to Cloud Monitoring and resizes the MIG in one cycle', async () => {
    // Prepare
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, 'sourcegraph-token', `${LOCAL_SOURCEGRAPH_TOKEN}\n`);
    stack.compute.addGroup({
      project: LOCAL_GCP_PROJECT,
      zone,
      name: 'executors-codeintel',
      targetSize: 0,
      queues: ['codeintel'],
    });
    stack.world.enqueue('codeintel', 10);
    const runtime = await createGcpScaleRuntime(env(config()));

    // Act
    await invokeScale(runtime, { once: true, remainingMs: 30_000 });

    // Assess
    expect(runtime.settings).toMatchObject({ cloud: 'gcp', fleets: [{ name: 'codeintel' }] });
    expect(stack.compute.group(LOCAL_GCP_PROJECT, zone, 'executors-codeintel')?.targetSize()).toBe(3);
    // fleetplane's own cycle series are written beside the worker's; only the worker's is checked here.
    const workerSeries = stack.monitoring
      .series()
      .filter((series) => series.metric.type.startsWith('custom.googleapis.com/executors/'));
    expect(workerSeries).toEqual([
      expect.objectContaining({
        metric: {
          type: 'custom.googleapis.com/executors/queue/size',
          labels: { queueName: 'codeintel', environment: 'local' },
        },
        points: [expect.objectContaining({ value: { type: 'INT64', value: 10n } })],
      }),
    ]);
    expect(stack.secretManager.emulator.requests.map((r) => r.status)).toEqual([200]);
  });

  it.each([
    ['no Cloud Monitoring project', { metrics: {} }, {}, /metrics.cloudMonitoring/],
    [
      'a token in AWS Secrets Manager',
      { sourcegraph: { endpoint: 'http://127.0.0.1:1', tokenSecret: { awsSecretsManager: 'token' } } },
      {},
      /reads its token from Secret Manager/,
    ],
    ['an empty function timeout', {}, { FLEETPLANE_TIMEOUT_SECONDS: '' }, /FLEETPLANE_TIMEOUT_SECONDS: "" is not/],
    ['a function timeout that is no number', {}, { FLEETPLANE_TIMEOUT_SECONDS: '60s' }, /FLEETPLANE_TIMEOUT_SECONDS/],
    [
      'a malformed endpoint override',
      {},
      { FLEETPLANE_GCP_COMPUTE_ENDPOINT: 'ftp://x' },
      /FLEETPLANE_GCP_COMPUTE_ENDPOINT/,
    ],
  ])('refuses %s with a ConfigError', async (_, overrides, variables, message) => {
    // Act
    const runtime = createGcpScaleRuntime(env(config(overrides), variables));

    // Assess
    await expect(runtime).rejects.toBeInstanceOf(ConfigError);
    await expect(runtime).rejects.toThrow(message);
  });

  it('refuses a config in SSM Parameter Store: it is AWS-only', async () => {
    // Act
    const runtime = createGcpScaleRuntime({ FLEETPLANE_CONFIG_SSM_PARAMETER: '/fleetplane/config' });

    // Assess
    await expect(runtime).rejects.toBeInstanceOf(ConfigError);
    await expect(runtime).rejects.toThrow(/AWS-only/);
  });

  it('refuses metric credentials content without a usable key, without quoting it', async () => {
    // Prepare: the worker's drop-in variables
    const secret = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----abc"}';
    const workerEnv = {
      EXECUTOR_METRIC_GCP_PROJECT_ID: LOCAL_GCP_PROJECT,
      EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT: secret,
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'local',
      SRC_ENDPOINT: stack.sourcegraph.url,
      SRC_ACCESS_TOKEN: LOCAL_SOURCEGRAPH_TOKEN,
      FLEETPLANE_LOG_LEVEL: 'error',
    };

    // Act
    const error = await createGcpScaleRuntime(workerEnv).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(/expected a service account key \(client_email, private_key\)/);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error ?? {})) + String(error)).not.toContain(
      'BEGIN PRIVATE',
    );
  });
});
