import { ScalingCycleError } from '../../shared/app/invocation.ts';
import { invokeScale, type ScaleRuntime } from '../../shared/app/scale-invocation.ts';
import { scalingSettingsFor } from '../../shared/app/scaling-settings.ts';
import { type FleetplaneConfig, parseConfigText } from '../../shared/config/index.ts';
import type { AwsGroupTarget } from '../../shared/domain/fleet.ts';
import { QUEUE_NAMES, type QueueName } from '../../shared/domain/queues.ts';
import type { QueueDepths } from '../../shared/domain/readings.ts';
import { createInMemoryInstanceGroups } from '../../shared/fakes/in-memory-instance-groups.ts';
import { createInMemoryQueueMetrics } from '../../shared/fakes/in-memory-queue-metrics.ts';
import { createInMemoryRemovalLedger } from '../../shared/fakes/in-memory-removal-ledger.ts';
import { silentLogger } from '../../shared/observability/logger.ts';
import type { BusySignal } from '../../shared/ports/busy-signal.ts';
import type { Sleep } from '../../shared/ports/clock.ts';
import type { InstanceGroups } from '../../shared/ports/instance-groups.ts';
import { createSimTask } from '../coroutine.ts';
import type { PolicyModel, Scenario, SimWorld } from '../model.ts';

/**
 * fleetplane itself: the real scale invocation (`invokeScale`: the polling loop, the scaling cycle, the capacity
 * policy, the stabilization window read back from the published metric) on simulated time, with the in-memory
 * instance groups and queue metrics standing in for ASG and CloudWatch. Nothing of the policy is re-implemented
 * here; this file only wires the simulated world to the ports.
 */

export interface FleetplaneOptions {
  /** Seconds between scheduled invocations (serverless.yml: `rate(1 minute)`). */
  readonly scheduleSeconds: number;
  /** The function's timeout in seconds (serverless.yml: 60). */
  readonly timeoutSeconds: number;
  /** Overrides of the config document's own defaults, e.g. `{ scaleInWindowSeconds: 300 }`. */
  readonly fleet: Readonly<Record<string, unknown>>;
  readonly config: Readonly<Record<string, unknown>>;
  /** Injected faults: the busy signal cannot be read while this says so (milliseconds from the trace's start). */
  readonly busySignalDown?: (at: number) => boolean;
}

export const FLEETPLANE_DEFAULTS: FleetplaneOptions = {
  scheduleSeconds: 60,
  timeoutSeconds: 60,
  fleet: {},
  config: {},
};

/** Simulated epoch: a whole minute, so the metric's 60-second periods line up with the trace's minutes. */
const EPOCH_MS = Date.UTC(2026, 0, 1);
const TARGET: AwsGroupTarget = { cloud: 'aws', region: 'us-east-1', autoScalingGroup: 'simulated-executors' };

/** A scenario only for checking the overrides (and describing them) before any run: bounds come from each run's. */
const PROBE_SCENARIO = { jobsPerInstance: 1, minInstances: 0, maxInstances: 1 } as const;

/** Throws `ConfigError`, naming every bad override, as the real function would refuse the same document. */
export function createFleetplanePolicy(options: Partial<FleetplaneOptions> = {}): PolicyModel {
  const settings = { ...FLEETPLANE_DEFAULTS, ...options };
  const config = simulatedConfig(PROBE_SCENARIO, settings);
  const fleet = config.fleets[0];
  const mode = fleet?.scaleIn?.mode ?? 'resize';
  const scaleIn = { resize: 'the cloud picks', 'busy-signal': 'idle instances only', attrition: 'by attrition' }[mode];
  return {
    // Two fleetplane runs side by side (say, one per scale-in mode) must be told apart in a report. The simulated
    // config has a busy signal, so busy-signal is what the product does by default here.
    name: mode === 'busy-signal' ? 'fleetplane' : `fleetplane/${mode}`,
    description:
      `fleetplane direct mode: the real scale invocation every ${settings.scheduleSeconds}s, polling every ` +
      `${config.pollIntervalSeconds}s for ${config.invocationSeconds}s, scale-in after a ` +
      `${fleet?.scaleInWindowSeconds}s window (${scaleIn})`,
    start(world, scenario) {
      const task = createSimTask(world);
      const runtime = simulatedRuntime(world, scenario, settings, task.sleep);
      const invoke = async () => {
        try {
          await invokeScale(runtime, {
            once: false,
            remainingMs: settings.timeoutSeconds * 1000,
            sleep: task.sleep,
          });
        } catch (error) {
          // A cycle in which every fleet failed is a reported outcome of the real function, not a simulator fault.
          if (!(error instanceof ScalingCycleError)) {
            throw error;
          }
        }
      };
      const schedule = (at: number) =>
        world.at(at, async () => {
          schedule(at + settings.scheduleSeconds * 1000);
          // A tick while the last invocation still runs is dropped, as reserved concurrency 1 throttles it.
          await task.start(invoke);
        });
      schedule(0);
    },
  };
}

