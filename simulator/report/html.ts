import { escapeHtml } from '../../shared/domain/html-text.ts';
import type { PolicyResult, SimulationReport, TimelinePoint } from '../model.ts';
import {
  columnGroups,
  describeScenario,
  describeTrace,
  formatClock,
  formatCount,
  printable,
  SUMMARY_COLUMNS,
} from './format.ts';

/** Chart geometry in SVG user units; at a chart's natural width one unit is one CSS pixel. */
const CHART = { width: 480, height: 200, left: 46, right: 20, top: 10, bottom: 24 } as const;
const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;
const PLOT_HEIGHT = CHART.height - CHART.top - CHART.bottom;
const PLOT_BOTTOM = CHART.top + PLOT_HEIGHT;

/** Candidate spacings of time ticks, in seconds: minutes for short traces up to a day for long ones. */
const TIME_STEPS_S = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 43_200, 86_400] as const;
/** More intervals than this and `h:mm` labels collide at the narrowest column width. */
const MAX_TIME_INTERVALS = 6;
/** Intervals on a count axis: enough to read a value off, few enough to stay quiet. */
const MAX_COUNT_INTERVALS = 5;

type SeriesField = Exclude<keyof TimelinePoint, 't'>;

interface Series {
  readonly field: SeriesField;
  readonly label: string;
}

interface ChartKind {
  readonly id: 'depth' | 'instances';
  readonly title: string;
  readonly series: readonly Series[];
}

const CHARTS: readonly ChartKind[] = [
  {
    id: 'depth',
    title: 'Queue depth (jobs)',
    series: [
      { field: 'depth', label: 'queued + processing' },
      { field: 'queued', label: 'queued' },
    ],
  },
  {
    id: 'instances',
    title: 'Instances',
    series: [
      { field: 'instances', label: 'instances' },
      { field: 'desired', label: 'desired' },
    ],
  },
];

interface Axis {
  readonly max: number;
  readonly ticks: readonly number[];
}

/**
 * One self-contained page comparing the policies: the summary table, then per policy its queue and its fleet over
 * time. Nothing loads from anywhere (a Content-Security-Policy forbids it), so the file can be mailed or attached to
 * an issue. Every policy's charts share one time axis and, per chart, one count axis, so equal heights mean equal
 * values. Ends with a newline.
 */
