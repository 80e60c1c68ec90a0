/**
 * A string value in a Cloud Monitoring or Compute list filter (`field = "value"`): quoted, with quotes and
 * backslashes escaped, so a label or name can never end the value early and widen the filter.
 */
export function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
