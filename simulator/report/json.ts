import type { BurstOutcome, PolicyResult, Scenario, SimulationReport, TimelinePoint, WaitStats } from '../model.ts';

export interface JsonOptions {
  /** Include each policy's timeline (the bulk of the output); default true. */
  readonly timeline?: boolean;
}

/**
 * The report as 2-space JSON with a fixed key order, whatever order the simulator built its objects in, so two runs
 * diff line by line. Without timelines, the `timeline` key is left out rather than emptied: an empty array would read
 * as a run that sampled nothing. Ends with a newline.
 */
export function formatJson(report: SimulationReport, options: JsonOptions = {}): string {
  const withTimeline = options.timeline ?? true;
  const ordered = {
    trace: { name: report.trace.name, jobs: report.trace.jobs, durationS: report.trace.durationS },
    scenario: orderScenario(report.scenario),
    results: report.results.map((result) => orderResult(result, withTimeline)),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

// Objects are rebuilt field by field under their model types, so a required field added to model.ts is a compile
// error here; optional fields must be listed by hand.

function orderScenario(scenario: Scenario): Scenario {
  return {
    bootSeconds: scenario.bootSeconds,
    maxJobsPerInstance: scenario.maxJobsPerInstance,
    jobsPerInstance: scenario.jobsPerInstance,
    minInstances: scenario.minInstances,
    maxInstances: scenario.maxInstances,
    tailSeconds: scenario.tailSeconds,
    sampleSeconds: scenario.sampleSeconds,
    seed: scenario.seed,
    ...(scenario.retireAfterJobs === undefined ? {} : { retireAfterJobs: scenario.retireAfterJobs }),
    ...(scenario.retireAfterSeconds === undefined ? {} : { retireAfterSeconds: scenario.retireAfterSeconds }),
  };
}

/** A policy's result, its timeline left out when not asked for. */
type ResultJson = Omit<PolicyResult, 'timeline'> & Partial<Pick<PolicyResult, 'timeline'>>;

function orderResult(result: PolicyResult, withTimeline: boolean): ResultJson {
  const summary = {
    policy: result.policy,
    description: result.description,
    jobs: result.jobs,
    completed: result.completed,
    unfinished: result.unfinished,
    wait: orderWait(result.wait),
    instanceMinutes: result.instanceMinutes,
    scaleActions: result.scaleActions,
    interruptedJobs: result.interruptedJobs,
    peakInstances: result.peakInstances,
    bursts: result.bursts.map(orderBurst),
  } satisfies Omit<PolicyResult, 'timeline'>;
  return withTimeline ? { ...summary, timeline: result.timeline.map(orderPoint) } : summary;
}

function orderWait(wait: WaitStats): WaitStats {
  return { p50: wait.p50, p95: wait.p95, max: wait.max, mean: wait.mean };
}

function orderBurst(burst: BurstOutcome): BurstOutcome {
  // An uncovered burst has neither figure; JSON.stringify drops the undefined values, keeping them absent.
  return {
    startS: burst.startS,
    jobs: burst.jobs,
    coveredAfterS: burst.coveredAfterS,
    longestShortfallS: burst.longestShortfallS,
  };
}

function orderPoint(point: TimelinePoint): TimelinePoint {
  return {
    t: point.t,
    depth: point.depth,
    queued: point.queued,
    desired: point.desired,
    instances: point.instances,
  };
}
