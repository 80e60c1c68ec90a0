import type { QueueName } from '../shared/domain/queues.ts';
import { seededRandom } from '../shared/domain/random.ts';
import type { Trace, TraceJob } from './model.ts';

/**
 * Synthetic day-long workloads for comparing scaling policies. Every magnitude below is an assumption chosen to keep a
 * fleet of up to ~20 instances with 4 job slots each (80 slots) busy at times without making it hopeless; none is
 * measured from a real Sourcegraph instance. Replay a recorded trace (`parseTraceCsv`) for real numbers.
 */

export const GENERATORS = {
  steady: 'constant Poisson arrivals all day: ~960 codeintel and ~145 batches jobs, no bursts',
  'nightly-burst': 'light daytime trickle plus 250-400 codeintel jobs enqueued within 4 minutes from 02:00',
  'batch-change-burst':
    'codeintel trickle plus 4-8 batch-change runs in working hours, each 10-200 batches jobs at one moment',
  spiky: 'steady background plus a spike of 20-100 jobs within a minute every 1-3 hours at random times',
} as const satisfies Record<string, string>;

export type GeneratorName = keyof typeof GENERATORS;

export function isGeneratorName(name: string): name is GeneratorName {
  return Object.hasOwn(GENERATORS, name);
}

/** Seconds in the day every synthetic trace covers. */
const DAY_S = 86_400;
const HOUR_S = 3_600;

/**
 * Job durations in seconds: lognormal, so most jobs are short and a few run long, clamped to the range the queue's
 * jobs plausibly take. Auto-indexing ranges from a small repo's few minutes to a monorepo's half hour; a batch-change
 * workspace runs one `steps` container over one repo, usually a few minutes. Clamping rather than redrawing keeps a
 * draw's cost fixed; with these sigmas 2-4% of indexing jobs and almost no batches jobs land on a bound.
 */
interface DurationShape {
  readonly medianS: number;
  readonly sigma: number;
  readonly minS: number;
  readonly maxS: number;
}
/** Median 5 min, mean ~7 min, 90% between 1.3 and 19 min, clamped to [1, 30] min. */
const CODEINTEL_DURATION: DurationShape = { medianS: 300, sigma: 0.8, minS: 60, maxS: 1_800 };
/** Median 3 min, mean ~3.4 min, 90% between 1.3 and 7 min, clamped to [30 s, 20 min]. */
const BATCHES_DURATION: DurationShape = { medianS: 180, sigma: 0.5, minS: 30, maxS: 1_200 };
/** The nightly sweep re-indexes many small, unchanged repos: median 4 min, same bounds as other indexing. */
const NIGHTLY_INDEX_DURATION: DurationShape = { medianS: 240, sigma: 0.7, minS: 60, maxS: 1_800 };

/**
 * `steady`: one codeintel job every 90 s on average (~960 a day) and one batches job every 10 min (~145). At a mean
 * codeintel duration of ~7 min that is ~5 jobs running at once: two instances' worth, so the question is only how
 * little idle capacity a policy keeps.
 */
const STEADY = { codeintelGapS: 90, batchesGapS: 600 } as const;

/**
 * `nightly-burst`: a daytime trickle (codeintel every 5 min, batches every 30 min: ~290 + ~50 a day) plus an
 * auto-indexing schedule firing at 02:00 and enqueueing 250-400 codeintel jobs over 4 minutes. At ~5 min each that is
 * ~20-35 slot-hours: 15-25 minutes of the full 80-slot fleet, and far longer for a policy that scales up slowly.
 */
const NIGHTLY = {
  codeintelGapS: 300,
  batchesGapS: 1_800,
  burstAtS: 2 * HOUR_S,
  burstSpreadS: 240,
  burstMinJobs: 250,
  burstMaxJobs: 400,
} as const;

/**
 * `batch-change-burst`: codeintel every 4 min (~360 a day) and 4-8 batch-change executions between 09:00 and 18:00.
 * Each execution puts one workspace job per repository on `batches` at the same moment (a batch spec's workspaces are
 * enqueued together), 10-200 of them, skewed towards small changes (squared uniform: median ~58, mean ~74), so
 * ~440 batches jobs a day.
 */
const BATCH_CHANGE = {
  codeintelGapS: 240,
  minExecutions: 4,
  maxExecutions: 8,
  workdayStartS: 9 * HOUR_S,
  workdayEndS: 18 * HOUR_S,
  minWorkspaces: 10,
  maxWorkspaces: 200,
} as const;

/**
 * `spiky`: background of codeintel every 2 min and batches every 15 min (~720 + ~96 a day) plus spikes 1-3 h apart
 * (~12 a day), each 20-100 jobs within one minute, on codeintel 70% of the time (a push to a monorepo's many
 * projects, a bulk re-index) and on batches otherwise. Spikes add ~700 jobs a day.
 */
const SPIKY = {
  codeintelGapS: 120,
  batchesGapS: 900,
  minSpikeGapS: HOUR_S,
  maxSpikeGapS: 3 * HOUR_S,
  spikeSpreadS: 60,
  minSpikeJobs: 20,
  maxSpikeJobs: 100,
  codeintelSpikeShare: 0.7,
} as const;

type Random = () => number;

