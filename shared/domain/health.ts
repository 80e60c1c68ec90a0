/**
 * Fleet health: each instance of a group judged against the executor heartbeats Sourcegraph holds, and which broken
 * ones may be replaced. Pure: the instances, the executors and the time come in as parameters.
 */

/**
 * `booting`: younger than the grace period (or its age unknown), so no verdict yet. `healthy`: its executor
 * heartbeats. `orphan`: in service past the grace period and no executor ever heartbeated from it. `stale`: its
 * executor's last heartbeat is older than the threshold. `outdated`: heartbeats, but Sourcegraph calls its version
 * OUTDATED.
 */
export const HEALTH_CLASSES = ['booting', 'healthy', 'orphan', 'stale', 'outdated'] as const;
export type HealthClass = (typeof HEALTH_CLASSES)[number];

/** An instance as health needs it; lifecycles other than booting and in-service are not judged. */
export interface HealthInstance {
  readonly id: string;
  readonly hostname?: string;
  readonly lifecycle: 'booting' | 'in-service' | 'leaving' | 'standby' | 'exited';
  /** Epoch ms. */
  readonly launchedAt?: number;
}

/** An executor row as Sourcegraph lists it. */
export interface Heartbeat {
  /** `<host>-<uuid>`. */
  readonly name: string;
  /** The VM host name it runs on. */
  readonly host: string;
  /** Epoch ms. */
  readonly lastSeenAt: number;
  readonly version?: string;
  readonly compatibility?: string;
}

export interface HealthSettings {
  /** An instance younger than this gets no verdict: its executor may not have started yet. */
  readonly graceMs: number;
  /** A heartbeat older than this makes its executor stale. */
  readonly staleMs: number;
  /** Instances replaced per fleet per run, at most. */
  readonly maxReplacementsPerRun: number;
  /** And at most this fraction of the fleet's judged instances (at least one). */
  readonly maxReplacementFraction: number;
}

/** What the config document defaults to, and what drop-in mode (the worker's variables) uses. */
export const DEFAULT_HEALTH: HealthSettings = {
  graceMs: 600_000,
  staleMs: 300_000,
  maxReplacementsPerRun: 2,
  maxReplacementFraction: 0.25,
};

export interface InstanceVerdict {
  readonly id: string;
  readonly hostname?: string;
  readonly health: HealthClass;
  /** The executor matched to it (the newest heartbeat from its host), if any. */
  readonly executor?: string;
  readonly lastSeenAt?: number;
  readonly launchedAt?: number;
}

export interface FleetVerdicts {
  readonly instances: readonly InstanceVerdict[];
  readonly counts: Readonly<Record<HealthClass, number>>;
}

/** The newest heartbeat per host: an executor that restarted left an older row under another UUID. */
export function heartbeatsByHost(heartbeats: readonly Heartbeat[]): ReadonlyMap<string, Heartbeat> {
  const byHost = new Map<string, Heartbeat>();
  for (const heartbeat of heartbeats) {
    const known = byHost.get(heartbeat.host);
    if (known === undefined || heartbeat.lastSeenAt > known.lastSeenAt) {
      byHost.set(heartbeat.host, heartbeat);
    }
  }
  return byHost;
}

/** Judges a group's booting and in-service instances; the others (leaving, standby, exited) are not its concern. */
export function judgeInstances(
  instances: readonly HealthInstance[],
  byHost: ReadonlyMap<string, Heartbeat>,
  now: number,
  settings: Pick<HealthSettings, 'graceMs' | 'staleMs'>,
): FleetVerdicts {
  const verdicts: InstanceVerdict[] = [];
  for (const instance of instances) {
    if (instance.lifecycle !== 'booting' && instance.lifecycle !== 'in-service') {
      continue;
    }
    const heartbeat = instance.hostname === undefined ? undefined : byHost.get(instance.hostname);
    verdicts.push({
      id: instance.id,
      ...(instance.hostname === undefined ? {} : { hostname: instance.hostname }),
      ...(instance.launchedAt === undefined ? {} : { launchedAt: instance.launchedAt }),
      ...(heartbeat === undefined ? {} : { executor: heartbeat.name, lastSeenAt: heartbeat.lastSeenAt }),
      health: classOf(instance, heartbeat, now, settings),
    });
  }
  const counts: Record<HealthClass, number> = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
  for (const verdict of verdicts) {
    counts[verdict.health] += 1;
  }
  return { instances: verdicts, counts };
}

function classOf(
  instance: HealthInstance,
  heartbeat: Heartbeat | undefined,
  now: number,
  settings: Pick<HealthSettings, 'graceMs' | 'staleMs'>,
): HealthClass {
  const fresh = heartbeat !== undefined && now - heartbeat.lastSeenAt <= settings.staleMs;
  if (fresh) {
    return heartbeat.compatibility === 'OUTDATED' ? 'outdated' : 'healthy';
  }
  // No host name or launch time: nothing can be said about it without guessing, and a guess could kill a live one.
  if (instance.hostname === undefined || instance.launchedAt === undefined) {
    return 'booting';
  }
  if (now - instance.launchedAt <= settings.graceMs) {
    return 'booting';
  }
  return heartbeat === undefined ? 'orphan' : 'stale';
}

/** Executors heartbeating (within the stale threshold) from hosts no instance of any judged group explains. */
export function unexplainedHeartbeats(
  heartbeats: readonly Heartbeat[],
  knownHosts: ReadonlySet<string>,
  now: number,
  staleMs: number,
): Heartbeat[] {
  return heartbeats.filter((heartbeat) => now - heartbeat.lastSeenAt <= staleMs && !knownHosts.has(heartbeat.host));
}

export type ReplacementPlan =
  | { readonly replace: readonly string[]; readonly broken: number }
  | { readonly replace: readonly []; readonly broken: number; readonly held: string };

/**
 * Which broken (orphan, stale) instances to replace this run: the longest broken first, within the per-run caps. When
 * more than half of a fleet's judged instances are broken at once, nothing is replaced: that points at something
 * they share (Sourcegraph just back from an outage, a bad image, the network), which new instances would meet too.
 */
export function planReplacements(verdicts: FleetVerdicts, settings: HealthSettings): ReplacementPlan {
  const judged = verdicts.instances.filter((verdict) => verdict.health !== 'booting');
  const broken = judged
    .filter((verdict) => verdict.health === 'orphan' || verdict.health === 'stale')
    .sort((a, b) => brokenSince(a) - brokenSince(b) || a.id.localeCompare(b.id));
  if (broken.length === 0) {
    return { replace: [], broken: 0 };
  }
  if (broken.length > 1 && broken.length * 2 > judged.length) {
    return {
      replace: [],
      broken: broken.length,
      held: `${broken.length} of ${judged.length} judged instances are broken at once: a shared cause is likelier than ${broken.length} bad instances`,
    };
  }
  const cap = Math.min(
    settings.maxReplacementsPerRun,
    Math.max(1, Math.floor(settings.maxReplacementFraction * judged.length)),
  );
  return { replace: broken.slice(0, cap).map((verdict) => verdict.id), broken: broken.length };
}

/** When it stopped working: its last heartbeat, or (never one) its launch. */
function brokenSince(verdict: InstanceVerdict): number {
  return verdict.lastSeenAt ?? verdict.launchedAt ?? 0;
}
