import type { Fleet } from '../domain/fleet.ts';
import type { HealthSettings } from '../domain/health.ts';
import type { Allocations } from '../domain/queue-metric.ts';
import type { SeriesName } from '../domain/queues.ts';
import type { SecretSource, SecretValue } from './secret.ts';

/** Environment variables as the process sees them. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface AwsStaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: SecretValue;
  readonly sessionToken?: SecretValue;
}

export interface CloudWatchSettings {
  readonly namespace: string;
  readonly region: string;
  /** The worker's `EXECUTOR_METRIC_AWS_*` keys; absent = the function's own role (default credential chain). */
  readonly credentials?: AwsStaticCredentials;
}

/** The worker's `EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE` / `_FILE_CONTENT`. */
export type GcpCredentials =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'content'; readonly json: SecretValue };

export interface CloudMonitoringSettings {
  readonly projectId: string;
  /** Absent: Application Default Credentials (the function's service account). */
  readonly credentials?: GcpCredentials;
}

export interface SourcegraphSettings {
  readonly endpoint: string;
  readonly token: SecretSource;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxBatchSpecs: number;
  readonly batchSpecPageSize: number;
}

export interface BusySignalSettings {
  readonly url: string;
  readonly timeoutMs: number;
}

/** Where the executors' shared secret lives, and how long a new token is. */
export interface ExecutorSecretSettings {
  readonly store:
    | { readonly kind: 'aws-secrets-manager'; readonly secretId: string }
    /** `projects/<p>/secrets/<s>`: versions are chosen by alias. */
    | { readonly kind: 'gcp-secret-manager'; readonly name: string };
  readonly tokenLength: number;
}

/** How the health webhook authenticates callers. */
export type WebhookSettings =
  | { readonly auth: 'iam' }
  | { readonly auth: 'hmac'; readonly secret: SecretSource; readonly toleranceSeconds: number };

/** The whole configuration, parsed once per cold start and frozen. */
export interface FleetplaneConfig {
  /** Where it came from, for logs: `worker-env`, `inline`, `file:<path>`, `ssm:<name>`. */
  readonly source: string;
  readonly environment: string;
  readonly sourcegraph: SourcegraphSettings;
  /** Absent when the deployment writes no CloudWatch metric (GCP only, or no AWS region known). */
  readonly cloudwatch?: CloudWatchSettings;
  readonly cloudMonitoring?: CloudMonitoringSettings;
  /** Where busy-aware scale-in reads the executors' running jobs; absent when the document names none. */
  readonly busySignal?: BusySignalSettings;
  /** The executors' shared secret, for rotation; absent when the document names none. */
  readonly executorSecret?: ExecutorSecretSettings;
  readonly webhook: WebhookSettings;
  /** How fleet health judges instances and how many broken ones a run may replace. */
  readonly health: HealthSettings;
  readonly allocations: Allocations;
  /** Allocation notes the worker would log (forced zeros, 100% to both clouds). */
  readonly warnings: readonly string[];
  /** The series written each cycle: the worker's three in drop-in mode, else those the fleets use. */
  readonly series: readonly SeriesName[];
  readonly fleets: readonly Fleet[];
  /** Seconds between cycles inside one invocation. */
  readonly pollIntervalSeconds: number;
  /** Seconds one scheduled invocation keeps polling before it returns (the next one starts on schedule). */
  readonly invocationSeconds: number;
}
