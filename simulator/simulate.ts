import { simulatePolicy } from './engine.ts';
import type { PolicyModel, Scenario, SimulationReport, Trace } from './model.ts';

/**
 * Replays one trace against each policy in turn, each in a fresh world with the same scenario and seed, so the only
 * difference between two results is the policy.
 */
export async function simulate(
  trace: Trace,
  scenario: Scenario,
  policies: readonly PolicyModel[],
): Promise<SimulationReport> {
  const results = [];
  for (const policy of policies) {
    results.push(await simulatePolicy(trace, scenario, policy));
  }
  return {
    trace: { name: trace.name, jobs: trace.jobs.length, durationS: trace.durationS },
    scenario,
    results,
  };
}
