import { describe, expect, it } from 'vitest';
import type { PolicyResult, SimulationReport, TimelinePoint } from '../../../simulator/model.ts';
import { formatClock, formatDuration } from '../../../simulator/report/format.ts';
import { renderHtml } from '../../../simulator/report/html.ts';
import { formatJson } from '../../../simulator/report/json.ts';
import { formatTable } from '../../../simulator/report/table.ts';

const SAMPLE_S = 600;

/** Columns of one timeline, one value per sample, samples `SAMPLE_S` apart. */
function timeline(columns: Record<Exclude<keyof TimelinePoint, 't'>, readonly number[]>): TimelinePoint[] {
  return columns.depth.map((depth, index) => ({
    t: index * SAMPLE_S,
    depth,
    queued: columns.queued[index] ?? 0,
    desired: columns.desired[index] ?? 0,
    instances: columns.instances[index] ?? 0,
  }));
}

function result(overrides: Partial<PolicyResult> & Pick<PolicyResult, 'policy'>): PolicyResult {
  return {
    description: `${overrides.policy} with its defaults`,
    jobs: 1234,
    completed: 1234,
    unfinished: 0,
    wait: { p50: 0, p95: 0, max: 0, mean: 0 },
    instanceMinutes: 0,
    scaleActions: 0,
    interruptedJobs: 0,
    peakInstances: 0,
    bursts: [],
    timeline: [],
    ...overrides,
  };
}

// Peaks across policies: depth 37 (fleetplane), instances 11 (tf-aws); the shared axes top out at 40 and 15.
const REPORT: SimulationReport = {
  trace: { name: 'file:/tmp/day.csv', jobs: 1234, durationS: 5400 },
  scenario: {
    bootSeconds: 60,
    maxJobsPerInstance: 4,
    jobsPerInstance: 10,
    minInstances: 0,
    maxInstances: 20,
    tailSeconds: 1800,
    sampleSeconds: SAMPLE_S,
    seed: 1,
  },
  results: [
    result({
      policy: 'fleetplane',
      wait: { p50: 4.2, p95: 90, max: 300, mean: 12 },
      instanceMinutes: 1234.4,
      scaleActions: 17,
      peakInstances: 8,
      bursts: [
        { startS: 600, jobs: 30, coveredAfterS: 45, longestShortfallS: 8 },
        { startS: 3000, jobs: 25, coveredAfterS: 120, longestShortfallS: 9.5 },
        { startS: 3600, jobs: 40, coveredAfterS: 75, longestShortfallS: 4 },
      ],
      timeline: timeline({
        depth: [0, 5, 37, 30, 20, 12, 8, 4, 0, 0, 0, 0, 0],
        queued: [0, 2, 20, 10, 4, 0, 0, 0, 0, 0, 0, 0, 0],
        desired: [0, 1, 4, 8, 8, 6, 4, 2, 1, 0, 0, 0, 0],
        instances: [0, 1, 4, 8, 8, 6, 4, 2, 1, 0, 0, 0, 0],
      }),
    }),
    result({
      policy: 'tf-aws',
      completed: 1232,
      unfinished: 2,
      wait: { p50: 35, p95: 754, max: 3725, mean: 80 },
      instanceMinutes: 987.6,
      scaleActions: 6,
      interruptedJobs: 3,
      peakInstances: 11,
      bursts: [
        { startS: 600, jobs: 30, coveredAfterS: 200, longestShortfallS: 180 },
        { startS: 3000, jobs: 25 },
        { startS: 3600, jobs: 40, coveredAfterS: 400, longestShortfallS: 400 },
      ],
      timeline: timeline({
        depth: [0, 5, 12, 12, 12, 10, 8, 4, 0, 0, 0, 0, 0],
        queued: [0, 5, 10, 8, 6, 3, 0, 0, 0, 0, 0, 0, 0],
        desired: [0, 0, 3, 11, 11, 11, 8, 5, 5, 5, 2, 0, 0],
        instances: [0, 0, 2, 6, 11, 11, 8, 5, 5, 5, 2, 0, 0],
      }),
    }),
    result({
      policy: 'gce',
      wait: { p50: 0, p95: 8.5, max: 61, mean: 2 },
      instanceMinutes: 2400,
      scaleActions: 42,
      interruptedJobs: 7,
      peakInstances: 6,
      timeline: timeline({
        depth: [0, 5, 30, 25, 15, 10, 6, 2, 0, 0, 0, 0, 0],
        queued: [0, 1, 9, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        desired: [1, 2, 6, 6, 6, 4, 3, 2, 1, 1, 1, 1, 1],
        instances: [1, 2, 6, 6, 6, 4, 3, 2, 1, 1, 1, 1, 1],
      }),
    }),
  ],
};

// policy, p50, p95, max, instance-minutes, scale actions, interrupted, burst median, burst worst, unfinished
const EXPECTED_ROWS = [
  ['fleetplane', '4.2s', '1m30s', '5m00s', '1,234', '17', '0', '1m15s', '2m00s', '9.5s', '0'],
  ['tf-aws', '35s', '12m34s', '1h02m', '988', '6', '3', '6m40s', 'never', 'never', '2'],
  ['gce', '0s', '8.5s', '1m01s', '2,400', '42', '7', '–', '–', '–', '0'],
];

describe('formatDuration and formatClock', () => {
  it.each([
    [0, '0s'],
    [0.04, '0s'],
    [9.94, '9.9s'],
    [9.96, '10s'],
    [59.7, '1m00s'],
    [754, '12m34s'],
    [3599.6, '1h00m'],
    [86_400, '24h00m'],
    [Number.NaN, '–'],
  ])('formats %s seconds as %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it.each([
    [0, '0:00'],
    [1799, '0:29'],
    [5400, '1:30'],
    [129_600, '36:00'],
  ])('places %s seconds at %s', (seconds, expected) => {
    expect(formatClock(seconds)).toBe(expected);
  });
});

