/**
 * P1 and P2: figures from the trace-replay simulator (`simulator/`), where fleetplane is the real scale invocation on
 * simulated time. Each compares fleetplane with the scalers it replaces, run in the same process on the same trace.
 */
import { GENERATORS, type GeneratorName, generateTrace } from '../simulator/generators.ts';
import type { PolicyResult, Scenario, Trace, TraceJob } from '../simulator/model.ts';
import { createFleetplanePolicy } from '../simulator/policies/fleetplane.ts';
import { POLICY_NAMES, policiesNamed } from '../simulator/policies/index.ts';
import { scenarioOf } from '../simulator/scenario.ts';
import { simulate } from '../simulator/simulate.ts';
import type { BenchFigure, BenchSuite } from './figures.ts';
import { formatNumber, median } from './figures.ts';

const BURST_JOBS = 40;
/** Where in the minute the burst lands matters (polls, invocation boundaries): every 6 s of one minute is tried. */
const BURST_OFFSETS_S = Array.from({ length: 10 }, (_, index) => 600 + index * 6);

function burstTrace(arrivalS: number): Trace {
  // Jobs long enough that none finishes before capacity has been asked for.
  const jobs = Array.from({ length: BURST_JOBS }, (): TraceJob => ({ arrivalS, queue: 'codeintel', durationS: 1200 }));
  return { name: `burst-${BURST_JOBS}@${arrivalS}s`, jobs, durationS: 3600 };
}

/** Seconds until the desired size covered the burst, for every offset; a burst never covered counts as Infinity. */
async function burstCover(scenario: Scenario): Promise<Map<string, number[]>> {
  const covers = new Map<string, number[]>();
  for (const offset of BURST_OFFSETS_S) {
    const report = await simulate(burstTrace(offset), scenario, policiesNamed(POLICY_NAMES));
    for (const result of report.results) {
      covers.set(result.policy, [
        ...(covers.get(result.policy) ?? []),
        result.bursts[0]?.coveredAfterS ?? Number.POSITIVE_INFINITY,
      ]);
    }
  }
  return covers;
}

export const burstReactionSuite: BenchSuite = {
  name: 'P1',
  async run() {
    const scenario = scenarioOf();
    const covers = await burstCover(scenario);
    const worst = (policy: string) => Math.max(...(covers.get(policy) ?? [Number.NaN]));
    const others = POLICY_NAMES.filter((name) => name !== 'fleetplane')
      .map((name) => `${name} ${worst(name)} s`)
      .join(', ');
    const fleetplane = covers.get('fleetplane') ?? [];
    return [
      {
        id: 'P1.fleetplane-worst',
        benchmark: 'P1',
        label: `0 → ${BURST_JOBS} queued jobs: seconds until desired capacity covers them (worst of ${BURST_OFFSETS_S.length} offsets)`,
        value: worst('fleetplane'),
        unit: 's',
        target: { op: '<=', value: 15 },
        baseline: { label: 'tf-aws worst', value: worst('tf-aws'), unit: 's' },
        note: `worst over burst offsets within one minute; the others: ${others}`,
      },
      {
        id: 'P1.fleetplane-median',
        benchmark: 'P1',
        label: `0 → ${BURST_JOBS} queued jobs: seconds until covered (median)`,
        value: median(fleetplane),
        unit: 's',
        baseline: { label: 'tf-aws median', value: median(covers.get('tf-aws') ?? [Number.NaN]), unit: 's' },
      },
    ];
  },
};

/** fleetplane's p95 below one second is counted as one second, so a ratio stays finite. */
const ratio = (other: number, fleetplane: number) => other / Math.max(1, fleetplane);

/** Each synthetic day is replayed with these seeds: one seed's day can flatter or wrong any policy. */
export const P2_SEEDS = [1, 2, 3, 4, 5] as const;

type Runs = readonly (readonly PolicyResult[])[];

function resultOf(results: readonly PolicyResult[], policy: string): PolicyResult {
  const result = results.find((candidate) => candidate.policy === policy);
  if (result === undefined) {
    throw new Error(`no ${policy} result`);
  }
  return result;
}

/** The median over the seeds' runs, and the range, of one number per run. */
function spread(runs: Runs, pick: (results: readonly PolicyResult[]) => number) {
  const values = runs.map(pick);
  return { median: median(values), low: Math.min(...values), high: Math.max(...values) };
}

const range = ({ low, high }: { low: number; high: number }, unit = '') =>
  `${formatNumber(low)}–${formatNumber(high)}${unit}`;

