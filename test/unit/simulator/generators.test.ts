import { describe, expect, it } from 'vitest';
import { GENERATORS, type GeneratorName, generateTrace, isGeneratorName } from '../../../simulator/generators.ts';
import type { TraceJob } from '../../../simulator/model.ts';
import { formatTraceCsv, parseTraceCsv } from '../../../simulator/trace.ts';

const NAMES = Object.keys(GENERATORS).filter(isGeneratorName);
const DAY_S = 86_400;
const SEEDS = [0, 1, 42, 2024, 0xffff_ffff];

/** Arrivals grouped by exact arrival time. */
function groupByArrival(jobs: readonly TraceJob[]): Map<number, TraceJob[]> {
  const groups = new Map<number, TraceJob[]>();
  for (const job of jobs) {
    groups.set(job.arrivalS, [...(groups.get(job.arrivalS) ?? []), job]);
  }
  return groups;
}

/**
 * Starts of windows of `windowS`, each opened at an arrival and holding at least `minJobs` arrivals. A background
 * arrival just before a burst opens a window that holds only part of it, so the next window may open only after twice
 * the width: one burst is found once.
 */
function burstStarts(jobs: readonly TraceJob[], windowS: number, minJobs: number): number[] {
  const starts: number[] = [];
  let end = 0;
  for (const [index, job] of jobs.entries()) {
    const previous = starts.at(-1);
    if (previous !== undefined && job.arrivalS < previous + 2 * windowS) {
      continue;
    }
    while ((jobs[end]?.arrivalS ?? Number.POSITIVE_INFINITY) < job.arrivalS + windowS) {
      end++;
    }
    if (end - index >= minJobs) {
      starts.push(job.arrivalS);
    }
  }
  return starts;
}

function within(jobs: readonly TraceJob[], fromS: number, toS: number): TraceJob[] {
  return jobs.filter((job) => job.arrivalS >= fromS && job.arrivalS < toS);
}

describe('GENERATORS', () => {
  it('lists the four generators, each with a one-line description', () => {
    // Assess
    expect(NAMES).toEqual(['steady', 'nightly-burst', 'batch-change-burst', 'spiky']);
    for (const description of Object.values(GENERATORS)) {
      expect(description).not.toContain('\n');
      expect(description.length).toBeGreaterThan(10);
    }
  });

  it.each([
    { name: 'steady', known: true },
    { name: 'spiky', known: true },
    { name: 'bursty', known: false },
    { name: 'toString', known: false },
    { name: '', known: false },
  ])('isGeneratorName($name) is $known', ({ name, known }) => {
    // Assess
    expect(isGeneratorName(name)).toBe(known);
  });
});

describe.each(NAMES)('generateTrace(%s)', (name: GeneratorName) => {
  it('is deterministic for a seed and differs between seeds', () => {
    // Act
    const first = generateTrace(name, 7);
    const again = generateTrace(name, 7);
    const other = generateTrace(name, 8);

    // Assess
    expect(again).toEqual(first);
    expect(other.jobs).not.toEqual(first.jobs);
  });

  it.each(SEEDS)('gives a sorted day of valid jobs for seed %i', (seed) => {
    // Act
    const trace = generateTrace(name, seed);

    // Assess
    expect(trace.name).toBe(`${name}:seed=${seed}`);
    expect(trace.durationS).toBe(DAY_S);
    expect(trace.jobs.length).toBeGreaterThan(100);
    for (const [index, job] of trace.jobs.entries()) {
      expect(job.arrivalS).toBeGreaterThanOrEqual(0);
      expect(job.arrivalS).toBeLessThan(DAY_S);
      expect(job.durationS).toBeGreaterThan(0);
      expect(Number.isInteger(job.durationS)).toBe(true);
      expect(job.durationS).toBeLessThanOrEqual(1_800);
      expect(job.arrivalS).toBeGreaterThanOrEqual(trace.jobs[index - 1]?.arrivalS ?? 0);
    }
  });

  it('survives saving as CSV and replaying', () => {
    // Prepare
    const trace = generateTrace(name, 3);

    // Act
    const replayed = parseTraceCsv(formatTraceCsv(trace), trace.name);

    // Assess
    expect(replayed.jobs).toEqual(trace.jobs);
  });
});

