import * as z from 'zod';
import { clamp, instancesFor } from '../../shared/domain/policy.ts';
import type { PolicyModel } from '../model.ts';
import { modelOptions, positiveSeconds, seconds } from './options.ts';

/**
 * Sourcegraph's AWS executors module (`sourcegraph/terraform-aws-executors` v6.10.0, `modules/executors/main.tf`):
 * two CloudWatch metric-math alarms on `CEIL(queueSize / jobs_per_instance_scaling) - instanceCount`, each driving a
 * simple scaling policy that changes the desired capacity by one instance.
 *
 * - `queueSize` is `src_executors_queue_size` with stat `Maximum` over a 60-s period; the worker writes it every 5 s
 *   (`cmd/worker/internal/executorqueue/reporter.go` in `sourcegraph/sourcegraph-public-snapshot`), so the model
 *   samples `queueDepth()` every 5 s and keeps the period's maximum.
 * - `instanceCount` is `GroupTotalInstances` (booting instances included), stat `Maximum`, period 60.
 * - `evaluation_periods = 1` and `datapoints_to_alarm = 1`: one breaching period puts an alarm in ALARM.
 * - An alarm in ALARM invokes its Auto Scaling action again every minute, not only on the transition:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html (Auto Scaling actions are the
 *   exception to "actions happen only on state transitions") and
 *   https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm (once each minute while in the state).
 * - The module sets neither a policy `cooldown` nor the group's `default_cooldown`, so simple scaling waits the AWS
 *   default of 300 s after each activity (`DefaultCooldown`, "Default: 300 seconds",
 *   https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html; behaviour:
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-scaling-cooldowns.html).
 * - `jobs_per_instance_scaling` defaults to 360 on AWS (`modules/executors/variables.tf`); the simulator compares every
 *   policy at `scenario.jobsPerInstance` instead.
 *
 * Simplification that favours tf-aws: AWS starts the cooldown when the activity's last instance has finished
 * launching; here it starts at the action. Alarm evaluation delay and metric ingestion delay are taken as zero.
 */

export interface TfAwsOptions {
  /** Seconds of one alarm period (`period = 60` on both metric queries). A multiple of `sampleSeconds`. */
  readonly periodSeconds: number;
  /** Seconds simple scaling ignores alarm actions after an activity (ASG `DefaultCooldown`, 300 unless set). */
  readonly cooldownSeconds: number;
  /** Seconds between the worker's queue-size writes (5), also used to sample the instance count. */
  readonly sampleSeconds: number;
}

export const TF_AWS_DEFAULTS: TfAwsOptions = { periodSeconds: 60, cooldownSeconds: 300, sampleSeconds: 5 };

const TF_AWS_OPTIONS = z
  .strictObject({ periodSeconds: positiveSeconds, cooldownSeconds: seconds, sampleSeconds: positiveSeconds })
  .refine((options) => options.periodSeconds % options.sampleSeconds === 0, {
    message: 'periodSeconds must be a multiple of sampleSeconds',
    path: ['periodSeconds'],
  });

export function createTfAwsPolicy(options: Partial<TfAwsOptions> = {}): PolicyModel {
  const settings = modelOptions('tf-aws', TF_AWS_OPTIONS, TF_AWS_DEFAULTS, options);
  const periodMs = settings.periodSeconds * 1000;
  const sampleMs = settings.sampleSeconds * 1000;
  const cooldownMs = settings.cooldownSeconds * 1000;
  return {
    name: 'tf-aws',
    description:
      `Sourcegraph terraform-aws-executors: CloudWatch alarms on CEIL(queue/jpi) - instances, ±1 instance per ` +
      `${settings.periodSeconds}s period, ${settings.cooldownSeconds}s simple-scaling cooldown`,
    start(world, scenario) {
      // Maxima of the period being collected; undefined until the first datapoint arrives.
      let queueMax: number | undefined;
      let instancesMax: number | undefined;
      let periodEnd = periodMs;
      let cooldownUntil = Number.NEGATIVE_INFINITY;

      const evaluate = () => {
        // No datapoint means INSUFFICIENT_DATA (treat_missing_data unset): neither alarm acts.
        if (queueMax === undefined || instancesMax === undefined) {
          return;
        }
        const value = instancesFor(queueMax, scenario.jobsPerInstance) - instancesMax;
        if (value === 0 || world.now() < cooldownUntil) {
          return;
        }
        const current = world.desired();
        const size = clamp(current + Math.sign(value), { min: scenario.minInstances, max: scenario.maxInstances });
        // A change clamped away by the group's bounds is no scaling activity, so it starts no cooldown.
        if (size !== current) {
          world.setDesired(size);
          cooldownUntil = world.now() + cooldownMs;
        }
      };

      const tick = (at: number) =>
        world.at(at, () => {
          // The closing period is judged before this instant's sample, which belongs to the next period.
          if (at >= periodEnd) {
            evaluate();
            queueMax = undefined;
            instancesMax = undefined;
            periodEnd += periodMs;
          }
          queueMax = Math.max(queueMax ?? 0, world.queueDepth());
          instancesMax = Math.max(instancesMax ?? 0, world.instances().length);
          tick(at + sampleMs);
        });
      tick(0);
    },
  };
}
