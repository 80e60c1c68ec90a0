import type { FleetplaneConfig } from '../config/types.ts';
import { fleetsOf } from '../domain/fleet.ts';
import type { Cloud } from '../domain/queue-metric.ts';
import type { ScalingSettings } from './scaling-cycle.ts';

/** What one cloud's scale function does with the config: every series with that cloud's allocation, its own fleets. */
export function scalingSettingsFor(config: FleetplaneConfig, cloud: Cloud): ScalingSettings {
  return {
    cloud,
    environment: config.environment,
    allocations: config.allocations,
    series: config.series,
    fleets: fleetsOf(config.fleets, cloud),
  };
}
