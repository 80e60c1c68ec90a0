import { buildSchema, graphql } from 'graphql';
import * as z from 'zod';
import { isRecord } from '../../shared/domain/guards.ts';
import { loadSchemaSdl } from '../../shared/sourcegraph/schema.ts';
import type { EmulatorRequest, EmulatorResponse } from '../http/emulator.ts';
import { plainText, type Viewer } from './auth.ts';
import { createRootValue, type ResolverDeps } from './resolvers/root.ts';

const requestBody = z.object({
  query: z.string(),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

/**
 * `POST /.api/graphql`: the body is executed by graphql-js against the project's SDL subset, so a document that does
 * not fit Sourcegraph's schema gets the validation errors graphql-js reports, with HTTP 200 as Sourcegraph answers
 * them. Only a body that is not a GraphQL request at all is an HTTP error.
 */
export function createGraphQLEndpoint(deps: ResolverDeps) {
  const schema = buildSchema(loadSchemaSdl());

  return async (request: EmulatorRequest, viewer: Viewer): Promise<EmulatorResponse> => {
    const body = requestBody.safeParse(parseJson(request.text));
    if (!body.success) {
      return plainText(400, 'request body must be a JSON object with a string "query"');
    }
    const { query, variables, operationName } = body.data;
    const result = await graphql({
      schema,
      source: query,
      rootValue: createRootValue(deps, viewer),
      variableValues: variables ?? undefined,
      operationName: operationName ?? undefined,
    });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
  };
}

/**
 * The operation a request is for, for the request log and fault rules: the body's `operationName`, else the
 * `?<Name>` query string the product's client (and Sourcegraph's own web app) appends.
 */
export function graphqlOperationOf(request: EmulatorRequest): string | undefined {
  const json = parseJson(request.text);
  if (isRecord(json) && typeof json.operationName === 'string' && json.operationName !== '') {
    return json.operationName;
  }
  const [first] = request.query.keys();
  return first === undefined || first === '' ? undefined : first;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
