/**
 * P4, footprint: what each cloud's built bundle costs before it does anything (size on disk, time and memory to load
 * in a fresh process) and the peak memory of the 100-fleet cycle of P3.
 */
import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as z from 'zod';
import { isolatedEnv } from '../local/child-env.ts';
import { type BuiltBundles, buildBundles } from './bundles.ts';
import { FLEET_COUNT, INJECTED_LATENCY_MS, runFleetCycle } from './cycle-cost.ts';
import { type BenchFigure, type BenchSuite, formatNumber, median } from './figures.ts';

/** Fresh processes per subject; odd, so the median is one real run. */
const INIT_RUNS = 11;
/** KiB: the 1 MB, read as 1 MiB. */
const MAX_BUNDLE_KIB = 1024;
/** Milliseconds to load a bundle. */
const MAX_INIT_MS = 150;
/** MiB: Lambda's smallest memory size. */
const MAX_CYCLE_RSS_MIB = 128;
/** Milliseconds one load may take before the probe is given up (the GCP bundle takes about 1.2 s here). */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Loads one module the way Lambda and the functions-framework load a CommonJS handler (`require`), timing only that
 * call, and reports on fd 3. The module's cold-start code runs as in the cloud; with no config in the environment its
 * asynchronous part fails quietly after `require` has returned, so it is not in the figure either way.
 */
const INIT_PROBE = [
  "const { writeSync } = require('node:fs');",
  "const { performance } = require('node:perf_hooks');",
  'const started = performance.now();',
  'require(process.argv[1]);',
  'const importMs = performance.now() - started;',
  'const report = { importMs, sinceStartMs: performance.now(), maxRssKiB: process.resourceUsage().maxRSS };',
  'writeSync(3, JSON.stringify(report));',
  'process.exit(0);',
].join('\n');

const initReport = z.object({ importMs: z.number(), sinceStartMs: z.number(), maxRssKiB: z.number() });
type InitReport = z.output<typeof initReport>;