function simulatedRuntime(world: SimWorld, scenario: Scenario, options: FleetplaneOptions, sleep: Sleep): ScaleRuntime {
  const clock = () => EPOCH_MS + world.now();
  const config = simulatedConfig(scenario, options);
  const fake = createInMemoryInstanceGroups(
    [{ target: TARGET, desired: world.desired(), min: scenario.minInstances, max: scenario.maxInstances }],
    { clock, onResize: (_target, _from, to) => world.setDesired(to) },
  );
  // The fake keeps desired sizes; the world owns the instances, so each describe sees them as they are now. An
  // instance's id doubles as its host name, and its executor is named after it, as on GCE.
  const groups: InstanceGroups = {
    describe(targets, callOptions) {
      fake.setInstances(
        TARGET,
        world.instances().map((instance) => ({
          id: instance.id,
          lifecycle: instance.state === 'booting' ? 'booting' : 'in-service',
          state: instance.state,
          hostname: instance.id,
          launchedAt: EPOCH_MS + instance.launchedAt,
        })),
      );
      return fake.describe(targets, callOptions);
    },
    setDesiredSize: (target, size, callOptions) => fake.setDesiredSize(target, size, callOptions),
    async removeInstances(target, instanceIds, callOptions) {
      const outcomes = await fake.removeInstances(target, instanceIds, callOptions);
      const removed = instanceIds.filter((id) => outcomes.get(id)?.removed === true);
      if (removed.length > 0) {
        world.terminate(removed);
      }
      return outcomes;
    },
    async protectFromScaleIn(target, instanceIds, callOptions) {
      await fake.protectFromScaleIn(target, instanceIds, callOptions);
      world.protect(instanceIds);
    },
    // The simulated world models an ASG, whose VMs terminate when their executor exits: none ever needs replacing.
    replaceInstances: () => Promise.reject(new Error('the simulated group keeps no exited instance to replace')),
  };
  const busy: BusySignal = {
    async read() {
      if (options.busySignalDown?.(world.now()) === true) {
        return { known: false, reason: 'injected outage' };
      }
      const running = world
        .instances()
        .filter((instance) => instance.state === 'running')
        .map((instance) => [`${instance.id}-executor`, instance.runningJobs] as const);
      return { known: true, observedAt: clock(), runningJobs: new Map(running) };
    },
  };
  const metrics = createInMemoryQueueMetrics({ clock });
  return {
    config,
    settings: scalingSettingsFor(config, 'aws'),
    deps: {
      depths: {
        async read(queues) {
          const observedAt = clock();
          const depths: Partial<Record<QueueName, { ok: true; depth: number; observedAt: number }>> = {};
          for (const queue of queues) {
            depths[queue] = { ok: true, depth: world.queueDepth(queue), observedAt };
          }
          return depths satisfies QueueDepths;
        },
      },
      metrics,
      history: metrics,
      removals: createInMemoryRemovalLedger({ clock }),
      groups,
      busy,
      sleep,
      clock,
      logger: silentLogger,
    },
  };
}

/** The fleet as an admin would configure it, parsed by the product's own config parser with its own defaults. */
function simulatedConfig(
  scenario: Pick<Scenario, 'jobsPerInstance' | 'minInstances' | 'maxInstances'>,
  options: FleetplaneOptions,
): FleetplaneConfig {
  const document = {
    environment: 'simulated',
    sourcegraph: { endpoint: 'http://127.0.0.1:9', token: 'simulated' },
    metrics: { cloudwatch: { region: TARGET.region } },
    // Read only by fleets with busy-signal scale-in; the simulated signal answers from the world.
    busySignal: { url: 'http://127.0.0.1:9/metrics' },
    ...options.config,
    fleets: [
      {
        name: 'simulated',
        queues: [...QUEUE_NAMES],
        mode: 'direct',
        target: TARGET,
        jobsPerInstance: scenario.jobsPerInstance,
        minInstances: scenario.minInstances,
        maxInstances: scenario.maxInstances,
        ...options.fleet,
      },
    ],
  };
  return parseConfigText(JSON.stringify(document), 'simulator', {});
}