describe('formatTable', () => {
  it('puts every policy on one row with its numbers under the right headings', () => {
    // Act
    const lines = formatTable(REPORT).split('\n');

    // Assess
    expect(lines[0]).toBe('trace file:/tmp/day.csv: 1,234 jobs over 1h30m');
    expect(lines[1]).toBe('scenario: boot 60s, scaling at 10 jobs/instance, 4 job slots/instance, 0–20 instances');
    const labels = lines.find((line) => line.startsWith('policy')) ?? '';
    for (const expected of EXPECTED_ROWS) {
      const row = lines.find((line) => line.startsWith(`${expected[0]} `)) ?? '';
      expect(row.split(/\s{2,}/)).toEqual(expected);
      // Numbers are right-aligned: each cell ends where its one-word heading ends.
      expect(tokenEnds(row).slice(1)).toEqual(tokenEnds(labels).slice(1));
    }
    expect(lines.every((line) => line.length <= 120 && line === line.trimEnd())).toBe(true);
    expect(formatTable(REPORT)).not.toContain('\u001b');
  });

  it('shows control characters in the trace name instead of sending them to the terminal', () => {
    // Prepare
    const report = { ...REPORT, trace: { ...REPORT.trace, name: 'file:/tmp/\u001b[31mred\nx.csv' } };

    // Act
    const header = formatTable(report).split('\n')[0];

    // Assess
    expect(header).toBe('trace file:/tmp/\\x1b[31mred\\x0ax.csv: 1,234 jobs over 1h30m');
  });
});

describe('formatJson', () => {
  it('round-trips the report as 2-space JSON', () => {
    // Act
    const json = formatJson(REPORT);

    // Assess
    expect(JSON.parse(json)).toEqual(REPORT);
    expect(json.startsWith('{\n  "trace": {\n    "name": "file:/tmp/day.csv",')).toBe(true);
    expect(json).not.toContain('coveredAfterS": null');
  });

  it('writes the same text whatever order the report’s keys were built in', () => {
    // Prepare
    const reversed = reverseKeys(REPORT) as SimulationReport;

    // Act
    const json = formatJson(reversed);

    // Assess
    expect(JSON.stringify(Object.keys(reversed))).toBe('["results","scenario","trace"]');
    expect(json).toBe(formatJson(REPORT));
  });

  it('leaves timelines out when asked', () => {
    // Act
    const parsed = JSON.parse(formatJson(REPORT, { timeline: false })) as SimulationReport;

    // Assess
    expect(parsed.results.map((entry) => Object.keys(entry).includes('timeline'))).toEqual([false, false, false]);
    expect(parsed.results.map((entry) => entry.wait)).toEqual(REPORT.results.map((entry) => entry.wait));
  });
});

