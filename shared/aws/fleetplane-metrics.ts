/**
 * fleetplane's own CloudWatch metrics: a namespace of their own, so nothing of ours lands among the worker's
 * (`sourcegraph-executor`). No SDK here: the deploy's alarms and dashboard read these names, and the removal ledger's
 * PutMetricData grant names the namespace.
 */
export const FLEETPLANE_NAMESPACE = 'fleetplane';
/** The removal ledger: instances a fleet's scale-in took out, one datum per removal. */
export const INSTANCES_REMOVED_METRIC = 'InstancesRemoved';
/**
 * Fleet health (embedded metric format, so no PutMetricData grant): instances per fleet per health class (dimensions
 * `environment`, `fleet`, `health`), one value per class per check, zeros included.
 */
export const FLEET_INSTANCES_METRIC = 'FleetInstances';
/** Fleet health: executors heartbeating from hosts no instance explains (dimension `environment`), one value per check. */
export const UNEXPLAINED_EXECUTORS_METRIC = 'UnexplainedExecutors';
/**
 * One scaling cycle (embedded metric format, so no PutMetricData grant): `CycleSucceeded` / `CycleFailed` (1 or 0),
 * `CycleDuration` and `SourcegraphLatency` (ms), all with dimension `environment`.
 */
export const CYCLE_SUCCEEDED_METRIC = 'CycleSucceeded';
export const CYCLE_FAILED_METRIC = 'CycleFailed';
export const CYCLE_DURATION_METRIC = 'CycleDuration';
export const SOURCEGRAPH_LATENCY_METRIC = 'SourcegraphLatency';
/** Jobs queued per series, before allocation (dimensions `environment`, `series`). */
export const QUEUE_DEPTH_METRIC = 'QueueDepth';
/** A fleet's group size before and after the cycle acted (dimensions `environment`, `fleet`). */
export const FLEET_CURRENT_SIZE_METRIC = 'FleetCurrentSize';
export const FLEET_DESIRED_SIZE_METRIC = 'FleetDesiredSize';
/** One per fleet per cycle (dimensions `environment`, `fleet`, `reason`): decisions by reason. */
export const SCALE_DECISIONS_METRIC = 'ScaleDecisions';
/** Errors per cycle by where they came from (dimensions `environment`, `source`), zeros included. */
export const ERRORS_METRIC = 'Errors';
/**
 * One rotation's outcome (embedded metric format, dimension `environment`): `RotationSucceeded` / `RotationFailed`
 * (1 or 0) and `RotationDuration` (ms), once per whole rotation and once per failed step of Secrets Manager's protocol.
 */
export const ROTATION_SUCCEEDED_METRIC = 'RotationSucceeded';
export const ROTATION_FAILED_METRIC = 'RotationFailed';
export const ROTATION_DURATION_METRIC = 'RotationDuration';
/**
 * Fleet health outcomes per check (dimensions `environment`, `fleet`, `outcome`): instances `replaced`, that the mode
 * left alone (`would-replace`), and that the cloud `refused` to replace, zeros included.
 */
export const HEALTH_REPLACEMENTS_METRIC = 'HealthReplacements';
/** 1 when a fleet's broken instances were held back (too many at once), else 0 (dimensions `environment`, `fleet`). */
export const HEALTH_HELD_METRIC = 'HealthHeld';
