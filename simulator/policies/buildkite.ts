import * as z from 'zod';
import { clamp, instancesFor } from '../../shared/domain/policy.ts';
import type { PolicyModel } from '../model.ts';
import { modelOptions, positiveSeconds, seconds } from './options.ts';

/**
 * Buildkite's Elastic CI Stack for AWS with its default parameters: `buildkite-agent-scaler` sizes the group up,
 * idle instances take themselves down.
 *
 * Scaler (`buildkite/buildkite-agent-scaler` v1.9.5, the stack's default `BuildkiteAgentScalerVersion`;
 * `scaler/scaling_calculator.go`, `scaler/scaler.go`, `lambda/main.go`):
 * - wanted = ceil((scheduled + running jobs) / `AGENTS_PER_INSTANCE`), plus up to `INSTANCE_BUFFER` spare instances
 *   while any job exists, clamped to the group's min and max;
 * - above the instance count: scale out to it, the step multiplied by `SCALE_OUT_FACTOR` and rounded up, unless the
 *   last scale-out is younger than `SCALE_OUT_COOLDOWN_PERIOD`;
 * - below it: nothing, because the scaler's own template defaults `DisableScaleIn` to true ("instances are expected
 *   to self terminate when they are idle") and the stack does not override it.
 *
 * Stack defaults (`buildkite/elastic-ci-stack-for-aws` `templates/aws-stack.yml`, matching
 * `buildkite/terraform-buildkite-elastic-ci-stack-for-aws` `variables.tf`): `ScalerMinPollInterval` 10s (the loop's
 * `LAMBDA_INTERVAL`), `ScaleOutFactor` 1.0, `ScaleOutCooldownPeriod` 300, `ScaleInCooldownPeriod` 3600,
 * `InstanceBuffer` 0, `ScaleOutForWaitingJobs` false, `ScaleInIdlePeriod` 600, `AgentsPerInstance` 1.
 *
 * Scale-in: each instance runs `buildkite-agent --spawn AgentsPerInstance --disconnect-after-idle-timeout
 * ScaleInIdlePeriod`; the agent exits once all its workers have been idle that long (`IdleMonitor` in
 * `buildkite/agent`), and `terminate-instance` then calls `TerminateInstanceInAutoScalingGroup
 * --should-decrement-desired-capacity`. At the group's minimum the decrement is refused and the instance is
 * replaced without one; the model keeps it instead. No running job is ever interrupted.
 *
 * `AGENTS_PER_INSTANCE` is both the sizing ratio and the agents spawned per instance. The simulator sizes every
 * policy by `scenario.jobsPerInstance` and leaves concurrency to `scenario.maxJobsPerInstance`; the two coincide
 * when a scenario sets them equal, which is how the stack deploys.
 */

export interface BuildkiteOptions {
  /** Seconds between scaler polls (`ScalerMinPollInterval` 10s); also when agents notice they are idle. */
  readonly pollSeconds: number;
  /** Multiplier on each scale-out step (`ScaleOutFactor` 1.0). */
  readonly scaleOutFactor: number;
  /** Seconds after a scale-out before the scaler scales out again (`ScaleOutCooldownPeriod` 300). */
  readonly scaleOutCooldownSeconds: number;
  /** Whether the scaler lowers the desired size itself (`DisableScaleIn` defaults to true, so false). */
  readonly scalerScaleIn: boolean;
  /** Seconds between scaler scale-ins when `scalerScaleIn` is on (`ScaleInCooldownPeriod` 3600). */
  readonly scaleInCooldownSeconds: number;
  /** Seconds every agent on an instance must be idle before it terminates the instance (`ScaleInIdlePeriod` 600). */
  readonly scaleInIdleSeconds: number;
  /** Spare instances kept while any job exists (`InstanceBuffer` 0). */
  readonly instanceBuffer: number;
}

