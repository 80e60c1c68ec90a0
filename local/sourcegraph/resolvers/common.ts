import * as z from 'zod';
import type { Viewer } from '../auth.ts';

/**
 * Pieces every resolver area shares. Resolvers throw plain `Error`s: graphql-js turns each into an `errors` entry at
 * the field's path, and a non-null field then nulls its parent, exactly as graph-gophers does on a real instance.
 */

/** `auth.ErrMustBeSiteAdmin`'s text; the product's client recognises refusals by it. */
export const MUST_BE_SITE_ADMIN = 'must be site admin';

export function requireSiteAdmin(viewer: Viewer): void {
  if (!viewer.siteAdmin) {
    throw new Error(MUST_BE_SITE_ADMIN);
  }
}

/** Parses resolver arguments, which graphql-js has already coerced to the SDL's types. */
export function argsOf<T extends z.ZodType>(schema: T, args: unknown): z.output<T> {
  const result = schema.safeParse(args);
  if (!result.success) {
    // Only reachable if the SDL and the resolver disagree: an emulator bug, not a client error.
    throw new Error(`emulator bug: unexpected arguments: ${result.error.message}`);
  }
  return result.data;
}

export const pagingArgs = z.object({
  first: z.number().int().nullish(),
  after: z.string().nullish(),
});

export interface PageInfo {
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

/** Offset paging: the cursor is the index of the next row, as a decimal string. */
export function offsetPage<T>(
  rows: readonly T[],
  first: number,
  after: string | null | undefined,
): { nodes: T[]; pageInfo: PageInfo } {
  const start = after === null || after === undefined ? 0 : cursorNumber(after);
  const nodes = rows.slice(start, start + Math.max(0, first));
  const next = start + nodes.length;
  const hasNextPage = next < rows.length;
  return { nodes, pageInfo: { hasNextPage, endCursor: hasNextPage ? String(next) : null } };
}

export function cursorNumber(cursor: string): number {
  if (!/^\d+$/.test(cursor)) {
    throw new Error(`invalid cursor: ${JSON.stringify(cursor)}`);
  }
  return Number(cursor);
}

/** A relay global id, `base64("<Type>:<key>")`, as graph-gophers' `relay.MarshalID` builds it. */
export function relayId(type: string, key: string | number): string {
  return Buffer.from(`${type}:${JSON.stringify(key)}`, 'utf8').toString('base64');
}

/** RFC 3339 in UTC with whole seconds, as Sourcegraph's `DateTime` scalar is written. */
export function dateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