describe('renderHtml', () => {
  it('is one self-contained page', () => {
    // Act
    const html = renderHtml(REPORT);

    // Assess
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|\s(?:src|href)\s*=|https?:|url\(|@import/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('draws a queue chart and an instance chart for every policy, each with an accessible title', () => {
    // Act
    const html = renderHtml(REPORT);

    // Assess
    const articles = html.split('<article').slice(1);
    expect(articles).toHaveLength(3);
    for (const [index, article] of articles.entries()) {
      const policy = REPORT.results[index]?.policy;
      expect(article.match(/<svg /g)).toHaveLength(2);
      expect(article).toContain(`<title id="p${index}-depth-title">Queue depth (jobs): ${policy}</title>`);
      expect(article).toContain(`<title id="p${index}-instances-title">Instances: ${policy}</title>`);
      expect(article.match(/<polyline class="line (depth|queued|instances|desired)"/g)).toHaveLength(4);
    }
    expect(html).toContain('Peak queued + processing 37 at 0:20; peak queued 20 at 0:20.');
  });

  it('escapes the trace name', () => {
    // Prepare
    const report = { ...REPORT, trace: { ...REPORT.trace, name: 'file:/tmp/<script>alert("x")</script>&co.csv' } };

    // Act
    const html = renderHtml(report);

    // Assess
    expect(html).not.toMatch(/<script|<\/script>&co/i);
    expect(html).toContain('<title>fleetplane simulate: file:/tmp/&lt;script&gt;alert(&quot;x&quot;)');
    expect(html).toContain('file:/tmp/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co.csv: 1,234 jobs');
  });

  it('gives every policy the same scales, so equal heights mean equal values', () => {
    // Act
    const svgs = renderHtml(REPORT).split('<svg ').slice(1);

    // Assess: charts alternate depth, instances per policy; each axis tops at the peak over all policies
    const topLabel = (svg: string, axis: string) => labelsOf(svg, axis).at(-1);
    expect(svgs.map((svg) => topLabel(svg, 'y-ticks'))).toEqual(['40', '15', '40', '15', '40', '15']);
    expect(svgs.map((svg) => labelsOf(svg, 'x-ticks').join(' '))).toEqual(
      Array.from({ length: 6 }, () => '0:00 0:30 1:00 1:30 2:00'),
    );
  });

  it('shows the same numbers as the terminal table', () => {
    // Act
    const html = renderHtml(REPORT);

    // Assess
    const rows = [...html.matchAll(/<tr><th scope="row">.*?<\/tr>/g)].map(([row]) =>
      [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((cell) => cell[1]),
    );
    expect(rows).toEqual(EXPECTED_ROWS);
  });

  it('downsamples a long timeline but keeps a one-sample spike at full height', () => {
    // Prepare: 3000 samples of a queue between 0 and 4, with one sample of 100
    const points = Array.from({ length: 3000 }, (_, index) => {
      const depth = index === 1777 ? 100 : index % 5;
      return { t: index * 10, depth, queued: 0, desired: 1, instances: 1 };
    });
    const report: SimulationReport = {
      ...REPORT,
      trace: { ...REPORT.trace, durationS: 30_000 },
      results: [result({ policy: 'spiky', timeline: points })],
    };

    // Act
    const svg = renderHtml(report).split('<svg ')[1] ?? '';

    // Assess
    const coordinates = (svg.match(/<polyline class="line depth" points="([^"]*)"/)?.[1] ?? '').split(' ');
    expect(coordinates.length).toBeGreaterThan(100);
    expect(coordinates.length).toBeLessThan(1000);
    expect(coordinates.every((pair) => /^\d+(\.\d)?,\d+(\.\d)?$/.test(pair))).toBe(true);
    const top = svg.match(/<text x="[\d.]+" y="([\d.]+)" dy="0.32em">100<\/text>/)?.[1];
    const highest = Math.min(...coordinates.map((pair) => Number(pair.split(',')[1])));
    expect(top).toBeDefined();
    expect(highest).toBe(Number(top));
  });
});

/** Where each whitespace-separated word of a line ends. */
function tokenEnds(line: string): number[] {
  return [...line.matchAll(/\S+/g)].map((match) => match.index + match[0].length);
}

function labelsOf(svg: string, axis: string): string[] {
  const group = svg.match(new RegExp(`<g class="${axis}"[^>]*>(.*?)</g>`))?.[1] ?? '';
  return [...group.matchAll(/>([^<]+)<\/text>/g)].map((match) => match[1] ?? '');
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(reverseKeys);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, entry]) => [key, reverseKeys(entry)]),
    );
  }
  return value;
}
