/**
 * fleetplane's own CloudWatch metrics: a namespace of their own, so nothing of ours lands among the worker's
 * (`sourcegraph-executor`). No SDK here: the deploy plan grants PutMetricData by these names.
 */
export const FLEETPLANE_NAMESPACE = 'fleetplane';
/** The removal ledger: instances a fleet's scale-in took out, one datum per removal. */
export const INSTANCES_REMOVED_METRIC = 'InstancesRemoved';
/**
 * Fleet health: instances per fleet per health class (dimensions `environment`, `fleet`, `health`), one datum per class
 * per check, zeros included.
 */
export const FLEET_INSTANCES_METRIC = 'FleetInstances';
/** Fleet health: executors heartbeating from hosts no instance explains (dimension `environment`), one datum per check. */
export const UNEXPLAINED_EXECUTORS_METRIC = 'UnexplainedExecutors';