describe('generateTrace shapes', () => {
  it.each(SEEDS)('steady: both queues, mostly codeintel, no minute with more than 15 arrivals (seed %i)', (seed) => {
    // Act
    const { jobs } = generateTrace('steady', seed);

    // Assess
    const codeintel = jobs.filter((job) => job.queue === 'codeintel').length;
    expect(jobs.length).toBeGreaterThan(900);
    expect(jobs.length).toBeLessThan(1_300);
    expect(codeintel / jobs.length).toBeGreaterThan(0.8);
    expect(codeintel).toBeLessThan(jobs.length);
    for (let minute = 0; minute < DAY_S; minute += 60) {
      expect(within(jobs, minute, minute + 60).length).toBeLessThanOrEqual(15);
    }
  });

  it.each(SEEDS)('nightly-burst: at least 250 codeintel arrivals within 4 minutes of 02:00 (seed %i)', (seed) => {
    // Act
    const { jobs } = generateTrace('nightly-burst', seed);

    // Assess
    const burst = within(jobs, 7_200, 7_440).filter((job) => job.queue === 'codeintel');
    expect(burst.length).toBeGreaterThanOrEqual(250);
    expect(burst.length).toBeLessThanOrEqual(400 + 10);
    // The daytime trickle stays a trickle: no other 4-minute window comes close to the burst.
    for (let start = 0; start < DAY_S; start += 240) {
      if (start !== 7_200) {
        expect(within(jobs, start, start + 240).length).toBeLessThan(20);
      }
    }
  });

  it.each(SEEDS)('batch-change-burst: batches jobs come only as working-hours groups of 10-200 (seed %i)', (seed) => {
    // Act
    const { jobs } = generateTrace('batch-change-burst', seed);

    // Assess
    const batches = jobs.filter((job) => job.queue === 'batches');
    const groups = [...groupByArrival(batches).entries()];
    expect(groups.length).toBeGreaterThanOrEqual(4);
    expect(groups.length).toBeLessThanOrEqual(8);
    for (const [arrivalS, group] of groups) {
      expect(group.length).toBeGreaterThanOrEqual(10);
      expect(group.length).toBeLessThanOrEqual(200);
      expect(arrivalS).toBeGreaterThanOrEqual(9 * 3_600);
      expect(arrivalS).toBeLessThan(18 * 3_600);
    }
    expect(jobs.length - batches.length).toBeGreaterThan(250);
  });

  it.each(SEEDS)('spiky: a spike of 20-100 jobs within a minute every 1-3 hours (seed %i)', (seed) => {
    // Act
    const { jobs } = generateTrace('spiky', seed);

    // Assess: the background brings about one job a minute, so 20 arrivals within a minute can only be a spike.
    const spikes = burstStarts(jobs, 60, 20);
    expect(spikes.length).toBeGreaterThanOrEqual(7);
    expect(spikes.length).toBeLessThanOrEqual(24);
    for (const [index, startS] of spikes.entries()) {
      expect(within(jobs, startS, startS + 120).length).toBeLessThanOrEqual(100 + 5);
      const next = spikes[index + 1];
      if (next !== undefined) {
        expect(next - startS).toBeGreaterThanOrEqual(3_600 - 60);
        expect(next - startS).toBeLessThanOrEqual(3 * 3_600 + 60);
      }
    }
  });
});

describe('generateTrace seeds', () => {
  it.each([-1, 1.5, 2 ** 32, Number.NaN])('refuses seed %d', (seed) => {
    // Act + Assess
    expect(() => generateTrace('steady', seed)).toThrow(RangeError);
  });
});
