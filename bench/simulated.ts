/**
 * P1 and P2: figures from the trace-replay simulator (`simulator/`), where fleetplane is the real scale invocation on
 * simulated time. Each compares fleetplane with the scalers it replaces, run in the same process on the same trace.
 */
import { GENERATORS, type GeneratorName, generateTrace } from '../simulator/generators.ts';
import type { PolicyResult, Scenario, Trace, TraceJob } from '../simulator/model.ts';
import { POLICY_NAMES, policiesNamed } from '../simulator/policies/index.ts';
import { scenarioOf } from '../simulator/scenario.ts';
import { simulate } from '../simulator/simulate.ts';
import type { BenchFigure, BenchSuite } from './figures.ts';
import { median } from './figures.ts';

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

function jobWaitFigures(generator: GeneratorName, results: readonly PolicyResult[]): BenchFigure[] {
  const of = (policy: string) => {
    const result = results.find((candidate) => candidate.policy === policy);
    if (result === undefined) {
      throw new Error(`no ${policy} result for ${generator}`);
    }
    return result;
  };
  const fleetplane = of('fleetplane');
  const context = (pick: (result: PolicyResult) => number, unit: string) =>
    results
      .filter((result) => result.policy !== 'fleetplane')
      .map((result) => `${result.policy} ${Math.round(pick(result))} ${unit}`)
      .join(', ');
  const id = (name: string) => `P2.${generator}.${name}`;
  const waitVs = (policy: 'tf-aws' | 'gce', times: number): BenchFigure => ({
    id: id(`p95-vs-${policy}`),
    benchmark: 'P2',
    label: `${generator}: ${policy} p95 wait ÷ fleetplane p95 wait`,
    value: ratio(of(policy).wait.p95, fleetplane.wait.p95),
    unit: '×',
    target: { op: '>=', value: times },
  });
  const costVs = (policy: 'tf-aws' | 'gce'): BenchFigure => ({
    id: id(`instance-minutes-vs-${policy}`),
    benchmark: 'P2',
    label: `${generator}: fleetplane instance-minutes ÷ ${policy}'s`,
    value: fleetplane.instanceMinutes / of(policy).instanceMinutes,
    unit: '×',
    target: { op: '<=', value: 1 },
  });
  return [
    {
      id: id('fleetplane-p95'),
      benchmark: 'P2',
      label: `${generator}: fleetplane p95 job wait`,
      value: fleetplane.wait.p95,
      unit: 's',
      note: `p95 wait of the others: ${context((result) => result.wait.p95, 's')}`,
    },
    {
      id: id('fleetplane-instance-minutes'),
      benchmark: 'P2',
      label: `${generator}: fleetplane instance-minutes`,
      value: fleetplane.instanceMinutes,
      unit: 'min',
      note: `instance-minutes of the others: ${context((result) => result.instanceMinutes, 'min')}; fleetplane interrupted ${fleetplane.interruptedJobs} job runs`,
    },
    waitVs('tf-aws', 5),
    waitVs('gce', 2),
    costVs('tf-aws'),
    costVs('gce'),
  ];
}

export const jobWaitSuite: BenchSuite = {
  name: 'P2',
  async run() {
    const scenario = scenarioOf();
    const figures: BenchFigure[] = [];
    for (const generator of Object.keys(GENERATORS) as GeneratorName[]) {
      const report = await simulate(generateTrace(generator, 1), scenario, policiesNamed(POLICY_NAMES));
      figures.push(...jobWaitFigures(generator, report.results));
    }
    return figures;
  },
};
