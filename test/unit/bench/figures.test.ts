import { describe, expect, it } from 'vitest';
import {
  type BenchFigure,
  baselineRatio,
  formatJson,
  formatNumber,
  formatTable,
  judge,
  median,
  meetsTarget,
} from '../../../bench/figures.ts';

const figure = (overrides: Partial<BenchFigure> = {}): BenchFigure => ({
  id: 'P3.sourcegraph-requests',
  benchmark: 'P3',
  label: 'Sourcegraph requests per cycle',
  value: 2,
  unit: 'requests',
  ...overrides,
});

describe('meetsTarget', () => {
  it.each([
    { value: 2, op: '<=', target: 2, met: true },
    { value: 3, op: '<=', target: 2, met: false },
    { value: 1.5, op: '<=', target: 2, met: true },
    { value: 2, op: '>=', target: 2, met: true },
    { value: 1, op: '>=', target: 2, met: false },
    { value: Number.NaN, op: '<=', target: 2, met: false },
    { value: Number.POSITIVE_INFINITY, op: '>=', target: 2, met: false },
  ] as const)('$value $op $target is $met', ({ value, op, target, met }) => {
    // Act
    const result = meetsTarget(value, { op, value: target });

    // Assess
    expect(result).toBe(met);
  });
});

describe('judge', () => {
  it('sets met from the target', () => {
    // Prepare
    const missed = figure({ value: 3, target: { op: '<=', value: 2 } });

    // Act
    const judged = judge(missed);

    // Assess
    expect(judged.met).toBe(false);
    expect(judge(figure({ target: { op: '<=', value: 2 } })).met).toBe(true);
  });

  it('overrides a stale met, and drops it from a figure without a target', () => {
    // Prepare
    const stale = figure({ value: 3, target: { op: '<=', value: 2 }, met: true });
    const informational = figure({ met: false });

    // Act
    const rejudged = judge(stale);
    const untargeted = judge(informational);

    // Assess
    expect(rejudged.met).toBe(false);
    expect(untargeted).not.toHaveProperty('met');
  });
});

describe('median', () => {
  it.each([
    { values: [5], expected: 5 },
    { values: [3, 1, 2], expected: 2 },
    { values: [4, 1, 3, 2], expected: 2.5 },
    { values: [10, 10, 1000], expected: 10 },
  ])('of $values is $expected', ({ values, expected }) => {
    // Act
    const result = median(values);

    // Assess
    expect(result).toBe(expected);
  });

  it('leaves its input in order, and refuses an empty list', () => {
    // Prepare
    const values = [3, 1, 2];

    // Act
    median(values);

    // Assess
    expect(values).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('baselineRatio', () => {
  it('divides by a baseline in the same unit only', () => {
    // Prepare
    const same = figure({ value: 90, unit: 'ms', baseline: { label: 'empty module', value: 0.3, unit: 'ms' } });
    const other = figure({ value: 10, unit: '× RTT', baseline: { label: 'round trip', value: 51, unit: 'ms' } });

    // Act
    const ratios = [baselineRatio(same), baselineRatio(other), baselineRatio(figure())];

    // Assess
    expect(ratios[0]).toBeCloseTo(300);
    expect(ratios.slice(1)).toEqual([undefined, undefined]);
  });
});

describe('formatNumber', () => {
  it.each([
    { value: 40, text: '40' },
    { value: 676.2919, text: '676.3' },
    { value: 12.9245, text: '12.92' },
    { value: 0.31234, text: '0.312' },
    { value: 2.5, text: '2.5' },
    { value: Number.NaN, text: 'NaN' },
  ])('$value reads $text', ({ value, text }) => {
    // Act
    const result = formatNumber(value);

    // Assess
    expect(result).toBe(text);
  });
});

describe('formatTable', () => {
  it('says MISSED, met or info per row, shows targets and baselines, and lists notes by id', () => {
    // Prepare
    const figures = [
      judge(figure({ target: { op: '<=', value: 2 }, note: 'QueueDepth ×1, BatchSpecsPage ×1' })),
      judge(
        figure({
          id: 'P3.cycle-wall-ratio',
          label: 'cycle wall time in round trips',
          value: 12.92,
          unit: '× RTT',
          target: { op: '<=', value: 4 },
          baseline: { label: 'round trip', value: 51.9, unit: 'ms' },
        }),
      ),
      judge(
        figure({
          id: 'P4.aws-init-rss',
          label: 'peak RSS',
          value: 68.1,
          unit: 'MiB',
          baseline: { label: 'idle', value: 43.2, unit: 'MiB' },
        }),
      ),
    ];

    // Act
    const lines = formatTable(figures).split('\n');

    // Assess
    expect(lines[0]).toMatch(/^id\s+measure\s+value\s+target\s+result\s+baseline$/);
    expect(lines[2]).toMatch(
      /^P3\.sourcegraph-requests\s+Sourcegraph requests per cycle\s+2 requests\s+<= 2 requests\s+met$/,
    );
    expect(lines[3]).toMatch(/12\.92 × RTT\s+<= 4 × RTT\s+MISSED\s+round trip: 51\.9 ms$/);
    expect(lines[4]).toMatch(/68\.1 MiB\s+info\s+idle: 43\.2 MiB \(value = 1\.58×\)$/);
    expect(lines.slice(5)).toEqual(['', 'notes:', '  P3.sourcegraph-requests: QueueDepth ×1, BatchSpecsPage ×1']);
  });

  it('lines the columns up', () => {
    // Prepare
    const figures = [figure(), figure({ id: 'P4.cycle-peak-rss', label: 'x', value: 107.2, unit: 'MiB' })];

    // Act
    const lines = formatTable(figures).split('\n');

    // Assess
    const valueColumn = lines[0]?.indexOf('value');
    expect(lines[2]?.indexOf('2 requests')).toBe(valueColumn);
    expect(lines[3]?.indexOf('107.2 MiB')).toBe(valueColumn);
  });
});

describe('formatJson', () => {
  it('puts one key per line, and an array of scalars on one line when it fits', () => {
    // Prepare
    const results = { suites: ['P3', 'P4'], failures: [], figures: [{ id: 'a', target: null, met: true }] };

    // Act
    const text = formatJson(results);

    // Assess
    expect(text).toBe(
      [
        '{',
        '  "suites": ["P3", "P4"],',
        '  "failures": [],',
        '  "figures": [',
        '    {',
        '      "id": "a",',
        '      "target": null,',
        '      "met": true',
        '    }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(text)).toEqual(results);
  });

  it('breaks an array that would not fit the width', () => {
    // Prepare
    const long = { values: ['a'.repeat(10), 'b'.repeat(10)] };

    // Act
    const text = formatJson(long, 30);

    // Assess
    expect(text).toBe(['{', '  "values": [', '    "aaaaaaaaaa",', '    "bbbbbbbbbb"', '  ]', '}', ''].join('\n'));
  });
});
