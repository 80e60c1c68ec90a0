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
export { busySignalFor, queueDepthSourceFor } from './from-settings.ts';
export { ALL_OPERATIONS, BATCH_SPECS_PAGE, type GraphQLOperation, QUEUE_DEPTH } from './operations.ts';
export { createSourcegraphQueueDepthSource, type SourcegraphQueueDepthOptions } from './queue-depth.ts';
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