const BUILDERS: Record<GeneratorName, (random: Random) => TraceJob[]> = {
  steady: (random) => [
    ...poissonJobs(random, 'codeintel', STEADY.codeintelGapS, CODEINTEL_DURATION),
    ...poissonJobs(random, 'batches', STEADY.batchesGapS, BATCHES_DURATION),
  ],
  'nightly-burst': (random) => {
    const jobs = [
      ...poissonJobs(random, 'codeintel', NIGHTLY.codeintelGapS, CODEINTEL_DURATION),
      ...poissonJobs(random, 'batches', NIGHTLY.batchesGapS, BATCHES_DURATION),
    ];
    const count = integerBetween(random, NIGHTLY.burstMinJobs, NIGHTLY.burstMaxJobs);
    for (let index = 0; index < count; index++) {
      const arrivalS = NIGHTLY.burstAtS + random() * NIGHTLY.burstSpreadS;
      jobs.push(job(arrivalS, 'codeintel', duration(random, NIGHTLY_INDEX_DURATION)));
    }
    return jobs;
  },
  'batch-change-burst': (random) => {
    const jobs = poissonJobs(random, 'codeintel', BATCH_CHANGE.codeintelGapS, CODEINTEL_DURATION);
    const executions = integerBetween(random, BATCH_CHANGE.minExecutions, BATCH_CHANGE.maxExecutions);
    for (let execution = 0; execution < executions; execution++) {
      const atS = BATCH_CHANGE.workdayStartS + random() * (BATCH_CHANGE.workdayEndS - BATCH_CHANGE.workdayStartS);
      const span = BATCH_CHANGE.maxWorkspaces - BATCH_CHANGE.minWorkspaces;
      const workspaces = BATCH_CHANGE.minWorkspaces + Math.floor(random() ** 2 * (span + 1));
      for (let index = 0; index < workspaces; index++) {
        jobs.push(job(atS, 'batches', duration(random, BATCHES_DURATION)));
      }
    }
    return jobs;
  },
  spiky: (random) => {
    const jobs = [
      ...poissonJobs(random, 'codeintel', SPIKY.codeintelGapS, CODEINTEL_DURATION),
      ...poissonJobs(random, 'batches', SPIKY.batchesGapS, BATCHES_DURATION),
    ];
    const nextGap = () => SPIKY.minSpikeGapS + random() * (SPIKY.maxSpikeGapS - SPIKY.minSpikeGapS);
    // The first spike lands anywhere in the first gap, so a seed does not always start the day with one.
    for (let atS = random() * nextGap(); atS < DAY_S - SPIKY.spikeSpreadS; atS += nextGap()) {
      const queue: QueueName = random() < SPIKY.codeintelSpikeShare ? 'codeintel' : 'batches';
      const shape = queue === 'codeintel' ? CODEINTEL_DURATION : BATCHES_DURATION;
      const count = integerBetween(random, SPIKY.minSpikeJobs, SPIKY.maxSpikeJobs);
      for (let index = 0; index < count; index++) {
        jobs.push(job(atS + random() * SPIKY.spikeSpreadS, queue, duration(random, shape)));
      }
    }
    return jobs;
  },
};

/**
 * A day of synthetic jobs, named `<generator>:seed=<n>`: the same name and seed always give the same trace, so
 * every policy in a comparison (and every rerun) sees identical arrivals.
 */
export function generateTrace(name: GeneratorName, seed: number): Trace {
  // mulberry32 keeps 32 bits of state; rejecting larger seeds avoids two seeds silently naming one trace.
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`seed must be an integer from 0 to ${0xffff_ffff}, got ${seed}`);
  }
  const jobs = BUILDERS[name](seededRandom(seed));
  jobs.sort((a, b) => a.arrivalS - b.arrivalS);
  return { name: `${name}:seed=${seed}`, jobs, durationS: DAY_S };
}

/** Arrivals of a homogeneous Poisson process over the day: exponential gaps with the given mean. */
function poissonJobs(random: Random, queue: QueueName, meanGapS: number, shape: DurationShape): TraceJob[] {
  const jobs: TraceJob[] = [];
  for (let atS = exponential(random, meanGapS); atS < DAY_S; atS += exponential(random, meanGapS)) {
    jobs.push(job(atS, queue, duration(random, shape)));
  }
  return jobs;
}

/**
 * Arrivals keep millisecond resolution (the simulator's clock) and are floored so none reaches the day's end;
 * durations are whole seconds, which is all a recorded trace would have. Both keep saved CSV short and exact.
 */
function job(arrivalS: number, queue: QueueName, durationS: number): TraceJob {
  return { arrivalS: Math.min(Math.floor(arrivalS * 1000) / 1000, DAY_S - 0.001), queue, durationS };
}

function duration(random: Random, shape: DurationShape): number {
  const drawn = shape.medianS * Math.exp(shape.sigma * standardNormal(random));
  return Math.round(Math.min(shape.maxS, Math.max(shape.minS, drawn)));
}

function exponential(random: Random, mean: number): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  return -Math.log(1 - random()) * mean;
}

/** Box-Muller; one of the pair is discarded, which costs a draw but keeps the stream's use easy to follow. */
function standardNormal(random: Random): number {
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  return radius * Math.cos(2 * Math.PI * random());
}

/** Inclusive of both ends. */
function integerBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
