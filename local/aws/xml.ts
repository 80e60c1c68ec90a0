/**
 * Just enough XML for awsQuery and ec2Query responses: element names from object keys, lists as `<member>` items
 * (awsQuery) or `<item>` items (EC2), values escaped. Key order is kept, which keeps answers diffable against AWS's
 * own.
 */
export type XmlScalar = string | number | boolean | Date;
export type XmlValue = XmlScalar | XmlFields | readonly XmlValue[] | undefined;
export interface XmlFields {
  readonly [element: string]: XmlValue;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function isScalar(value: XmlValue): value is XmlScalar {
  return typeof value !== 'object' || value instanceof Date;
}

function isList(value: XmlValue): value is readonly XmlValue[] {
  return Array.isArray(value);
}

/** The element each list entry is wrapped in. */
export type XmlListItem = 'member' | 'item';

function renderValue(value: XmlValue, item: XmlListItem): string {
  if (value === undefined) {
    return '';
  }
  if (isScalar(value)) {
    // AWS writes timestamps as ISO 8601 with milliseconds and `Z`, which the SDK's date parser expects.
    return escapeXml(value instanceof Date ? value.toISOString() : String(value));
  }
  if (isList(value)) {
    return value.map((entry) => `<${item}>${renderValue(entry, item)}</${item}>`).join('');
  }
  return renderFields(value, item);
}

export function renderFields(fields: XmlFields, item: XmlListItem = 'member'): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<${name}>${renderValue(value, item)}</${name}>`)
    .join('');
}
