import { isRecord } from '../../shared/domain/guards.ts';

/**
 * Compute list filters, the forms fleetplane sends: `field = "value"`, `field != "value"`, the legacy
 * regular-expression forms `field eq regex` / `field ne regex` (the regex must match the whole value), and several
 * parenthesized terms, `(a = "x") (b = "y")`, joined by juxtaposition or `AND` (both mean and) and by `OR`. As in
 * AIP-160, `OR` binds tighter than `AND`: `(a) OR (b) AND (c)` is `(a OR b) AND c`. Unparenthesized terms may be
 * joined by `AND` only. Fields are dotted paths into the resource.
 */

interface Term {
  readonly path: readonly string[];
  readonly test: (value: string) => boolean;
}

const TERM = /^([\w.]+)\s*(=|!=|\beq\b|\bne\b)\s*(.+)$/;
/** A parenthesized term, or the `AND` / `OR` between two. */
const TOKEN = /\s*(?:\(([^()]*)\)|(AND|OR)\b)/y;

export function parseComputeFilter(filter: string): ((resource: unknown) => boolean) | string {
  const text = filter.trim();
  if (text === '') {
    return () => true;
  }
  const clauses = text.startsWith('(') ? parenthesized(text) : text.split(/\s+AND\s+/).map((part) => [part]);
  if (clauses === undefined) {
    return `Invalid list filter expression '${filter}'.`;
  }
  const parsed: Term[][] = [];
  for (const clause of clauses) {
    const terms: Term[] = [];
    for (const part of clause) {
      const term = parseTerm(part);
      if (typeof term === 'string') {
        return term === '' ? `Invalid list filter expression '${filter}'.` : `${term} in list filter '${filter}'.`;
      }
      terms.push(term);
    }
    parsed.push(terms);
  }
  return (resource) => parsed.every((terms) => terms.some((term) => term.test(lookup(resource, term.path))));
}

/** Clauses to AND, each a list of terms to OR; undefined when the text is not `(t) [AND|OR] (t) …`. */
function parenthesized(text: string): string[][] | undefined {
  const clauses: string[][] = [];
  let joiner: 'AND' | 'OR' | undefined = 'AND';
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const match = TOKEN.exec(text);
    if (match === null) {
      return undefined;
    }
    const [, term, keyword] = match;
    if (keyword === 'AND' || keyword === 'OR') {
      if (joiner !== undefined) {
        return undefined;
      }
      joiner = keyword;
      continue;
    }
    const last = clauses.at(-1);
    if (joiner === 'OR' && last !== undefined) {
      last.push(term ?? '');
    } else {
      clauses.push([term ?? '']);
    }
    joiner = undefined;
  }
  return joiner === undefined ? clauses : undefined;
}

/** The term, or why not: '' for a malformed one, a reason for a bad regular expression. */
function parseTerm(part: string): Term | string {
  const match = TERM.exec(part.trim());
  if (match === null) {
    return '';
  }
  const [, field = '', operator = '', raw = ''] = match;
  const value = raw.trim().replace(/^"(.*)"$/, '$1');
  let test: (candidate: string) => boolean;
  if (operator === 'eq' || operator === 'ne') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${value})$`);
    } catch {
      return 'Invalid regular expression';
    }
    test = operator === 'eq' ? (c) => pattern.test(c) : (c) => !pattern.test(c);
  } else {
    test = operator === '=' ? (c) => c === value : (c) => c !== value;
  }
  return { path: field.split('.'), test };
}

function lookup(resource: unknown, path: readonly string[]): string {
  let current: unknown = resource;
  for (const key of path) {
    current = isRecord(current) ? current[key] : undefined;
  }
  return typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean'
    ? String(current)
    : '';
}
