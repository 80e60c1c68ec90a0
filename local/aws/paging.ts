import { AwsServiceError } from './errors.ts';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken: string | undefined;
  /** Offset just past this page: what is left for later pages starts here. */
  readonly end: number;
}

/**
 * One page of `items` from the offset in `token`. Tokens are opaque to callers (base64 of the offset and the
 * listing they belong to), so a token replayed against another listing is refused like AWS refuses a stale token,
 * instead of silently paging through the wrong data.
 */
export function pageOf<T>(items: readonly T[], token: string | undefined, size: number, scope: string): Page<T> {
  const offset = token === undefined || token === '' ? 0 : offsetOf(token, scope);
  const end = offset + Math.max(1, size);
  return {
    items: items.slice(offset, end),
    nextToken: end < items.length ? tokenFor(end, scope) : undefined,
    end,
  };
}

export function tokenFor(offset: number, scope: string): string {
  return Buffer.from(`${scope}:${offset}`, 'utf8').toString('base64url');
}

export function offsetOf(token: string, scope: string): number {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^(.*):(\d+)$/.exec(decoded);
  if (match === null || match[1] !== scope) {
    throw new AwsServiceError('InvalidNextToken', 'The NextToken value is invalid.');
  }
  return Number(match[2]);
}
