import { buildSchema, graphql } from 'graphql';
import * as z from 'zod';
import { loadSchemaSdl } from '../../../shared/sourcegraph/schema.ts';

export interface FakeSpec {
  readonly state: string;
  /** `null`: workspace resolution has not run. */
  readonly stats: { readonly queued: number; readonly processing: number; readonly errored: number } | null;
}

export interface FakeState {
  siteAdmin: boolean | null;
  indexesQueued: number;
  specs: FakeSpec[];
}

export interface FakeCall {
  readonly operationName: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** The top-level fields of the answer's `data`, to check what was actually asked for. */
  readonly fields: readonly string[];
}

/** Replaces the executed answer for one call: return a body to send it instead, or undefined to execute normally. */
export type Override = (call: Omit<FakeCall, 'fields'>, index: number) => unknown;

const requestBody = z.object({
  query: z.string(),
  operationName: z.string(),
  variables: z.record(z.string(), z.unknown()),
});
const paging = z.object({ first: z.number().int().nonnegative(), after: z.string().nullish() });

/**
 * An in-process Sourcegraph: the operations run through graphql-js against our SDL subset, so `@include`, fragments
 * and variables behave as a real GraphQL server would. Cursors are spec offsets.
 */
export function fakeSourcegraph(state: FakeState, override?: Override) {
  const schema = buildSchema(loadSchemaSdl());
  const calls: FakeCall[] = [];

  const rootValue = {
    currentUser: () => (state.siteAdmin === null ? null : { siteAdmin: state.siteAdmin }),
    preciseIndexes: () => ({ totalCount: state.indexesQueued }),
    batchSpecs: (args: unknown) => {
      const { first, after } = paging.parse(args);
      const start = after ? Number(after) : 0;
      const page = state.specs.slice(start, start + first);
      return {
        totalCount: state.specs.length,
        pageInfo: {
          hasNextPage: start + page.length < state.specs.length,
          endCursor: page.length > 0 ? String(start + page.length) : null,
        },
        nodes: page.map((spec) => ({
          state: spec.state,
          workspaceResolution: spec.stats === null ? null : { workspaces: () => ({ stats: spec.stats }) },
        })),
      };
    },
  };

  const fetch = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const { query, operationName, variables } = requestBody.parse(JSON.parse(String(init?.body)));
    const replaced = override?.({ operationName, variables }, calls.length);
    const result =
      replaced ?? (await graphql({ schema, source: query, rootValue, variableValues: variables, operationName }));
    const parsed = z.object({ data: z.record(z.string(), z.unknown()).nullish() }).parse(result);
    calls.push({ operationName, variables, fields: Object.keys(parsed.data ?? {}) });
    return new Response(JSON.stringify(result), { status: 200, headers: { 'content-type': 'application/json' } });
  };

  return { fetch, calls };
}
