import type { Mode, ScaleInMode } from '../shared/domain/fleet.ts';
import type { QueueName } from '../shared/domain/queues.ts';
import type { Clock } from '../shared/ports/clock.ts';
import {
  type AutoScalingEmulator,
  awsEndpointEnv,
  type CloudWatchEmulator,
  type Ec2Emulator,
  type SecretsManagerEmulator,
  startAutoScalingEmulator,
  startCloudWatchEmulator,
  startEc2Emulator,
  startSecretsManagerEmulator,
} from './aws/index.ts';
import {
  type ComputeEmulator,
  type MonitoringEmulator,
  type SecretManagerEmulator,
  startComputeEmulator,
  startMonitoringEmulator,
  startSecretManagerEmulator,
} from './gcp/index.ts';
import {
  LOCAL_SOURCEGRAPH_TOKEN,
  type SourcegraphEmulator,
  startSourcegraphEmulator,
  startWorkerMetricsEmulator,
  type WorkerMetricsEmulator,
} from './sourcegraph/index.ts';
import { tokenInEffect } from './world/executor-tokens.ts';
import { createWorld, type ExecutorAuth, type World } from './world/world.ts';

/** One executor fleet of the local stack: an Auto Scaling group and the fleet config that drives it. */
export interface LocalFleet {
  readonly fleet: string;
  readonly group: string;
  readonly queues: readonly QueueName[];
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly jobsPerInstance: number;
  readonly mode: Mode;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_GCP_PROJECT = 'fleetplane-local';
export const LOCAL_ENVIRONMENT = 'local';

/** Two empty fleets, one per queue, sized like small real ones (an executor runs 4 jobs at once here). */
export const DEFAULT_LOCAL_FLEETS: readonly LocalFleet[] = [
  {
    fleet: 'codeintel',
    group: 'sourcegraph-executors-codeintel',
    queues: ['codeintel'],
    min: 0,
    max: 10,
    desired: 0,
    jobsPerInstance: 4,
    mode: 'direct',
  },
  {
    fleet: 'batches',
    group: 'sourcegraph-executors-batches',
    queues: ['batches'],
    min: 0,
    max: 6,
    desired: 0,
    jobsPerInstance: 4,
    mode: 'direct',
  },
];

export interface LocalStackOptions {
  readonly clock?: Clock;
  readonly fleets?: readonly LocalFleet[];
  readonly bootDelayMs?: number;
  readonly jobDurationMs?: number;
  readonly maxJobsPerExecutor?: number;
  /** Executors retire after this many jobs (`EXECUTOR_NUM_TOTAL_JOBS`); default never. */
  readonly retireAfterJobs?: number;
  /** Executors retire this many milliseconds after they start taking jobs (`EXECUTOR_MAX_ACTIVE_TIME`); default never. */
  readonly retireAfterMs?: number;
  /**
   * Uniform in [0, 1): executor names, instance ids and MIG instance names are drawn from it, so a fixed one makes a
   * run repeatable. Default: random.
   */
  readonly random?: () => number;
  /**
   * Where executors read their token at boot. When set, each VM reads it as it launches (an Auto Scaling instance
   * from the AWS secret's AWSCURRENT, a MIG instance from the GCP secret's `current` alias, else its newest enabled
   * version), and Sourcegraph's token history decides whether its executor is accepted; a secret that does not exist
   * (yet) or holds nothing leaves the executor with no token, refused. A cloud with no secret named here has its
   * executors configured by hand with the token Sourcegraph held when the VM launched. Unset: every executor is
   * accepted, whatever happens to the token.
   */
  readonly executorSecret?: LocalExecutorSecret;
}

export interface LocalExecutorSecret {
  /** The Secrets Manager secret's name or ARN. */
  readonly aws?: string;
  /** The Secret Manager secret `projects/<project>/secrets/<secret>`. */
  readonly gcp?: { readonly project: string; readonly secret: string };
}

export interface LocalStack {
  readonly world: World;
  readonly fleets: readonly LocalFleet[];
  readonly sourcegraph: SourcegraphEmulator;
  /** The worker's executor metrics (`src_executor_processor_handlers` per executor): the busy signal. */
  readonly workerMetrics: WorkerMetricsEmulator;
  readonly autoScaling: AutoScalingEmulator;
  /** DescribeInstances over the world's VMs: the host names busy-aware scale-in matches executors by. */
  readonly ec2: Ec2Emulator;
  readonly cloudWatch: CloudWatchEmulator;
  readonly secretsManager: SecretsManagerEmulator;
  readonly monitoring: MonitoringEmulator;
  readonly compute: ComputeEmulator;
  readonly secretManager: SecretManagerEmulator;
  /** The variables that point the real functions and SDK clients at this stack, and nowhere else. */
  env(): Record<string, string>;
  /** A fleetplane config document for this stack's fleets. */
  config(overrides?: {
    readonly pollIntervalSeconds?: number;
    readonly invocationSeconds?: number;
    readonly scaleInWindowSeconds?: number;
    readonly scaleIn?: ScaleInMode;
  }): object;
  close(): Promise<void>;
}

/** Sourcegraph, AWS and GCP on 127.0.0.1, sharing one simulated world of jobs, VMs and executors. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const clock = options.clock ?? Date.now;
  const fleets = options.fleets ?? DEFAULT_LOCAL_FLEETS;
  const world = createWorld({
    clock,
    bootDelayMs: options.bootDelayMs ?? 8_000,
    jobDurationMs: options.jobDurationMs ?? 10_000,
    maxJobsPerExecutor: options.maxJobsPerExecutor ?? 4,
    ...(options.retireAfterJobs === undefined ? {} : { retireAfterJobs: options.retireAfterJobs }),
    ...(options.retireAfterMs === undefined ? {} : { retireAfterMs: options.retireAfterMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const random = options.random === undefined ? {} : { random: options.random };
  const started: { close(): Promise<void> }[] = [];
  const track = <T extends { readonly emulator: { close(): Promise<void> } }>(service: T): T => {
    started.push(service.emulator);
    return service;
  };
  try {
    const sourcegraph = track(await startSourcegraphEmulator({ world, clock }));
    const workerMetrics = track(await startWorkerMetricsEmulator({ world, clock }));
    const autoScaling = track(await startAutoScalingEmulator({ world, clock, region: LOCAL_REGION, ...random }));
    const ec2 = track(await startEc2Emulator({ world, clock, region: LOCAL_REGION }));
    const cloudWatch = track(await startCloudWatchEmulator({ clock }));
    const secretsManager = track(await startSecretsManagerEmulator({ clock, region: LOCAL_REGION }));
    const monitoring = track(await startMonitoringEmulator({ clock }));
    const compute = track(await startComputeEmulator({ world, clock, ...random }));
    const secretManager = track(await startSecretManagerEmulator({ clock }));
    // Before any group launches a VM, so every VM of the stack reads its token.
    if (options.executorSecret !== undefined) {
      world.useExecutorAuth(executorAuthOf(options.executorSecret, { sourcegraph, secretsManager, secretManager }));
    }
    for (const fleet of fleets) {
      autoScaling.addGroup({
        name: fleet.group,
        min: fleet.min,
        max: fleet.max,
        desired: fleet.desired,
        queues: fleet.queues,
      });
    }
    return {
      world,
      fleets,
      sourcegraph,
      workerMetrics,
      autoScaling,
      ec2,
      cloudWatch,
      secretsManager,
      monitoring,
      compute,
      secretManager,
      env: () => ({
        ...awsEndpointEnv({
          autoScaling: autoScaling.emulator,
          ec2: ec2.emulator,
          cloudWatch: cloudWatch.emulator,
          secretsManager: secretsManager.emulator,
        }),
        AWS_REGION: LOCAL_REGION,
        // No instance-metadata lookups: there is no EC2 here, and nothing may leave the machine.
        AWS_EC2_METADATA_DISABLED: 'true',
        // Any AWS service without its own emulator (SSM, say) goes to a closed loopback port, never to AWS.
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      }),
      config: (overrides = {}) => ({
        environment: LOCAL_ENVIRONMENT,
        sourcegraph: { endpoint: sourcegraph.url, token: LOCAL_SOURCEGRAPH_TOKEN, timeoutSeconds: 5 },
        metrics: { cloudwatch: { namespace: 'sourcegraph-executor', region: LOCAL_REGION } },
        pollIntervalSeconds: overrides.pollIntervalSeconds ?? 10,
        invocationSeconds: overrides.invocationSeconds ?? 50,
        busySignal: { url: workerMetrics.url, timeoutSeconds: 5 },
        fleets: fleets.map((fleet) => ({
          name: fleet.fleet,
          queues: fleet.queues,
          mode: fleet.mode,
          target: { cloud: 'aws', region: LOCAL_REGION, autoScalingGroup: fleet.group },
          jobsPerInstance: fleet.jobsPerInstance,
          minInstances: fleet.min,
          maxInstances: fleet.max,
          scaleInWindowSeconds: overrides.scaleInWindowSeconds ?? 600,
          ...(overrides.scaleIn === undefined ? {} : { scaleIn: { mode: overrides.scaleIn } }),
        })),
      }),
      close: async () => {
        await Promise.all(started.map((emulator) => emulator.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((emulator) => emulator.close()));
    throw error;
  }
}

/**
 * The world's view of executor authentication on this stack. A VM's world group says its cloud (`aws:<region>:<name>`
 * for an Auto Scaling group, `gcp:<project>:<location>:<name>` for a MIG); the secret is read at the launch moment,
 * which may be one the world is replaying, so the stores answer for that moment.
 */
function executorAuthOf(
  secret: LocalExecutorSecret,
  services: {
    readonly sourcegraph: SourcegraphEmulator;
    readonly secretsManager: SecretsManagerEmulator;
    readonly secretManager: SecretManagerEmulator;
  },
): ExecutorAuth {
  return {
    tokenAtBoot(instance) {
      const at = instance.launchedAt;
      const cloud = instance.group.slice(0, instance.group.indexOf(':'));
      if (cloud === 'aws' && secret.aws !== undefined) {
        return services.secretsManager.currentValueAt(secret.aws, at);
      }
      if (cloud === 'gcp' && secret.gcp !== undefined) {
        return services.secretManager.currentValueAt(secret.gcp.project, secret.gcp.secret, at);
      }
      return tokenInEffect(services.sourcegraph.executorTokenHistory(), at);
    },
    tokenHistory: () => services.sourcegraph.executorTokenHistory(),
  };
}
