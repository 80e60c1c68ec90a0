// The loopback Sourcegraph emulator of the local stack.

export type { ExecutorTokenChange } from '../world/executor-tokens.ts';
export type { AccessToken, Viewer } from './auth.ts';
export {
  type GraphQLFault,
  LOCAL_EXECUTOR_TOKEN,
  LOCAL_SOURCEGRAPH_TOKEN,
  LOCAL_SOURCEGRAPH_VERSION,
  type SourcegraphEmulator,
  type SourcegraphEmulatorOptions,
  sourcegraphFaults,
  startSourcegraphEmulator,
} from './emulator.ts';
export { EXECUTOR_TOKEN_KEY, REDACTED, type SiteConfigSnapshot } from './site-config.ts';
export {
  type ExecutorMetrics,
  executorMetricsOf,
  renderWorkerMetrics,
  startWorkerMetricsEmulator,
  WORKER_METRICS_PATH,
  type WorkerMetricsEmulator,
  type WorkerMetricsEmulatorOptions,
  workerMetricsFaults,
} from './worker-metrics.ts';
