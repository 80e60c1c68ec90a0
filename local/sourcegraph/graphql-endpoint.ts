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

/** The message a top-level field's resolver fails with now (consuming one use of the fault), or none. */
export type ResolverFault = (field: string) => string | undefined;

/**
 * `POST /.api/graphql`: the body is executed by graphql-js against the project's SDL subset, so a document that does
 * not fit Sourcegraph's schema gets the validation errors graphql-js reports, with HTTP 200 as Sourcegraph answers
 * them. Only a body that is not a GraphQL request at all is an HTTP error. A resolver fault makes a top-level field's
 * resolver throw, so its error comes back as Sourcegraph's do: HTTP 200, the field null, an error whose `path` names it.
 */
export function createGraphQLEndpoint(deps: ResolverDeps, faultOf: ResolverFault = () => undefined) {
  const schema = buildSchema(loadSchemaSdl());
  const withFaults = (root: Readonly<Record<string, (args: never) => unknown>>) =>
    Object.fromEntries(
      Object.entries(root).map(([field, resolve]) => [
        field,
        (args: never) => {
          const message = faultOf(field);
          if (message !== undefined) {
            throw new Error(message);
          }
          return resolve(args);
        },
      ]),
    );

  return async (request: EmulatorRequest, viewer: Viewer): Promise<EmulatorResponse> => {
    const body = requestBody.safeParse(parseJson(request.text));
    if (!body.success) {
      return plainText(400, 'request body must be a JSON object with a string "query"');
    }
    const { query, variables, operationName } = body.data;
    const result = await graphql({
      schema,
      source: query,
      rootValue: withFaults(createRootValue(deps, viewer)),
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
