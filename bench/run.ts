/**
 * `npm run bench` (`node bench/run.ts [--only P3,P4]`): runs the benchmark suites one after another (they time
 * things, so never two at once), prints one table and writes bench/results.json with the machine it ran on.
 * Not part of `npm test`: the figures depend on the machine, and targets are reported, not asserted.
 */
import { writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toError } from '../shared/domain/guards.ts';
import { cycleCostSuite } from './cycle-cost.ts';
import { type BenchFigure, type BenchSuite, baselineRatio, formatJson, formatTable, judge } from './figures.ts';
import { footprintSuite } from './footprint.ts';
import { burstReactionSuite, jobWaitSuite } from './simulated.ts';

/** Every suite, in the order they run; a new benchmark is one more entry. */
const SUITES: readonly BenchSuite[] = [burstReactionSuite, jobWaitSuite, cycleCostSuite, footprintSuite];

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

function selectSuites(only: string | undefined): readonly BenchSuite[] {
  if (only === undefined) {
    return SUITES;
  }
  const wanted = only
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const known = new Set(SUITES.map((suite) => suite.name));
  const unknown = wanted.filter((name) => !known.has(name));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new RangeError(
      `--only: unknown suite ${unknown.join(', ') || '(none given)'}; known: ${[...known].join(', ')}`,
    );
  }
  return SUITES.filter((suite) => wanted.includes(suite.name));
}

function machine() {
  const cores = cpus();
  return {
    os: `${type()} ${release()}`,
    platform: platform(),
    arch: arch(),
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
  };
}

/** Every key present in the file, `null` when a figure has no target or baseline, so consumers need no guessing. */
function serialized(figure: BenchFigure) {
  return {
    id: figure.id,
    benchmark: figure.benchmark,
    label: figure.label,
    value: figure.value,
    unit: figure.unit,
    target: figure.target ?? null,
    met: figure.met ?? null,
    baseline: figure.baseline ?? null,
    ratioToBaseline: baselineRatio(figure) ?? null,
    note: figure.note ?? null,
  };
}

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const suites = selectSuites(values.only);
const figures: BenchFigure[] = [];
const failures: { suite: string; error: string }[] = [];
for (const suite of suites) {
  const started = performance.now();
  process.stderr.write(`bench: running ${suite.name}…\n`);
  try {
    figures.push(...(await suite.run()).map(judge));
  } catch (caught) {
    // One broken suite must not hide the others' figures.
    const error = toError(caught);
    failures.push({ suite: suite.name, error: error.stack ?? error.message });
    process.stderr.write(`bench: ${suite.name} failed: ${error.stack ?? error.message}\n`);
  }
  process.stderr.write(`bench: ${suite.name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const results = {
  timestamp: new Date().toISOString(),
  node: process.version,
  machine: machine(),
  suites: suites.map((suite) => suite.name),
  figures: figures.map(serialized),
  failures,
};
await writeFile(RESULTS, formatJson(results));

const about = results.machine;
console.log(`fleetplane benchmarks, ${results.timestamp}`);
console.log(
  `node ${results.node} on ${about.os} (${about.platform}/${about.arch}), ${about.cpuModel}, ${about.cores} cores, ` +
    `${about.memoryMiB} MiB`,
);
console.log('');
console.log(formatTable(figures));
const missed = figures.filter((figure) => figure.met === false);
console.log('');
console.log(
  `${figures.filter((figure) => figure.met === true).length} targets met, ${missed.length} MISSED` +
    (missed.length > 0 ? ` (${missed.map((figure) => figure.id).join(', ')})` : '') +
    `; results written to ${RESULTS}`,
);
if (failures.length > 0) {
  console.log(`suites that failed: ${failures.map((failure) => failure.suite).join(', ')}`);
  process.exitCode = 1;
}
