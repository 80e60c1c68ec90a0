// Runtime API of the Sourcegraph client. schema.ts is deliberately absent: it reads a file the bundles do not ship.

export {
  BusySignalReadError,
  createPrometheusBusySignal,
  type PrometheusBusySignalOptions,
  runningJobsOf,
} from './busy-signal.ts';
export {
  BatchSpecLimitError,
  type GraphQLErrorEntry,
  SourcegraphAuthError,
  SourcegraphError,
  type SourcegraphErrorOptions,
  SourcegraphGraphQLError,
  SourcegraphPermissionError,
  SourcegraphResponseError,
  SourcegraphTimeoutError,
  SourcegraphUnavailableError,
} from './errors.ts';
export {
  createSourcegraphExecutorAuthCheck,
  EXECUTOR_AUTH_PATH,
  type SourcegraphExecutorAuthOptions,
} from './executor-auth.ts';
export {
  createSourcegraphExecutorDirectory,
  ExecutorListLimitError,
  type SourcegraphExecutorDirectoryOptions,
} from './executors.ts';
export { busySignalFor, executorDirectoryFor, queueDepthSourceFor, rotationSourcegraphFor } from './from-settings.ts';
export {
  ALL_OPERATIONS,
  BATCH_SPECS_PAGE,
  EXECUTORS_PAGE,
  type GraphQLOperation,
  QUEUE_DEPTH,
  SITE_CONFIGURATION,
  UPDATE_SITE_CONFIGURATION,
} from './operations.ts';
export { createSourcegraphQueueDepthSource, type SourcegraphQueueDepthOptions } from './queue-depth.ts';
export { createSourcegraphSiteConfigStore } from './site-config.ts';
export { withExecutorToken } from './site-config-edit.ts';
export {
  createGraphQLTransport,
  type FieldResult,
  type FieldResults,
  type FieldSchemas,
  type GraphQLTransport,
  type GraphQLTransportOptions,
  type GraphQLVariables,
  parseRetryAfter,
} from './transport.ts';
