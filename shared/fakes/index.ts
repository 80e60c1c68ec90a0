export {
  createInMemoryBusySignal,
  type InMemoryBusySignal,
  type InMemoryBusySignalOptions,
} from './in-memory-busy-signal.ts';
export { createInMemoryCycleMetrics, type InMemoryCycleMetrics } from './in-memory-cycle-metrics.ts';
export {
  createInMemoryExecutorDirectory,
  type ExecutorRow,
  type InMemoryExecutorDirectory,
  type InMemoryExecutorDirectoryOptions,
  type StartExecutor,
} from './in-memory-executor-directory.ts';
export {
  createInMemoryExecutorSecret,
  type InMemoryExecutorSecret,
  type SecretStage,
} from './in-memory-executor-secret.ts';
export {
  createInMemoryFleetRoller,
  type InMemoryFleetRoller,
  type InMemoryFleetRollerOptions,
} from './in-memory-fleet-roller.ts';
export { createInMemoryHealthMetrics, type InMemoryHealthMetrics } from './in-memory-health-metrics.ts';
export {
  createInMemoryInstanceGroups,
  type InMemoryGroupSeed,
  type InMemoryInstanceGroups,
  type InMemoryInstanceGroupsOptions,
  type InstanceGroupsOperation,
  type ResizeCall,
} from './in-memory-instance-groups.ts';
export {
  createInMemoryQueueMetrics,
  type InMemoryQueueMetrics,
  type InMemoryQueueMetricsOptions,
  type RecordedPoint,
} from './in-memory-queue-metrics.ts';
export {
  createInMemoryRemovalLedger,
  type InMemoryRemovalLedger,
  type RecordedRemoval,
} from './in-memory-removal-ledger.ts';
export { createInMemoryRotationMetrics, type InMemoryRotationMetrics } from './in-memory-rotation-metrics.ts';
export {
  createInMemorySiteConfig,
  EXECUTOR_TOKEN_KEY,
  type InMemorySiteConfig,
  type InMemorySiteConfigOptions,
  type SiteConfigOperation,
} from './in-memory-site-config.ts';
