import * as z from 'zod';
import { clamp, instancesFor } from '../../shared/domain/policy.ts';
import type { PolicyModel } from '../model.ts';
import { modelOptions, positiveSeconds, seconds } from './options.ts';

/**
 * The Compute Engine autoscaler as Sourcegraph's GCP module configures it (`sourcegraph/terraform-google-executors`
 * v6.10.0, `modules/executors/main.tf`): one custom metric, `custom.googleapis.com/executors/queue/size` on resource
 * `global`, with `single_instance_assignment = jobs_per_instance_scaling`, and `cooldown_period = 300`.
 *
 * - A metric on a resource other than `gce_instance` is a per-group metric: the autoscaler keeps the group at metric ÷
 *   single instance assignment, rounded up (`singleInstanceAssignment`,
 *   https://cloud.google.com/compute/docs/reference/rest/v1/autoscalers; rounding up:
 *   https://cloud.google.com/compute/docs/autoscaler/understanding-autoscaler-decisions), clamped to min and max.
 * - The recommendation is the size needed for the peak over the stabilization period, so scale-out is immediate and
 *   scale-in waits until the peak has left the window; the default period is 600 s (`stabilizationPeriodSec`, same
 *   REST page; "peak load observed in the last 10 minutes", understanding-autoscaler-decisions). The module sets none.
 * - `cooldown_period` is the initialization period: the autoscaler ignores data from VMs still initializing
 *   (`coolDownPeriodSec`, same REST page). A per-group metric comes from no VM, so it changes nothing here.
 * - Cadence: no documented decision interval was found. The autoscaler's own metrics are sampled every 60 s
 *   (https://cloud.google.com/monitoring/api/metrics_gcp, `autoscaler.googleapis.com`); from that, one decision a
 *   minute on the latest queue-size point (the worker writes one every 5 s).
 * - `jobs_per_instance_scaling` defaults to 20 on GCP (`modules/executors/variables.tf`); the simulator compares every
 *   policy at `scenario.jobsPerInstance` instead.
 *
 * Unverified and favouring gce: Cloud Monitoring ingestion delay is taken as zero (`metricDelaySeconds`), and whether a
 * longer initialization period lengthens the stabilization period is moot at 300 s < 600 s, so it is not modelled.
 */

export interface GceOptions {
  /** Seconds between autoscaler decisions. */
  readonly evaluationSeconds: number;
  /** Seconds the highest recommendation holds the group up (`stabilizationPeriodSec` default 600). */
  readonly stabilizationSeconds: number;
  /** Seconds from a queue-size datapoint to the decision that uses it. */
  readonly metricDelaySeconds: number;
}

export const GCE_DEFAULTS: GceOptions = { evaluationSeconds: 60, stabilizationSeconds: 600, metricDelaySeconds: 0 };

const GCE_OPTIONS = z.strictObject({
  evaluationSeconds: positiveSeconds,
  stabilizationSeconds: seconds,
  metricDelaySeconds: seconds,
});

export function createGcePolicy(options: Partial<GceOptions> = {}): PolicyModel {
  const settings = modelOptions('gce', GCE_OPTIONS, GCE_DEFAULTS, options);
  const evaluationMs = settings.evaluationSeconds * 1000;
  const windowMs = settings.stabilizationSeconds * 1000;
  const delayMs = settings.metricDelaySeconds * 1000;
  return {
    name: 'gce',
    description:
      `GCE autoscaler per-group metric (Sourcegraph terraform-google-executors): ceil(queue/jpi) every ` +
      `${settings.evaluationSeconds}s, scale-in only below the ${settings.stabilizationSeconds}s peak`,
    start(world, scenario) {
      const recommendations: { readonly at: number; readonly size: number }[] = [];

      const decide = (metric: number) => {
        const now = world.now();
        recommendations.push({ at: now, size: instancesFor(metric, scenario.jobsPerInstance) });
        // The recommendation just made always stays: with no window, it alone decides.
        while (recommendations.length > 1 && (recommendations[0]?.at ?? now) <= now - windowMs) {
          recommendations.shift();
        }
        const peak = Math.max(...recommendations.map((recommendation) => recommendation.size));
        const size = clamp(peak, { min: scenario.minInstances, max: scenario.maxInstances });
        if (size !== world.desired()) {
          world.setDesired(size);
        }
      };

      const tick = (at: number) =>
        world.at(at, () => {
          const metric = world.queueDepth();
          world.at(at + delayMs, () => decide(metric));
          tick(at + evaluationMs);
        });
      tick(0);
    },
  };
}
