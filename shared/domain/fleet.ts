import type { QueueName, SeriesName } from './queues.ts';

/**
 * `metrics`: publish the queue-size series only (existing Terraform alarms or autoscalers act on it).
 * `direct`: publish and resize the group. `shadow`: publish, decide and log the resize, change nothing.
 */
export const MODES = ['metrics', 'direct', 'shadow'] as const;
export type Mode = (typeof MODES)[number];

/** An EC2 Auto Scaling group. GCP managed instance groups join this union in their own adapter. */
export interface AwsGroupTarget {
  readonly cloud: 'aws';
  readonly region: string;
  readonly autoScalingGroup: string;
}
export type GroupTarget = AwsGroupTarget;

/** A stable identity for a group across fleets, adapters and logs. */
export function targetKey(target: GroupTarget): string {
  return `${target.cloud}:${target.region}:${target.autoScalingGroup}`;
}

export interface Fleet {
  readonly name: string;
  readonly queues: readonly QueueName[];
  /** The series this fleet's demand is read from and published to. */
  readonly series: SeriesName;
  readonly mode: Mode;
  /** Absent only in `metrics` mode. */
  readonly target?: GroupTarget;
  readonly jobsPerInstance: number;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Scale-in never goes below what demand needed within this many seconds. */
  readonly scaleInWindowSeconds: number;
}
