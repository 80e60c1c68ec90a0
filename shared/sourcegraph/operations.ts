/**
 * Every GraphQL document the control plane sends. They are fixed constants (no string building at call time) so the
 * operations-schema test can validate each one against our SDL subset and Sourcegraph's real schema.
 */

export interface GraphQLOperation {
  /** Also sent as the `?<name>` query string, which is how Sourcegraph labels requests in its own logs and metrics. */
  readonly name: string;
  readonly document: string;
}

/**
 * One page of server-side batch specs with each spec's workspace execution counts. `workspaces(first: 0)` fetches no
 * workspace rows: only the aggregate `stats` is wanted. Locally executed specs (src-cli) are excluded by default,
 * which is right: they never run on executors.
 */
const BATCH_SPEC_PAGE_FIELDS = `
fragment BatchSpecPageFields on BatchSpecConnection {
  totalCount
  pageInfo {
    hasNextPage
    endCursor
  }
  nodes {
    state
    workspaceResolution {
      workspaces(first: 0) {
        stats {
          queued
          processing
          errored
        }
      }
    }
  }
}`;

/**
 * Everything one queue-depth read needs in one round trip. `siteAdmin` is asked for because a non-admin token sees
 * permission-filtered counts, which would under-report. The queue fields are skipped with `@include` when not needed.
 * Variables: `withCodeintel: Boolean!`, `withBatches: Boolean!`, `first: Int!` (batch spec page size).
 */
export const QUEUE_DEPTH: GraphQLOperation = {
  name: 'QueueDepth',
  document: `
query QueueDepth($withCodeintel: Boolean!, $withBatches: Boolean!, $first: Int!) {
  currentUser {
    siteAdmin
  }
  preciseIndexes(states: [QUEUED_FOR_INDEXING, INDEXING, INDEXING_ERRORED], first: 1) @include(if: $withCodeintel) {
    totalCount
  }
  batchSpecs(first: $first, excludeEmptySpecs: true) @include(if: $withBatches) {
    ...BatchSpecPageFields
  }
}
${BATCH_SPEC_PAGE_FIELDS}`,
};

/** The batch specs after the first page, fetched as one page. Variables: `first: Int!`, `after: String`. */
export const BATCH_SPECS_PAGE: GraphQLOperation = {
  name: 'BatchSpecsPage',
  document: `
query BatchSpecsPage($first: Int!, $after: String) {
  batchSpecs(first: $first, after: $after, excludeEmptySpecs: true) {
    ...BatchSpecPageFields
  }
}
${BATCH_SPEC_PAGE_FIELDS}`,
};

/**
 * The site configuration as an admin sees it: `id` is the revision an edit must name as `lastID`; secrets in
 * `effectiveContents` read back as `"REDACTED"`. Site-admin only. No variables.
 */
export const SITE_CONFIGURATION: GraphQLOperation = {
  name: 'SiteConfiguration',
  document: `
query SiteConfiguration {
  site {
    configuration {
      id
      effectiveContents
    }
  }
}`,
};

/**
 * Replaces the whole site configuration, only if `lastID` is still the latest revision; answers whether a restart is
 * needed. Site-admin only. Variables: `lastID: Int!`, `input: String!` (JSONC; a literal `"REDACTED"` keeps a secret).
 */
export const UPDATE_SITE_CONFIGURATION: GraphQLOperation = {
  name: 'UpdateSiteConfiguration',
  document: `
mutation UpdateSiteConfiguration($lastID: Int!, $input: String!) {
  updateSiteConfiguration(lastID: $lastID, input: $input)
}`,
};

/**
 * One page of Sourcegraph's executor heartbeat rows, newest first (`first_seen_at DESC`). No `active` argument: that
 * filter (seen within 15 minutes) would hide executors that stopped heartbeating, which is what a health check looks
 * for. `compatibility` can be left out: Sourcegraph fails that field for a version it cannot parse, and the rest of the
 * row is still wanted. Site-admin only. Variables: `first: Int!`, `after: String` (an opaque offset cursor),
 * `withCompatibility: Boolean!`.
 */
export const EXECUTORS_PAGE: GraphQLOperation = {
  name: 'ExecutorsPage',
  document: `
query ExecutorsPage($first: Int!, $after: String, $withCompatibility: Boolean!) {
  executors(first: $first, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      hostname
      queueName
      queueNames
      firstSeenAt
      lastSeenAt
      executorVersion
      compatibility @include(if: $withCompatibility)
    }
  }
}`,
};

/** Every operation fleetplane sends: the schema test validates each against Sourcegraph's real schema. */
export const ALL_OPERATIONS: readonly GraphQLOperation[] = [
  QUEUE_DEPTH,
  BATCH_SPECS_PAGE,
  SITE_CONFIGURATION,
  UPDATE_SITE_CONFIGURATION,
  EXECUTORS_PAGE,
];
