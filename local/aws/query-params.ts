import { AwsServiceError } from './errors.ts';

/**
 * awsQuery request parameters (`application/x-www-form-urlencoded`): scalars by name, lists as `Name.member.N`. The
 * SDK sends an empty list as a bare `Name=`; both spellings read back as a list. Validation messages follow the
 * service's own ("1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: …").
 */
export interface QueryParams {
  readonly action: string | undefined;
  readonly version: string | undefined;
  string(name: string): string | undefined;
  requiredString(name: string): string;
  /** An integer in [min, max], or undefined when absent. */
  integer(name: string, bounds?: { readonly min?: number; readonly max?: number }): number | undefined;
  boolean(name: string): boolean | undefined;
  list(name: string): readonly string[] | undefined;
  /** An ec2Query list: `Name.N`, with no `member` step (EC2 flattens its lists). */
  flatList(name: string): readonly string[] | undefined;
}

export function parseQueryParams(body: string): QueryParams {
  const params = new URLSearchParams(body);
  const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
  const string = (name: string) => params.get(name) ?? undefined;

  return {
    action: string('Action'),
    version: string('Version'),
    string,
    requiredString(name) {
      const value = string(name);
      if (value === undefined || value === '') {
        throw new AwsServiceError(
          'ValidationError',
          `1 validation error detected: Value null at '${camel(name)}' failed to satisfy constraint: Member must not be null`,
        );
      }
      return value;
    },
    integer(name, bounds = {}) {
      const raw = string(name);
      if (raw === undefined) {
        return undefined;
      }
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(value)) {
        throw new AwsServiceError('ValidationError', `Value '${raw}' at '${camel(name)}' is not a valid integer`);
      }
      if (bounds.max !== undefined && value > bounds.max) {
        throw new AwsServiceError(
          'ValidationError',
          `1 validation error detected: Value '${raw}' at '${camel(name)}' failed to satisfy constraint: Member must have value less than or equal to ${bounds.max}`,
        );
      }
      if (bounds.min !== undefined && value < bounds.min) {
        throw new AwsServiceError(
          'ValidationError',
          `1 validation error detected: Value '${raw}' at '${camel(name)}' failed to satisfy constraint: Member must have value greater than or equal to ${bounds.min}`,
        );
      }
      return value;
    },
    boolean(name) {
      const raw = string(name);
      if (raw === undefined) {
        return undefined;
      }
      if (raw !== 'true' && raw !== 'false') {
        throw new AwsServiceError('ValidationError', `Value '${raw}' at '${camel(name)}' is not a valid boolean`);
      }
      return raw === 'true';
    },
    list: (name) => indexed(params, `${name}.member.`, name),
    flatList: (name) => indexed(params, `${name}.`, name),
  };
}

/** Values of `<prefix>N` in index order; an empty list when only the bare name was sent. */
function indexed(params: URLSearchParams, prefix: string, name: string): readonly string[] | undefined {
  const members = new Map<number, string>();
  for (const [key, value] of params) {
    if (key.startsWith(prefix)) {
      const index = Number(key.slice(prefix.length));
      if (Number.isInteger(index) && index >= 1) {
        members.set(index, value);
      }
    }
  }
  if (members.size === 0) {
    return params.has(name) ? [] : undefined;
  }
  return [...members].sort(([a], [b]) => a - b).map(([, value]) => value);
}
