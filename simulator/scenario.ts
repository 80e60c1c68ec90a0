import * as z from 'zod';
import type { Scenario } from './model.ts';

/**
 * The default world. Boot time and slots are assumptions, not measurements: executors boot a VM image and start the
 * executor service before they take jobs, and Sourcegraph's Terraform modules default to 18 concurrent jobs per
 * executor on AWS and 2 on GCP; 4 sits between them. Every policy sizes by the same jobs-per-instance ratio (the
 * executor's slots by default) so their results compare; the modules' own `jobs_per_instance_scaling` defaults
 * (360 on AWS, 20 on GCP) are 20 and 10 times the slots, and can be set with `jobsPerInstance`.
 */
export const DEFAULT_SCENARIO: Scenario = Object.freeze({
  bootSeconds: 120,
  maxJobsPerInstance: 4,
  jobsPerInstance: 4,
  minInstances: 0,
  maxInstances: 20,
  tailSeconds: 3600,
  sampleSeconds: 60,
  seed: 1,
});

const whole = (min: number, max: number) => z.number().int().min(min).max(max);

const scenarioSchema = z
  .strictObject({
    bootSeconds: whole(0, 3600),
    maxJobsPerInstance: whole(1, 1000),
    jobsPerInstance: whole(1, 100_000),
    minInstances: whole(0, 10_000),
    maxInstances: whole(1, 10_000),
    tailSeconds: whole(0, 86_400),
    sampleSeconds: whole(1, 3600),
    seed: z.number().int(),
    retireAfterJobs: whole(0, 1_000_000).optional(),
    retireAfterSeconds: whole(0, 7 * 86_400).optional(),
  })
  .refine((scenario) => scenario.minInstances <= scenario.maxInstances, {
    message: 'minInstances must not exceed maxInstances',
    path: ['minInstances'],
  });

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid simulation scenario: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The defaults with `overrides` applied, checked: every bad value is named at once. */
export function scenarioOf(overrides: Partial<Scenario> = {}): Scenario {
  const parsed = scenarioSchema.safeParse({ ...DEFAULT_SCENARIO, ...overrides });
  if (!parsed.success) {
    throw new ScenarioError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return Object.freeze(parsed.data);
}
