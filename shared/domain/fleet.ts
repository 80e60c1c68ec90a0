import type { CapacityControls } from './policy.ts';
import type { QueueName, SeriesName } from './queues.ts';
import type { RollSettings } from './roll.ts';
import type { VictimOrder } from './scale-in.ts';

/**
 * `metrics`: publish the queue-size series only (existing Terraform alarms or autoscalers act on it).
 * `direct`: publish and resize the group. `shadow`: publish, decide and log the resize, change nothing.
 */
export const MODES = ['metrics', 'direct', 'shadow'] as const;
export type Mode = (typeof MODES)[number];

/** An EC2 Auto Scaling group. */
export interface AwsGroupTarget {
  readonly cloud: 'aws';
  readonly region: string;
  readonly autoScalingGroup: string;
}

/** A GCE managed instance group: zonal (`zone`) or regional (`region`), never both. */
export type GcpGroupTarget = {
  readonly cloud: 'gcp';
  readonly project: string;
  readonly instanceGroupManager: string;
} & ({ readonly zone: string; readonly region?: undefined } | { readonly region: string; readonly zone?: undefined });

export type GroupTarget = AwsGroupTarget | GcpGroupTarget;

/** A stable identity for a group across fleets, adapters, emulators and logs. */
export function targetKey(target: GroupTarget): string {
  return target.cloud === 'aws'
    ? `aws:${target.region}:${target.autoScalingGroup}`
    : `gcp:${target.project}:${target.zone ?? target.region}:${target.instanceGroupManager}`;
}

/**
 * `resize`: lower the desired size and let the cloud pick the instances, busy or not (what Sourcegraph's modules do).
 * `busy-signal`: remove only instances whose executors run no job, as the busy signal shows just before acting.
 * `attrition`: never remove an instance; protect them all and lower the desired size, so the group shrinks only as
 * executors exit by themselves (`EXECUTOR_MAX_ACTIVE_TIME`, `EXECUTOR_NUM_TOTAL_JOBS`) and are not replaced.
 */
export const SCALE_IN_MODES = ['resize', 'busy-signal', 'attrition'] as const;
export type ScaleInMode = (typeof SCALE_IN_MODES)[number];

export interface ScaleInSettings {
  readonly mode: ScaleInMode;
  /** Which idle instances go first. */
  readonly order: VictimOrder;
}

/** While `cron` matches the current minute in `timezone`, these replace the fleet's own values. */
export interface FleetSchedule {
  readonly cron: string;
  /** IANA name, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  readonly minInstances?: number;
  readonly idleBuffer?: number;
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
  /** How instances are chosen when the fleet shrinks; absent: `resize`. */
  readonly scaleIn?: ScaleInSettings;
  /** Pauses, step limits and the idle buffer; absent: none. */
  readonly controls?: CapacityControls;
  /** Time-of-day overrides of the minimum and the idle buffer; the last one matching wins. */
  readonly schedules?: readonly FleetSchedule[];
  /** How its group is rolled after the executor secret is rotated; absent: never (no target, or `roll: false`). */
  readonly roll?: RollSettings;
  /** Acts this fleet's deterministic share of up to this many seconds into each cycle; absent: at once. */
  readonly jitterSeconds?: number;
}

/**
 * The fleets one cloud's function reports on: those whose group lives in that cloud, and those with no group at all.
 * Every series is still published by every cloud's function, each with its own allocation, as the worker does.
 */
export function fleetsOf(fleets: readonly Fleet[], cloud: GroupTarget['cloud']): Fleet[] {
  return fleets.filter((fleet) => fleet.target === undefined || fleet.target.cloud === cloud);
}

/** Whether a direct fleet protects its instances from the group's own scale-in (only fleetplane chooses). */
export function guardsItsInstances(fleet: Fleet): boolean {
  return fleet.mode === 'direct' && (fleet.scaleIn?.mode === 'busy-signal' || fleet.scaleIn?.mode === 'attrition');
}

/** Whether any of these fleets removes only idle instances, and so needs the busy signal and instance details. */
export function removesIdleOnly(fleets: readonly Fleet[]): boolean {
  return fleets.some((fleet) => fleet.mode === 'direct' && fleet.scaleIn?.mode === 'busy-signal');
}

/** The fleets whose group one cloud's function reads and (in `direct` mode) resizes. */
export function managedFleets(fleets: readonly Fleet[], cloud: GroupTarget['cloud']): Fleet[] {
  return fleets.filter((fleet) => fleet.mode !== 'metrics' && fleet.target?.cloud === cloud);
}