function loadInFreshProcess(module: string, cwd: string): Promise<InitReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', INIT_PROBE, module], {
      cwd,
      env: isolatedEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    const channel = child.stdio[3];
    if (!(channel instanceof Readable)) {
      child.kill('SIGKILL');
      reject(new Error('the init probe has no report channel on fd 3'));
      return;
    }
    let report = '';
    let stderr = '';
    channel.on('data', (chunk: Buffer) => {
      report += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || report === '') {
        reject(new Error(`loading ${module} failed (exit ${code}): ${stderr.slice(-2_000)}`));
        return;
      }
      try {
        resolve(initReport.parse(JSON.parse(report)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

interface InitSamples {
  readonly importMs: number;
  readonly sinceStartMs: number;
  readonly maxRssMiB: number;
  readonly minImportMs: number;
  readonly maxImportMs: number;
}

function summarize(reports: readonly InitReport[]): InitSamples {
  const imports = reports.map((report) => report.importMs);
  return {
    importMs: median(imports),
    sinceStartMs: median(reports.map((report) => report.sinceStartMs)),
    maxRssMiB: median(reports.map((report) => report.maxRssKiB)) / 1024,
    minImportMs: Math.min(...imports),
    maxImportMs: Math.max(...imports),
  };
}

const SUBJECTS = ['empty', 'aws', 'gcp'] as const;
type Subject = (typeof SUBJECTS)[number];

/** Every subject once per round, round after round, so a slow spell of the machine hits all of them alike. */
async function measureInit(subjects: Readonly<Record<Subject, string>>, cwd: string) {
  const reports: Record<Subject, InitReport[]> = { empty: [], aws: [], gcp: [] };
  for (let run = 0; run < INIT_RUNS; run++) {
    for (const name of SUBJECTS) {
      reports[name].push(await loadInFreshProcess(subjects[name], cwd));
    }
  }
  return { empty: summarize(reports.empty), aws: summarize(reports.aws), gcp: summarize(reports.gcp) };
}

async function kibOf(path: string): Promise<number> {
  return (await stat(path)).size / 1024;
}

async function sizeFigure(cloud: 'aws' | 'gcp', bundle: string, extra: string): Promise<BenchFigure> {
  const [size, map] = await Promise.all([kibOf(bundle), kibOf(`${bundle}.map`)]);
  return {
    id: `P4.${cloud}-bundle-size`,
    benchmark: 'P4',
    label: `${cloud.toUpperCase()} bundle size (${cloud}/scale.js)`,
    value: size,
    unit: 'KiB',
    target: { op: '<=', value: MAX_BUNDLE_KIB },
    note:
      `the entry .js alone, read as 1 MB = 1 MiB; its source map (scale.js.map, ${formatNumber(map)} KiB) is not ` +
      `counted: it is written beside it but never loaded at run time${extra}`,
  };
}

export async function footprintFigures(bundles: BuiltBundles): Promise<BenchFigure[]> {
  const empty = join(bundles.dir, 'empty.js');
  await writeFile(empty, '');
  const init = await measureInit({ empty, aws: bundles.aws, gcp: bundles.gcp }, bundles.dir);
  const cycle = await runFleetCycle(bundles.aws);
  const cycles = 1 + cycle.warm.length + cycle.unloaded.length;
  const growthPerCycle = (cycle.maxRssKiB - cycle.cold.maxRssKiB) / 1024 / (cycles - 1);

  const emptyImport = { label: `empty module, median of ${INIT_RUNS}`, value: init.empty.importMs, unit: 'ms' };
  const idle = { label: 'idle fresh process (loaded an empty module)', value: init.empty.maxRssMiB, unit: 'MiB' };
  const initNote = (samples: InitSamples) =>
    `median of ${INIT_RUNS} fresh processes (${formatNumber(samples.minImportMs)}–` +
    `${formatNumber(samples.maxImportMs)} ms); process start to bundle loaded ${formatNumber(samples.sinceStartMs)} ms ` +
    `(to empty module loaded ${formatNumber(init.empty.sinceStartMs)} ms)`;
  const gcpResolution =
    'loaded from the build directory, whose node_modules links to the repository node_modules: the bundle ' +
    'requires the Google clients and the functions-framework at load, and Cloud Functions installs them beside it';

  return [
    await sizeFigure('aws', bundles.aws, ''),
    await sizeFigure(
      'gcp',
      bundles.gcp,
      '; the Google clients and the functions-framework are external (installed by Cloud Functions) and not counted',
    ),
    {
      id: 'P4.aws-init-time',
      benchmark: 'P4',
      label: 'AWS bundle load time (require, fresh process)',
      value: init.aws.importMs,
      unit: 'ms',
      target: { op: '<=', value: MAX_INIT_MS },
      baseline: emptyImport,
      note: initNote(init.aws),
    },
    {
      id: 'P4.gcp-init-time',
      benchmark: 'P4',
      label: 'GCP bundle load time (require, fresh process)',
      value: init.gcp.importMs,
      unit: 'ms',
      target: { op: '<=', value: MAX_INIT_MS },
      baseline: emptyImport,
      note: `${initNote(init.gcp)}; ${gcpResolution}`,
    },
    {
      id: 'P4.aws-init-rss',
      benchmark: 'P4',
      label: 'AWS bundle loaded: peak RSS',
      value: init.aws.maxRssMiB,
      unit: 'MiB',
      baseline: idle,
      note: `median of ${INIT_RUNS}`,
    },
    {
      id: 'P4.gcp-init-rss',
      benchmark: 'P4',
      label: 'GCP bundle loaded: peak RSS',
      value: init.gcp.maxRssMiB,
      unit: 'MiB',
      baseline: idle,
      note: `median of ${INIT_RUNS}; before any cycle has run`,
    },
    {
      id: 'P4.cycle-peak-rss',
      benchmark: 'P4',
      label: `AWS function peak RSS, one ${FLEET_COUNT}-fleet cycle`,
      value: cycle.cold.maxRssKiB / 1024,
      unit: 'MiB',
      target: { op: '<=', value: MAX_CYCLE_RSS_MIB },
      baseline: idle,
      note:
        'process.resourceUsage().maxRSS of the P3 probe process (a fresh process: load the bundle, one invocation ' +
        `with ${INJECTED_LATENCY_MS} ms latency)`,
    },
    {
      id: 'P4.repeated-cycles-peak-rss',
      benchmark: 'P4',
      label: `AWS function peak RSS after ${cycles} ${FLEET_COUNT}-fleet cycles`,
      value: cycle.maxRssKiB / 1024,
      unit: 'MiB',
      baseline: idle,
      note:
        `the same process at the end of P3 (${cycles} invocations, as a warm container runs them); it grows by ` +
        `${formatNumber(growthPerCycle)} MiB a cycle on average here, where V8 (on a machine with this much memory) ` +
        'grows its heap rather than collect early, so growth alone is not a leak',
    },
  ];
}

export const footprintSuite: BenchSuite = {
  name: 'P4',
  async run() {
    const bundles = await buildBundles();
    try {
      return await footprintFigures(bundles);
    } finally {
      await bundles.remove();
    }
  },
};
