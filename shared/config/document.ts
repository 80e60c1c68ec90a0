import * as z from 'zod';
import { MODES, SCALE_IN_MODES } from '../domain/fleet.ts';
import { DEFAULT_HEALTH } from '../domain/health.ts';
import { PAUSES } from '../domain/policy.ts';
import { CLOUDS } from '../domain/queue-metric.ts';
import { QUEUE_NAMES } from '../domain/queues.ts';
import { VICTIM_ORDERS } from '../domain/scale-in.ts';

/**
 * The config document (YAML or JSON). Objects are strict so a misspelt key is an error, not a silently ignored
 * setting. Defaults mirror Sourcegraph's Terraform modules where one exists.
 */

const queueName = z.enum(QUEUE_NAMES);

/** CloudWatch and EC2 Auto Scaling region names, e.g. `us-east-1`, `us-gov-west-1`. */
const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region name such as us-east-1');

const awsTarget = z.strictObject({
  cloud: z.literal('aws'),
  region: awsRegion,
  // Auto Scaling group names: 1-255 characters, no colon (a colon would make it an ARN).
  autoScalingGroup: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^:]+$/, 'must be a group name, not an ARN'),
});

/** GCP names: project ids, zones (`us-central1-a`), regions (`us-central1`), RFC 1035 resource names. */
const gcpProject = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id such as my-project');
const gcpZone = z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a GCE zone such as us-central1-a');
const gcpRegion = z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'must be a GCE region such as us-central1');
const gcpTarget = z
  .strictObject({
    cloud: z.literal('gcp'),
    project: gcpProject,
    zone: gcpZone.optional(),
    region: gcpRegion.optional(),
    instanceGroupManager: z
      .string()
      .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a managed instance group name'),
  })
  .refine((target) => (target.zone === undefined) !== (target.region === undefined), {
    message: 'give exactly one of zone (a zonal group) or region (a regional group)',
  });

/** A count of instances (`2`) or a percentage of the group (`25%`). */
const rollQuantity = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^(100|[1-9]?\d)%$/, 'must be a count such as 2 or a percentage such as 25%'),
]);

/** A Secret Manager secret version, as secrets read once (the token, the webhook key) are named. */
const gcpSecretVersion = z
  .string()
  .regex(
    /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/,
    'must be projects/<project>/secrets/<secret>/versions/<version or latest>',
  );

const fleet = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, dot, dash or underscore'),
  queues: z.array(queueName).min(1).max(QUEUE_NAMES.length),
  mode: z.enum(MODES),
  target: z.discriminatedUnion('cloud', [awsTarget, gcpTarget]).optional(),
  jobsPerInstance: z.number().int().positive(),
  minInstances: z.number().int().nonnegative().default(0),
  maxInstances: z.number().int().positive(),
  scaleInWindowSeconds: z.number().int().min(60).max(86_400).default(600),
  scaleIn: z
    .strictObject({
      /** Default: `busy-signal` when `busySignal` is configured, `attrition` otherwise; never `resize`. */
      mode: z.enum(SCALE_IN_MODES).optional(),
      order: z.enum(VICTIM_ORDERS).default('oldest-first'),
      maxStep: z.number().int().positive().optional(),
      /** At most this many instances removed within one `scaleInWindowSeconds`, however many cycles it spans. */
      maxPerWindow: z.number().int().positive().optional(),
    })
    .optional(),
  scaleOut: z.strictObject({ maxStep: z.number().int().positive().optional() }).optional(),
  /** Extra warm instances kept while any job exists. */
  idleBuffer: z.number().int().nonnegative().default(0),
  pause: z.enum(PAUSES).default('none'),
  /** Spreads this fleet's cloud calls over up to this many seconds of each cycle, the same offset every time. */
  jitterSeconds: z.number().min(0).max(30).default(0),
  /**
   * How the group is rolled after the executor secret is rotated, so every instance boots with the new token; `false`
   * leaves its instances alone (they are refused until replaced some other way). Default: all at once, no surge.
   */
  roll: z
    .union([
      z.literal(false),
      z.strictObject({ maxUnavailable: rollQuantity.default('100%'), maxSurge: rollQuantity.default(0) }),
    ])
    .optional(),
  schedules: z
    .array(
      z.strictObject({
        cron: z.string().min(1),
        timezone: z.string().min(1),
        minInstances: z.number().int().nonnegative().optional(),
        idleBuffer: z.number().int().nonnegative().optional(),
      }),
    )
    .max(50)
    .optional(),
});

const allocations = z.partialRecord(queueName, z.partialRecord(z.enum(CLOUDS), z.number().min(0).max(1)));

