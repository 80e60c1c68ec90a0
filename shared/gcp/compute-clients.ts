/**
 * The seven Compute clients fleetplane uses, each loaded from its own module. The package's index loads every one of
 * its ~100 clients: the GCP bundle then took 1.3 s and 280 MiB to load (bench P4), more memory than the function's
 * 256Mi default; with six of these, 0.3 s and 113 MiB. The seventh (instances, for creation times) adds about 1.4 ms
 * and no measurable memory: the clients share one proto bundle, already loaded. The paths are the package's own
 * per-client modules (it declares no `exports` map, so Node resolves them), pinned with the package version.
 */
export { AutoscalersClient } from '@google-cloud/compute/build/src/v1/autoscalers_client.js';
export { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client.js';
export { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
export { RegionAutoscalersClient } from '@google-cloud/compute/build/src/v1/region_autoscalers_client.js';
export { RegionInstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/region_instance_group_managers_client.js';
export { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';
export { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client.js';
