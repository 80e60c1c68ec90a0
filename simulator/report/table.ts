import type { SimulationReport } from '../model.ts';
import { columnGroups, describeScenario, describeTrace, printable, SUMMARY_COLUMNS } from './format.ts';

const GAP = '  ';

/**
 * The comparison as plain aligned text: one row per policy, numbers right-aligned under one-word headings with group
 * headings above them. No colour and no trailing spaces, because the same text is pasted into READMEs and issues.
 * Ends with a newline.
 */
export function formatTable(report: SimulationReport): string {
  const rows = report.results.map((result) => SUMMARY_COLUMNS.map((column) => printable(column.cell(result))));
  const widths = SUMMARY_COLUMNS.map((column, index) =>
    Math.max(column.label.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const groups = columnGroups(SUMMARY_COLUMNS);
  for (const group of groups) {
    // A group heading wider than its columns widens the last of them, so headings never run into each other.
    const shortBy = group.label.length - spanWidth(widths, group.first, group.last);
    if (shortBy > 0) {
      widths[group.last] = (widths[group.last] ?? 0) + shortBy;
    }
  }

  const align = (text: string, index: number) => {
    const width = widths[index] ?? 0;
    return SUMMARY_COLUMNS[index]?.numeric ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]) => cells.map(align).join(GAP).trimEnd();
  const groupLine = groups
    .map((group) => groupHeading(group.label, spanWidth(widths, group.first, group.last), group.first === group.last))
    .join(GAP)
    .trimEnd();

  return [
    `trace ${printable(describeTrace(report.trace))}`,
    `scenario: ${describeScenario(report.scenario)}`,
    '',
    groupLine,
    line(SUMMARY_COLUMNS.map((column) => column.label)),
    ...rows.map(line),
    '',
  ].join('\n');
}

function spanWidth(widths: readonly number[], first: number, last: number): number {
  let width = 0;
  for (let index = first; index <= last; index++) {
    width += widths[index] ?? 0;
  }
  return width + GAP.length * (last - first);
}

/** A heading over one column sits flush right like its numbers; over several, dashes show how far it reaches. */
function groupHeading(label: string, width: number, single: boolean): string {
  if (single || label === '') {
    return label.padStart(width);
  }
  const dashes = width - label.length - 2;
  if (dashes < 2) {
    return label.padStart(Math.floor((width + label.length) / 2)).padEnd(width);
  }
  const left = '-'.repeat(Math.floor(dashes / 2));
  const right = '-'.repeat(dashes - left.length);
  return `${left} ${label} ${right}`;
}