export const configDocument = z.strictObject({
  /** The metric's `environment` dimension: must equal Terraform's `metrics_environment_label`. */
  // Every metric, alarm name and query carries it: 255 characters keeps all of them within their limits.
  environment: z.string().min(1).max(255).default('dev'),
  sourcegraph: z.strictObject({
    endpoint: z.url({ protocol: /^https?$/ }),
    token: z.string().min(1).optional(),
    tokenSecret: z
      .union([
        z.strictObject({ awsSecretsManager: z.string().min(1), jsonKey: z.string().min(1).optional() }),
        z.strictObject({
          gcpSecretManager: gcpSecretVersion,
        }),
      ])
      .optional(),
    timeoutSeconds: z.number().positive().max(60).default(10),
    maxAttempts: z.number().int().min(1).max(10).default(3),
    // Sourcegraph refuses `first` above 10000 on its batch connections, and the remainder is fetched in one page.
    maxBatchSpecs: z.number().int().positive().max(10_000).default(1000),
    batchSpecPageSize: z.number().int().min(1).max(1000).default(100),
  }),
  /**
   * Where the queue-size metric goes. With neither key, CloudWatch with the worker's namespace (the AWS default);
   * naming only `cloudMonitoring` makes a GCP-only deployment.
   */
  metrics: z
    .strictObject({
      cloudwatch: z
        .strictObject({
          namespace: z.string().min(1).max(255).default('sourcegraph-executor'),
          region: awsRegion.optional(),
        })
        .optional(),
      cloudMonitoring: z.strictObject({ projectId: gcpProject }).optional(),
    })
    .default({}),
  allocations: allocations.default({}),
  /**
   * Where the executors' running jobs are read for busy-aware scale-in: the worker's executor metrics endpoint
   * (`executors-metricsserver`, port 6996 by default), e.g. `http://sourcegraph-worker:6996/metrics`.
   */
  busySignal: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }),
      timeoutSeconds: z.number().positive().max(30).default(5),
    })
    .optional(),
  /** The executors' shared secret (`executors.accessToken`), which `rotate` replaces: exactly one store. */
  executorSecret: z
    .union([
      z.strictObject({
        awsSecretsManager: z.string().min(1),
        tokenLength: z.number().int().min(20).max(256).default(40),
      }),
      z.strictObject({
        gcpSecretManager: z
          .string()
          .regex(/^projects\/[^/]+\/secrets\/[^/]+$/, 'must be projects/<project>/secrets/<secret> (no version)'),
        tokenLength: z.number().int().min(20).max(256).default(40),
      }),
    ])
    .optional(),
  /**
   * How the health webhook (`GET /health`, `POST /rotate`) authenticates callers: `iam` (the platform does: an AWS
   * function URL with AWS_IAM, a GCP function without public invokers) or `hmac` (a signed timestamp and body; the
   * secret's value is the key, or the current and previous keys separated by white space while the key is rotated).
   */
  webhook: z
    .discriminatedUnion('auth', [
      z.strictObject({ auth: z.literal('iam') }),
      z.strictObject({
        auth: z.literal('hmac'),
        secret: z.union([
          z.strictObject({ awsSecretsManager: z.string().min(1) }),
          z.strictObject({
            gcpSecretManager: gcpSecretVersion,
          }),
        ]),
        toleranceSeconds: z.number().int().min(30).max(900).default(300),
      }),
    ])
    .default({ auth: 'iam' }),
  /** How fleet health judges instances, and how many broken ones a run may replace (direct fleets only). */
  health: z
    .strictObject({
      /** Executors take a few minutes to start on a fresh VM. */
      graceSeconds: z
        .number()
        .int()
        .min(60)
        .max(86_400)
        .default(DEFAULT_HEALTH.graceMs / 1000),
      /** Executors heartbeat every 5 s; a few minutes of silence is a dead executor, not a blip. */
      staleSeconds: z
        .number()
        .int()
        .min(30)
        .max(86_400)
        .default(DEFAULT_HEALTH.staleMs / 1000),
      maxReplacementsPerRun: z.number().int().min(0).max(100).default(DEFAULT_HEALTH.maxReplacementsPerRun),
      maxReplacementFraction: z.number().gt(0).max(1).default(DEFAULT_HEALTH.maxReplacementFraction),
    })
    .prefault({}),
  pollIntervalSeconds: z.number().int().min(1).max(60).default(10),
  invocationSeconds: z.number().int().min(1).max(840).default(50),
  fleets: z.array(fleet).min(1),
});

export type ConfigDocument = z.infer<typeof configDocument>;
export type FleetDocument = z.infer<typeof fleet>;
