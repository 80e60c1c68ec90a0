/**
 * Errors raised by the Sourcegraph client. Messages are built from our own text plus, at most, a short scrubbed
 * excerpt of what the server said: the access token never appears in a message, a cause or a log line.
 */

export interface SourcegraphErrorOptions {
  readonly cause?: unknown;
  /** HTTP status of the response that caused the error, when there was one. */
  readonly status?: number;
}

/** One entry of a GraphQL `errors` array, reduced to what we rely on. */
export interface GraphQLErrorEntry {
  readonly message: string;
  readonly path?: readonly (string | number)[];
}

export class SourcegraphError extends Error {
  override readonly name: string = 'SourcegraphError';
  readonly status?: number;

  constructor(message: string, options: SourcegraphErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) {
      this.status = options.status;
    }
  }
}

/** The token was rejected (HTTP 401): it is wrong, expired or revoked. Retrying cannot help. */
export class SourcegraphAuthError extends SourcegraphError {
  override readonly name = 'SourcegraphAuthError';
}

/** The token is valid but may not do this: HTTP 403, a site-admin-only field, or a user that is not a site admin. */
export class SourcegraphPermissionError extends SourcegraphError {
  override readonly name = 'SourcegraphPermissionError';
}

/** The GraphQL result carried errors; `errors` keeps every message and path. */
export class SourcegraphGraphQLError extends SourcegraphError {
  override readonly name = 'SourcegraphGraphQLError';
  readonly errors: readonly GraphQLErrorEntry[];

  constructor(message: string, errors: readonly GraphQLErrorEntry[], options: SourcegraphErrorOptions = {}) {
    super(message, options);
    this.errors = errors;
  }
}

/** The response was not what the operation promised: not JSON, not a GraphQL result, or data failing validation. */
export class SourcegraphResponseError extends SourcegraphError {
  override readonly name = 'SourcegraphResponseError';
}

/** Sourcegraph stayed unreachable, overloaded (5xx) or throttling (429) after every allowed attempt. */
export class SourcegraphUnavailableError extends SourcegraphError {
  override readonly name = 'SourcegraphUnavailableError';
}

/** The last attempt did not answer within the per-attempt timeout. */
export class SourcegraphTimeoutError extends SourcegraphError {
  override readonly name = 'SourcegraphTimeoutError';
}

/**
 * More batch specs exist than the client is allowed to page through. A partial sum would under-report the batches
 * queue, so the reading is unknown until the limit is raised.
 */
export class BatchSpecLimitError extends SourcegraphError {
  override readonly name = 'BatchSpecLimitError';
  readonly totalCount: number;
  readonly limit: number;

  constructor(totalCount: number, limit: number) {
    super(
      `Sourcegraph has ${totalCount} batch specs, more than maxBatchSpecs (${limit}); ` +
        'raise maxBatchSpecs to read the batches queue (a partial count would under-report it)',
    );
    this.totalCount = totalCount;
    this.limit = limit;
  }
}
