import { isRecord } from '../../shared/domain/guards.ts';

/**
 * Compute list filters, the forms a caller uses to find a group's autoscaler: `field = "value"`, `field != "value"`,
 * the legacy regular-expression forms `field eq regex` / `field ne regex` (the regex must match the whole value),
 * and several terms as `(a = "x") (b = "y")` or joined by `AND`. Fields are dotted paths into the resource.
 */

interface Term {
  readonly path: readonly string[];
  readonly test: (value: string) => boolean;
}

const TERM = /^([\w.]+)\s*(=|!=|\beq\b|\bne\b)\s*(.+)$/;

export function parseComputeFilter(filter: string): ((resource: unknown) => boolean) | string {
  const text = filter.trim();
  if (text === '') {
    return () => true;
  }
  const parts = text.startsWith('(')
    ? [...text.matchAll(/\(([^()]*)\)/g)].map((match) => match[1] ?? '')
    : text.split(/\s+AND\s+/);
  const terms: Term[] = [];
  for (const part of parts) {
    const match = TERM.exec(part.trim());
    if (match === null) {
      return `Invalid list filter expression '${filter}'.`;
    }
    const [, field = '', operator = '', raw = ''] = match;
    const value = raw.trim().replace(/^"(.*)"$/, '$1');
    let test: (candidate: string) => boolean;
    if (operator === 'eq' || operator === 'ne') {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${value})$`);
      } catch {
        return `Invalid regular expression in list filter '${filter}'.`;
      }
      test = operator === 'eq' ? (c) => pattern.test(c) : (c) => !pattern.test(c);
    } else {
      test = operator === '=' ? (c) => c === value : (c) => c !== value;
    }
    terms.push({ path: field.split('.'), test });
  }
  return (resource) => terms.every((term) => term.test(lookup(resource, term.path)));
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
