import * as z from 'zod';
import { normalizeAllocations, type RawAllocations } from '../domain/queue-metric.ts';
import { WORKER_SERIES } from '../domain/queues.ts';
import { ConfigError } from './errors.ts';
import { deepFreeze } from './freeze.ts';
import { describeIssues } from './issues.ts';
import { SecretValue } from './secret.ts';
import type { AwsStaticCredentials, Env, FleetplaneConfig } from './types.ts';

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

  const namespace = get('EXECUTOR_METRIC_AWS_NAMESPACE');
  if (namespace === undefined) {
    // The worker silently writes nothing when this is empty; for fleetplane that would be a function doing nothing.
    problems.push(
      'EXECUTOR_METRIC_AWS_NAMESPACE: required (the worker writes no metric without it; use sourcegraph-executor)',
    );
  }
  const region = get('EXECUTOR_METRIC_AWS_REGION') ?? get('AWS_REGION');
  if (region === undefined) {
    problems.push('EXECUTOR_METRIC_AWS_REGION: required (no AWS_REGION to default to)');
  }

  const credentials = staticCredentials(get, problems);
  const rawAllocations = parseAllocations(get('EXECUTOR_ALLOCATIONS'), problems);

  if (problems.length > 0 || endpoint === undefined || token === undefined || namespace === undefined || !region) {
    throw new ConfigError(source, problems);
  }
  const allocation = normalizeAllocations(rawAllocations, {
    aws: true,
    gcp: get('EXECUTOR_METRIC_GCP_PROJECT_ID') !== undefined,
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
    cloudwatch: { namespace, region, ...(credentials ? { credentials } : {}) },
    allocations: allocation.allocations,
    warnings: allocation.warnings,
    series: WORKER_SERIES,
    fleets: [],
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