/** The fleetplane variants P2 runs: as configured by default (busy-aware scale-in), and letting the cloud pick victims. */
const FLEETPLANE_VARIANTS = ['fleetplane', 'fleetplane/resize'] as const;
type FleetplaneVariant = (typeof FLEETPLANE_VARIANTS)[number];
const COMPARED = [...FLEETPLANE_VARIANTS, 'tf-aws', 'gce', 'buildkite'] as const;

function jobWaitFigures(generator: GeneratorName, runs: Runs): BenchFigure[] {
  const id = (name: string) => `P2.${generator}.${name}`;
  const seeds = `median of seeds ${P2_SEEDS.join(', ')}`;
  const perPolicy = (pick: (result: PolicyResult) => number, unit: string) =>
    COMPARED.map((policy) => {
      const values = spread(runs, (results) => pick(resultOf(results, policy)));
      return `${policy} ${formatNumber(values.median)}${unit === '' ? '' : ` ${unit}`} (${range(values)})`;
    }).join(', ');
  const suffix = (variant: FleetplaneVariant) => (variant === 'fleetplane' ? '' : '.resize');
  const waitVs = (variant: FleetplaneVariant, policy: 'tf-aws' | 'gce', times: number): BenchFigure => {
    const values = spread(runs, (results) =>
      ratio(resultOf(results, policy).wait.p95, resultOf(results, variant).wait.p95),
    );
    return {
      id: id(`p95-vs-${policy}${suffix(variant)}`),
      benchmark: 'P2',
      label: `${generator}: ${policy} p95 wait ÷ ${variant} p95 wait (${seeds})`,
      value: values.median,
      unit: '×',
      target: { op: '>=', value: times },
      note: `range over the seeds ${range(values, '×')}`,
    };
  };
  const costVs = (variant: FleetplaneVariant, policy: 'tf-aws' | 'gce'): BenchFigure => {
    const values = spread(
      runs,
      (results) => resultOf(results, variant).instanceMinutes / resultOf(results, policy).instanceMinutes,
    );
    return {
      id: id(`instance-minutes-vs-${policy}${suffix(variant)}`),
      benchmark: 'P2',
      label: `${generator}: ${variant} instance-minutes ÷ ${policy}'s (${seeds})`,
      value: values.median,
      unit: '×',
      target: { op: '<=', value: 1 },
      note: `range over the seeds ${range(values, '×')}`,
    };
  };
  const medianOf = (variant: FleetplaneVariant, pick: (result: PolicyResult) => number) =>
    spread(runs, (results) => pick(resultOf(results, variant))).median;
  return [
    {
      id: id('fleetplane-p95'),
      benchmark: 'P2',
      label: `${generator}: fleetplane p95 job wait (${seeds})`,
      value: medianOf('fleetplane', (result) => result.wait.p95),
      unit: 's',
      note: `p95 wait, median (range): ${perPolicy((result) => result.wait.p95, 's')}`,
    },
    {
      id: id('fleetplane-instance-minutes'),
      benchmark: 'P2',
      label: `${generator}: fleetplane instance-minutes (${seeds})`,
      value: medianOf('fleetplane', (result) => result.instanceMinutes),
      unit: 'min',
      note:
        `instance-minutes, median (range): ${perPolicy((result) => result.instanceMinutes, 'min')}; ` +
        `interrupted job runs: ${perPolicy((result) => result.interruptedJobs, '')}`,
    },
    ...FLEETPLANE_VARIANTS.flatMap((variant) => [
      waitVs(variant, 'tf-aws', 5),
      waitVs(variant, 'gce', 2),
      costVs(variant, 'tf-aws'),
      costVs(variant, 'gce'),
    ]),
  ];
}

export const jobWaitSuite: BenchSuite = {
  name: 'P2',
  async run() {
    const scenario = scenarioOf();
    const figures: BenchFigure[] = [];
    for (const generator of Object.keys(GENERATORS) as GeneratorName[]) {
      const runs: PolicyResult[][] = [];
      for (const seed of P2_SEEDS) {
        const report = await simulate(generateTrace(generator, seed), { ...scenario, seed }, [
          ...policiesNamed(POLICY_NAMES),
          createFleetplanePolicy({ fleet: { scaleIn: { mode: 'resize' } } }),
        ]);
        runs.push([...report.results]);
      }
      figures.push(...jobWaitFigures(generator, runs));
    }
    return figures;
  },
};
