/**
 * fleetplane's own CloudWatch metrics: a namespace of their own, so nothing of ours lands among the worker's
 * (`sourcegraph-executor`). No SDK here: the deploy plan grants PutMetricData by these names.
 */
export const FLEETPLANE_NAMESPACE = 'fleetplane';
/** The removal ledger: instances a fleet's scale-in took out, one datum per removal. */
export const INSTANCES_REMOVED_METRIC = 'InstancesRemoved';
