/**
 * Which instances a scale-in may remove: only idle ones, judged from the executors' running jobs. Pure: the busy
 * reading and the instances are inputs, so the same rules hold in the cloud, the simulator and the tests.
 */

/** What the policy needs of an instance to judge it. */
export interface ScaleInCandidate {
  readonly id: string;
  /** Only instances in service are ever removed by choice: booting ones hold scale-in altogether. */
  readonly inService: boolean;
  /** The VM powered itself off (its executor exited): nothing runs there, whatever the signal says. */
  readonly exited?: boolean;
  /** The VM's host name; its executors are named `<hostname>-<uuid>`. */
  readonly hostname?: string;
  /** Epoch milliseconds. */
  readonly launchedAt?: number;
}

export type Activity =
  | { readonly idle: true }
  | { readonly idle: false; readonly reason: 'running-jobs' | 'no-executor' | 'no-hostname' | 'not-in-service' };

export const VICTIM_ORDERS = ['oldest-first', 'newest-first'] as const;
export type VictimOrder = (typeof VICTIM_ORDERS)[number];

/**
 * An instance is idle only when an executor is known to run on it and none of its executors runs a job. No executor
 * (not registered yet, or already gone) or no host name means the signal cannot vouch for it: it counts as busy.
 */
export function activityOf(candidate: ScaleInCandidate, runningJobs: ReadonlyMap<string, number>): Activity {
  const hostname = candidate.hostname ?? '';
  const prefix = `${hostname}-`;
  let executors = 0;
  let jobs = 0;
  for (const [executor, running] of runningJobs) {
    if (hostname !== '' && executor.startsWith(prefix)) {
      executors += 1;
      jobs += running;
    }
  }
  if (candidate.exited === true) {
    // Stopped, unless the signal shows its host running a job: then the snapshot is older than a restart.
    return jobs > 0 ? { idle: false, reason: 'running-jobs' } : { idle: true };
  }
  if (!candidate.inService) {
    return { idle: false, reason: 'not-in-service' };
  }
  if (hostname === '') {
    return { idle: false, reason: 'no-hostname' };
  }
  if (executors === 0) {
    return { idle: false, reason: 'no-executor' };
  }
  return jobs > 0 ? { idle: false, reason: 'running-jobs' } : { idle: true };
}

/**
 * Up to `count` idle instances: exited ones first (they serve nothing), then the rest in the configured order. An
 * instance whose launch time is unknown sorts as the newest (it is removed last when oldest go first, first when
 * newest go first); ties keep the id order, so the choice is the same on every run.
 */
export function chooseVictims(
  candidates: readonly ScaleInCandidate[],
  runningJobs: ReadonlyMap<string, number>,
  count: number,
  order: VictimOrder,
): string[] {
  const launched = (candidate: ScaleInCandidate) => candidate.launchedAt ?? Number.POSITIVE_INFINITY;
  const direction = order === 'oldest-first' ? 1 : -1;
  return candidates
    .filter((candidate) => activityOf(candidate, runningJobs).idle)
    .sort(
      (a, b) =>
        Number(b.exited === true) - Number(a.exited === true) ||
        direction * (launched(a) - launched(b)) ||
        a.id.localeCompare(b.id),
    )
    .slice(0, Math.max(0, count))
    .map((candidate) => candidate.id);
}
