import * as z from 'zod';
import { isRecord } from '../domain/guards.ts';
import { DEFAULT_HEALTH } from '../domain/health.ts';
import { normalizeAllocations, type RawAllocations } from '../domain/queue-metric.ts';
import { WORKER_SERIES } from '../domain/queues.ts';
import { ConfigError } from './errors.ts';
import { deepFreeze } from './freeze.ts';
import { describeIssues } from './issues.ts';
import { SecretValue } from './secret.ts';
import type { AwsStaticCredentials, Env, FleetplaneConfig, GcpCredentials } from './types.ts';

/** The same validation the worker applies to `EXECUTOR_ALLOCATIONS`: known queues, `aws`/`gcp`, fractions in [0,1]. */
const allocationsJson = z.partialRecord(
  z.enum(['batches', 'codeintel']),
  z.partialRecord(z.enum(['aws', 'gcp']), z.number().min(0).max(1)),
);

/**
 * Drop-in mode: the worker's own variables (and src-cli's `SRC_ENDPOINT` / `SRC_ACCESS_TOKEN`) with the worker's
 * defaults, writing the worker's three series and resizing nothing.
 */
export function parseWorkerEnv(env: Env): FleetplaneConfig {
  const source = 'worker-env';
  const problems: string[] = [];
  const get = (key: string) => {
    const value = env[key]?.trim();
    return value === '' ? undefined : value;
  };

  const endpoint = get('SRC_ENDPOINT');
  if (endpoint === undefined) {
    problems.push('SRC_ENDPOINT: required (the Sourcegraph URL), or set FLEETPLANE_CONFIG');
  } else if (!z.url({ protocol: /^https?$/ }).safeParse(endpoint).success) {
    problems.push('SRC_ENDPOINT: must be an http(s) URL');
  }
  const token = get('SRC_ACCESS_TOKEN');
  if (token === undefined) {
    problems.push('SRC_ACCESS_TOKEN: required (a site-admin access token)');
  }

  // Each cloud's writer is on exactly when the worker's would be: AWS with a namespace, GCP with a project.
  const namespace = get('EXECUTOR_METRIC_AWS_NAMESPACE');
  const region = get('EXECUTOR_METRIC_AWS_REGION') ?? get('AWS_REGION');
  if (namespace !== undefined && region === undefined) {
    problems.push(
      'EXECUTOR_METRIC_AWS_REGION: required with EXECUTOR_METRIC_AWS_NAMESPACE (no AWS_REGION to default to)',
    );
  }
  const projectId = get('EXECUTOR_METRIC_GCP_PROJECT_ID');
  if (namespace === undefined && projectId === undefined) {
    // The worker silently writes nothing then; for fleetplane that would be a function doing nothing.
    problems.push(
      'EXECUTOR_METRIC_AWS_NAMESPACE or EXECUTOR_METRIC_GCP_PROJECT_ID: required (the worker writes no metric ' +
        'without one; the AWS namespace is sourcegraph-executor)',
    );
  }

  const credentials = staticCredentials(get, problems);
  const gcpCredentials = googleCredentials(get, problems);
  const rawAllocations = parseAllocations(get('EXECUTOR_ALLOCATIONS'), problems);

  if (problems.length > 0 || endpoint === undefined || token === undefined) {
    throw new ConfigError(source, problems);
  }
  const cloudwatch =
    namespace !== undefined && region !== undefined
      ? { namespace, region, ...(credentials ? { credentials } : {}) }
      : undefined;
  const allocation = normalizeAllocations(rawAllocations, {
    aws: cloudwatch !== undefined,
    gcp: projectId !== undefined,
  });
  return deepFreeze({
    source,
    environment: get('EXECUTOR_METRIC_ENVIRONMENT_LABEL') ?? 'dev',
    sourcegraph: {
      endpoint: endpoint.replace(/\/+$/, ''),
      token: { kind: 'value', value: new SecretValue(token) },
      timeoutMs: 10_000,
      maxAttempts: 3,
      maxBatchSpecs: 1000,
      batchSpecPageSize: 100,
    },
    ...(cloudwatch ? { cloudwatch } : {}),
    ...(projectId
      ? { cloudMonitoring: { projectId, ...(gcpCredentials ? { credentials: gcpCredentials } : {}) } }
      : {}),
    allocations: allocation.allocations,
    warnings: allocation.warnings,
    series: WORKER_SERIES,
    fleets: [],
    webhook: { auth: 'iam' },
    health: DEFAULT_HEALTH,
    pollIntervalSeconds: 10,
    invocationSeconds: 50,
  });
}

function staticCredentials(
  get: (key: string) => string | undefined,
  problems: string[],
): AwsStaticCredentials | undefined {
  const accessKeyId = get('EXECUTOR_METRIC_AWS_ACCESS_KEY_ID');
  const secretAccessKey = get('EXECUTOR_METRIC_AWS_SECRET_ACCESS_KEY');
  const sessionToken = get('EXECUTOR_METRIC_AWS_SESSION_TOKEN');
  if (accessKeyId === undefined) {
    // Like the worker: without an access key id the default credential chain is used, whatever else is set.
    return undefined;
  }
  if (secretAccessKey === undefined) {
    problems.push('EXECUTOR_METRIC_AWS_SECRET_ACCESS_KEY: required when EXECUTOR_METRIC_AWS_ACCESS_KEY_ID is set');
    return undefined;
  }
  return {
    accessKeyId,
    secretAccessKey: new SecretValue(secretAccessKey),
    ...(sessionToken ? { sessionToken: new SecretValue(sessionToken) } : {}),
  };
}

/**
 * The worker's order: a credentials file, else the file's content (Terraform's `metric_writer_credentials_file`
 * output, base64-decoded), else Application Default Credentials.
 */
function googleCredentials(get: (key: string) => string | undefined, problems: string[]): GcpCredentials | undefined {
  const path = get('EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE');
  if (path !== undefined) {
    return { kind: 'file', path };
  }
  const content = get('EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT');
  if (content === undefined) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    // Not quoted back: the text is a private key.
    problems.push(
      'EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT: not JSON (decode the Terraform output from base64)',
    );
    return undefined;
  }
  if (!isRecord(parsed)) {
    problems.push('EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT: must be a service-account key object');
    return undefined;
  }
  return { kind: 'content', json: new SecretValue(content) };
}

function parseAllocations(text: string | undefined, problems: string[]): RawAllocations {
  if (text === undefined) {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push('EXECUTOR_ALLOCATIONS: not valid JSON (expected {"<queue>": {"aws": 0..1, "gcp": 0..1}})');
    return {};
  }
  const parsed = allocationsJson.safeParse(json);
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error.issues).map((p) => `EXECUTOR_ALLOCATIONS.${p}`));
    return {};
  }
  return parsed.data;
}
