import { type AutoScalingClient, DescribePoliciesCommand } from '@aws-sdk/client-auto-scaling';
import type { Clock } from '../ports/clock.ts';
import type { NarrowLogger } from '../ports/logger.ts';

/** Group name → other controllers that resize it, e.g. `policy:scale-out (SimpleScaling)`. */
export type ScalersByGroup = ReadonlyMap<string, readonly string[]>;

/** DescribePolicies accepts at most 100 records per page. */
const MAX_RECORDS = 100;
/** Upper bound on NextToken pages, so a misbehaving endpoint cannot keep a cycle looping. */
const MAX_PAGES = 100;
const NONE: ScalersByGroup = new Map();

export interface PolicyLookupOptions {
  readonly clientFor: (region: string) => AutoScalingClient;
  /** Milliseconds a region's answer is reused. */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly logger: NarrowLogger;
}

/**
 * Scaling policies only feed a warning ("two controllers fight over this group"), so they are read once per region
 * (one paged call for all groups, not one per group), cached, and a failure degrades to "none known" with a warning
 * instead of failing the describe that needed them. Concurrent callers share one in-flight request.
 */
export function createPolicyLookup(options: PolicyLookupOptions): (region: string) => Promise<ScalersByGroup> {
  const cache = new Map<string, { readonly at: number; readonly value: Promise<ScalersByGroup> }>();
  return (region) => {
    const now = options.clock();
    const hit = cache.get(region);
    if (hit !== undefined && now - hit.at < options.ttlMs) {
      return hit.value;
    }
    const entry = {
      at: now,
      value: fetchPolicies(options.clientFor(region)).catch((error: unknown) => {
        // Not cached: the next describe asks again rather than reporting "none" for a whole TTL.
        if (cache.get(region) === entry) {
          cache.delete(region);
        }
        options.logger.warn('scaling policies unavailable; competing scalers not reported', { region, error });
        return NONE;
      }),
    };
    cache.set(region, entry);
    return entry.value;
  };
}

async function fetchPolicies(client: AutoScalingClient): Promise<ScalersByGroup> {
  const byGroup = new Map<string, string[]>();
  let token: string | undefined;
  for (let page = 0; page === 0 || token !== undefined; page++) {
    if (page >= MAX_PAGES) {
      throw new Error(`DescribePolicies still paging after ${MAX_PAGES} pages`);
    }
    const output = await client.send(new DescribePoliciesCommand({ MaxRecords: MAX_RECORDS, NextToken: token }));
    for (const policy of output.ScalingPolicies ?? []) {
      // A disabled policy does not act, so it does not compete.
      if (policy.AutoScalingGroupName === undefined || policy.PolicyName === undefined || policy.Enabled === false) {
        continue;
      }
      const scalers = byGroup.get(policy.AutoScalingGroupName) ?? [];
      scalers.push(`policy:${policy.PolicyName} (${policy.PolicyType ?? 'unknown type'})`);
      byGroup.set(policy.AutoScalingGroupName, scalers);
    }
    token = output.NextToken === '' ? undefined : output.NextToken;
  }
  return byGroup;
}