export const BUILDKITE_DEFAULTS: BuildkiteOptions = {
  pollSeconds: 10,
  scaleOutFactor: 1,
  scaleOutCooldownSeconds: 300,
  scalerScaleIn: false,
  scaleInCooldownSeconds: 3600,
  scaleInIdleSeconds: 600,
  instanceBuffer: 0,
};

const BUILDKITE_OPTIONS = z.strictObject({
  pollSeconds: positiveSeconds,
  scaleOutFactor: z.number().finite().nonnegative(),
  scaleOutCooldownSeconds: seconds,
  scalerScaleIn: z.boolean(),
  scaleInCooldownSeconds: seconds,
  scaleInIdleSeconds: seconds,
  instanceBuffer: z.number().int().nonnegative(),
});

export function createBuildkitePolicy(options: Partial<BuildkiteOptions> = {}): PolicyModel {
  const settings = modelOptions('buildkite', BUILDKITE_OPTIONS, BUILDKITE_DEFAULTS, options);
  const pollMs = settings.pollSeconds * 1000;
  const idleMs = settings.scaleInIdleSeconds * 1000;
  return {
    name: 'buildkite',
    description:
      `Buildkite Elastic CI Stack: scaler polls every ${settings.pollSeconds}s, sets ceil(jobs/jpi), ` +
      `${settings.scaleOutCooldownSeconds}s scale-out cooldown; instances idle ${settings.scaleInIdleSeconds}s ` +
      `terminate themselves`,
    start(world, scenario) {
      const bounds = { min: scenario.minInstances, max: scenario.maxInstances };
      // Per serving instance: when its agents last became idle, or 'busy'. Booting instances have no agent yet.
      let idleSince = new Map<string, number | 'busy'>();
      let lastScaleOut: number | undefined;
      let lastScaleIn: number | undefined;

      const terminateIdle = () => {
        const now = world.now();
        const instances = world.instances();
        const seen = new Map<string, number | 'busy'>();
        const expired: { readonly id: string; readonly since: number }[] = [];
        for (const instance of instances) {
          if (instance.state === 'booting') {
            continue;
          }
          if (instance.runningJobs > 0) {
            seen.set(instance.id, 'busy');
            continue;
          }
          // The agent's idle clock starts when it starts, and again when its last job ends (seen at this poll).
          const previous = idleSince.get(instance.id);
          const since = previous === 'busy' ? now : (previous ?? instance.readyAt);
          seen.set(instance.id, since);
          if (now - since >= idleMs) {
            expired.push({ id: instance.id, since });
          }
        }
        idleSince = seen;
        const ids = expired
          .sort((a, b) => a.since - b.since)
          .slice(0, Math.max(0, world.desired() - scenario.minInstances))
          .map((instance) => instance.id);
        if (ids.length === 0) {
          return;
        }
        world.terminate(ids);
      };

      const scale = () => {
        const now = world.now();
        const needed = instancesFor(world.queueDepth(), scenario.jobsPerInstance);
        const wanted = clamp(needed + Math.min(needed, settings.instanceBuffer), bounds);
        const current = world.desired();
        if (wanted > current) {
          if (lastScaleOut !== undefined && now - lastScaleOut < settings.scaleOutCooldownSeconds * 1000) {
            return;
          }
          const step = wanted - current;
          world.setDesired(
            clamp(current + (settings.scaleOutFactor === 0 ? step : Math.ceil(step * settings.scaleOutFactor)), bounds),
          );
          lastScaleOut = now;
        } else if (wanted < current && settings.scalerScaleIn) {
          if (lastScaleIn !== undefined && now - lastScaleIn < settings.scaleInCooldownSeconds * 1000) {
            return;
          }
          world.setDesired(wanted);
          lastScaleIn = now;
        }
      };

      const tick = (at: number) =>
        world.at(at, () => {
          terminateIdle();
          scale();
          tick(at + pollMs);
        });
      tick(0);
    },
  };
}