export function renderHtml(report: SimulationReport): string {
  const time = timeAxis(report);
  const charts = CHARTS.map((kind) => ({ kind, count: countAxis(peakOf(report.results, kind.series)) }));
  const traceText = text(describeTrace(report.trace));
  const panels = report.results.map((result, index) => policyPanel(result, index, time, charts));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>fleetplane simulate: ${text(report.trace.name)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    '<h1>Scaling policies compared</h1>',
    `<p class="meta">Trace ${traceText}<br>Scenario: ${text(describeScenario(report.scenario))}</p>`,
    '</header>',
    '<section aria-labelledby="summary">',
    '<h2 id="summary">Summary</h2>',
    summaryTable(report.results),
    '<p class="note">Wait: from a job’s arrival until the start of the run that completed it. Burst cover: from a ' +
      'burst’s first arrival until, all its jobs arrived, the desired size covered demand; gap: the longest stretch ' +
      'within a burst in which the desired size was below what the queue needed. An unfinished job’s wait counts ' +
      'until the run ends.</p>',
    '</section>',
    '<section aria-labelledby="over-time">',
    '<h2 id="over-time">Over time</h2>',
    '<p class="note">Time runs in hours:minutes from the trace’s start. All policies share the same scales.</p>',
    `<div class="policies">${panels.join('')}</div>`,
    '</section>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function summaryTable(results: readonly PolicyResult[]): string {
  const groups = columnGroups(SUMMARY_COLUMNS)
    .map((group) => {
      const span = group.last - group.first + 1;
      const colspan = span > 1 ? ` colspan="${span}"` : '';
      if (group.label === '') {
        return `<td${colspan}></td>`;
      }
      return `<th${colspan} scope="${span > 1 ? 'colgroup' : 'col'}">${text(group.label)}</th>`;
    })
    .join('');
  const labels = SUMMARY_COLUMNS.map((column) => `<th scope="col">${text(column.label)}</th>`).join('');
  const rows = results.map((result) => {
    const cells = SUMMARY_COLUMNS.map((column, index) => {
      const value = text(column.cell(result));
      return index === 0 ? `<th scope="row">${value}</th>` : `<td>${value}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return [
    '<div class="table-wrap"><table>',
    `<thead><tr class="groups">${groups}</tr><tr>${labels}</tr></thead>`,
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table></div>',
  ].join('\n');
}

interface ScaledChart {
  readonly kind: ChartKind;
  /** Shared by every policy's chart of this kind. */
  readonly count: Axis;
}

function policyPanel(result: PolicyResult, index: number, time: Axis, charts: readonly ScaledChart[]): string {
  const figures = charts.map(({ kind, count }) => {
    const legend = kind.series.map((series) => `<span class="key ${series.field}">${text(series.label)}</span>`);
    return [
      '<figure>',
      `<figcaption><b>${text(kind.title)}</b>${legend.join('')}</figcaption>`,
      chartSvg(result, `p${index}-${kind.id}`, kind, time, count),
      '</figure>',
    ].join('\n');
  });
  return [
    '<article class="policy">',
    `<h3>${text(result.policy)}</h3>`,
    `<p>${text(result.description)}</p>`,
    ...figures,
    '</article>',
  ].join('\n');
}

function chartSvg(result: PolicyResult, id: string, kind: ChartKind, time: Axis, count: Axis): string {
  const x = (seconds: number) => CHART.left + (seconds / time.max) * PLOT_WIDTH;
  const y = (value: number) => PLOT_BOTTOM - (value / count.max) * PLOT_HEIGHT;
  const gridLines = count.ticks.map(
    (tick) => `<line x1="${CHART.left}" x2="${CHART.left + PLOT_WIDTH}" y1="${num(y(tick))}" y2="${num(y(tick))}"/>`,
  );
  const countLabels = count.ticks.map(
    (tick) => `<text x="${CHART.left - 6}" y="${num(y(tick))}" dy="0.32em">${formatCount(tick)}</text>`,
  );
  const timeMarks = time.ticks.map(
    (tick) => `<line x1="${num(x(tick))}" x2="${num(x(tick))}" y1="${PLOT_BOTTOM}" y2="${PLOT_BOTTOM + 4}"/>`,
  );
  const timeLabels = time.ticks.map(
    (tick) => `<text x="${num(x(tick))}" y="${PLOT_BOTTOM + 16}">${formatClock(tick)}</text>`,
  );
  const lines = kind.series.map((series) => {
    const points = polylinePoints(result.timeline, series.field, x, y);
    return points === '' ? '' : `<polyline class="line ${series.field}" points="${points}"/>`;
  });
  const empty =
    result.timeline.length === 0
      ? `<text class="empty" x="${CHART.left + PLOT_WIDTH / 2}" y="${CHART.top + PLOT_HEIGHT / 2}">no samples</text>`
      : '';
  return [
    `<svg viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-labelledby="${id}-title ${id}-desc">`,
    `<title id="${id}-title">${text(`${kind.title}: ${result.policy}`)}</title>`,
    `<desc id="${id}-desc">${text(describePeaks(result.timeline, kind.series))}</desc>`,
    `<g class="grid">${gridLines.join('')}</g>`,
    `<g class="axis">${timeMarks.join('')}</g>`,
    `<g class="y-ticks" text-anchor="end">${countLabels.join('')}</g>`,
    `<g class="x-ticks" text-anchor="middle">${timeLabels.join('')}</g>`,
    ...lines,
    empty,
    '</svg>',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

interface Sample {
  readonly x: number;
  readonly value: number;
  readonly index: number;
}

/**
 * A series as polyline coordinates. With more samples than the plot has pixel columns, each column keeps only its
 * lowest and highest sample: a one-sample spike still reaches its height, which averaging or striding would lose.
 * Runs at one height collapse to their ends; an idle queue is most of a day.
 */
function polylinePoints(
  timeline: readonly TimelinePoint[],
  field: SeriesField,
  x: (seconds: number) => number,
  y: (value: number) => number,
): string {
  const samples = timeline.map((point, index) => ({ x: x(point.t), value: point[field], index }));
  const kept = samples.length > PLOT_WIDTH ? keepPeaksPerPixel(samples) : samples;
  const coordinates: [number, number][] = [];
  for (const sample of kept) {
    appendSimplified(coordinates, [round1(sample.x), round1(y(sample.value))]);
  }
  return coordinates.map(([px, py]) => `${px},${py}`).join(' ');
}

function keepPeaksPerPixel(samples: readonly Sample[]): Sample[] {
  const kept: Sample[] = [];
  let column = Number.NaN;
  let low: Sample | undefined;
  let high: Sample | undefined;
  const flush = () => {
    if (low && high) {
      const [first, second] = low.index <= high.index ? [low, high] : [high, low];
      kept.push(first);
      if (second !== first) {
        kept.push(second);
      }
    }
  };
  for (const sample of samples) {
    const pixel = Math.floor(sample.x);
    if (pixel !== column || !low || !high) {
      flush();
      column = pixel;
      low = sample;
      high = sample;
    } else if (sample.value < low.value) {
      low = sample;
    } else if (sample.value > high.value) {
      high = sample;
    }
  }
  flush();
  return kept;
}

/** Drops points that add nothing once rounded: repeats, and the middle of a straight horizontal or vertical run. */
function appendSimplified(coordinates: [number, number][], point: [number, number]): void {
  const last = coordinates.at(-1);
  const before = coordinates.at(-2);
  if (last && last[0] === point[0] && last[1] === point[1]) {
    return;
  }
  if (last && before) {
    const flat = before[1] === last[1] && last[1] === point[1];
    // A vertical run may go up then down within one pixel column; only a monotone middle point is redundant.
    const vertical = before[0] === last[0] && last[0] === point[0] && (before[1] - last[1]) * (last[1] - point[1]) >= 0;
    if (flat || vertical) {
      coordinates[coordinates.length - 1] = point;
      return;
    }
  }
  coordinates.push(point);
}

/** The chart's text alternative: each series' peak and when it first reached it. */
function describePeaks(timeline: readonly TimelinePoint[], series: readonly Series[]): string {
  if (timeline.length === 0) {
    return 'No samples.';
  }
  const sentence = series
    .map((entry) => {
      const peak = timeline.reduce((best, point) => (point[entry.field] > best[entry.field] ? point : best));
      return `peak ${entry.label} ${formatCount(peak[entry.field])} at ${formatClock(peak.t)}`;
    })
    .join('; ');
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}

/** The time axis covers the trace and every policy's tail, so a late scale-in is not cut off. */
function timeAxis(report: SimulationReport): Axis {
  let end = report.trace.durationS;
  for (const result of report.results) {
    for (const point of result.timeline) {
      end = Math.max(end, point.t);
    }
  }
  const max = end > 0 ? end : TIME_STEPS_S[0];
  const step =
    TIME_STEPS_S.find((candidate) => max / candidate <= MAX_TIME_INTERVALS) ??
    86_400 * Math.ceil(max / 86_400 / MAX_TIME_INTERVALS);
  return { max, ticks: ticksUpTo(max, step) };
}

function peakOf(results: readonly PolicyResult[], series: readonly Series[]): number {
  let peak = 0;
  for (const result of results) {
    for (const point of result.timeline) {
      for (const entry of series) {
        peak = Math.max(peak, point[entry.field]);
      }
    }
  }
  return peak;
}

/** A count axis topped at a round number (1, 2 or 5 times a power of ten) at or above the peak; whole steps only. */
function countAxis(peak: number): Axis {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(peak, 1) / MAX_COUNT_INTERVALS));
  const step = Math.max(
    1,
    [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => peak / candidate <= MAX_COUNT_INTERVALS) ??
      10 * magnitude,
  );
  const max = Math.max(step, Math.ceil(peak / step) * step);
  return { max, ticks: ticksUpTo(max, step) };
}

function ticksUpTo(max: number, step: number): number[] {
  const ticks: number[] = [];
  for (let tick = 0; tick <= max + step * 1e-9; tick += step) {
    ticks.push(tick);
  }
  return ticks;
}

function round1(value: number): number {
  // `+ 0` turns -0 into 0, so a coordinate never prints as "-0".
  return Math.round(value * 10) / 10 + 0;
}

function num(value: number): string {
  return String(round1(value));
}

/** Escapes text from input (the trace name is a path a user chose) for element content and quoted attributes. */
function text(value: string): string {
  return escapeHtml(printable(value));
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--rule:#d1d9e0;--bg:#fff;
--depth:#0969da;--queued:#cf222e;--instances:#1a7f37;--desired:#8250df}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--rule:#3d444d;--bg:#0d1117;
--depth:#4493f8;--queued:#f85149;--instances:#3fb950;--desired:#ab7df8}}
body{margin:0 auto;max-width:120rem;padding:1rem 1.5rem;color:var(--fg);background:var(--bg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.4rem;margin:0 0 .25rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.meta,.note,.policy p{color:var(--muted)}
.meta{margin:0;overflow-wrap:anywhere}
.note{font-size:.85rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.2rem .6rem;text-align:right;white-space:nowrap;border-bottom:1px solid var(--rule)}
th{font-weight:600}
thead th{color:var(--muted);font-weight:500}
.groups th,.groups td{border-bottom:none;text-align:center}
tbody th{text-align:left}
thead tr:last-child th:first-child{text-align:left}
.policies{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr));gap:1.5rem}
.policy{min-width:0}
.policy h3{font-size:1.05rem;margin:0}
.policy p{font-size:.85rem;margin:.1rem 0 .75rem}
figure{margin:0 0 1rem}
figcaption{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2rem .9rem;font-size:.85rem}
figcaption b{font-weight:600}
.key{color:var(--muted)}
.key::before{content:"";display:inline-block;width:1.1rem;margin-right:.3rem;vertical-align:middle;border-top:2px solid}
.key.depth::before{border-color:var(--depth)}
.key.queued::before{border-color:var(--queued)}
.key.instances::before{border-color:var(--instances)}
.key.desired::before{border-color:var(--desired);border-top-style:dashed}
svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:var(--muted)}
.empty{text-anchor:middle}
.grid line{stroke:var(--rule)}
.axis line{stroke:var(--muted)}
.grid line,.axis line,.line{vector-effect:non-scaling-stroke}
.line{fill:none;stroke-width:1.5;stroke-linejoin:round}
.line.depth{stroke:var(--depth)}
.line.queued{stroke:var(--queued)}
.line.instances{stroke:var(--instances)}
.line.desired{stroke:var(--desired);stroke-dasharray:5 3}
`.trim();
