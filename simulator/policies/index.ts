import type { PolicyModel } from '../model.ts';
import { type BuildkiteOptions, createBuildkitePolicy } from './buildkite.ts';
import { createFleetplanePolicy, type FleetplaneOptions } from './fleetplane.ts';
import { createGcePolicy, type GceOptions } from './gce.ts';
import { createTfAwsPolicy, type TfAwsOptions } from './tf-aws.ts';

export type { FleetplaneOptions } from './fleetplane.ts';

export const POLICY_NAMES = ['fleetplane', 'tf-aws', 'gce', 'buildkite'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface PolicyOptions {
  readonly fleetplane?: Partial<FleetplaneOptions>;
  readonly 'tf-aws'?: Partial<TfAwsOptions>;
  readonly gce?: Partial<GceOptions>;
  readonly buildkite?: Partial<BuildkiteOptions>;
}

/** Fresh models (each keeps per-run state) in the order named, each with its real defaults unless overridden. */
export function policiesNamed(names: readonly PolicyName[], options: PolicyOptions = {}): PolicyModel[] {
  const factories: Record<PolicyName, () => PolicyModel> = {
    fleetplane: () => createFleetplanePolicy(options.fleetplane),
    'tf-aws': () => createTfAwsPolicy(options['tf-aws']),
    gce: () => createGcePolicy(options.gce),
    buildkite: () => createBuildkitePolicy(options.buildkite),
  };
  return names.map((name) => factories[name]());
}
