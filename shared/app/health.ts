import type { FleetplaneConfig } from '../config/types.ts';
import type { Fleet, GroupTarget } from '../domain/fleet.ts';
import { fleetsOf, targetKey } from '../domain/fleet.ts';
import { toError } from '../domain/guards.ts';
import {
  type HealthClass,
  type Heartbeat,
  heartbeatsByHost,
  type InstanceVerdict,
  judgeInstances,
  planReplacements,
  unexplainedHeartbeats,
} from '../domain/health.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { Clock } from '../ports/clock.ts';
import type { ExecutorDirectory, ExecutorRecord } from '../ports/executor-directory.ts';
import type { HealthMetrics } from '../ports/health-metrics.ts';
import type { GroupDescription, InstanceGroups } from '../ports/instance-groups.ts';
import type { Logger } from '../ports/logger.ts';

export interface HealthDeps {
  readonly groups: InstanceGroups;
  readonly executors: ExecutorDirectory;
  /** Absent: counts are only logged and reported. */
  readonly metrics?: HealthMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** One fleet's health: its instances judged, and what was (or, outside direct mode, would have been) replaced. */
export interface FleetHealth {
  readonly fleet: string;
  readonly group: string;
  readonly mode: Fleet['mode'];
  /** Why the fleet could not be judged (its group unreadable, Sourcegraph unreachable); absent when it was. */
  readonly unknown?: string;
  readonly counts?: Readonly<Record<HealthClass, number>>;
  readonly instances: readonly InstanceVerdict[];
  /** Replaced this run (direct mode), or that would have been (shadow, metrics). */
  readonly replaced: readonly string[];
  readonly wouldReplace: readonly string[];
  /** Instances the cloud refused to replace, with its reason. */
  readonly refused: readonly { readonly id: string; readonly reason: string }[];
  /** Why broken instances were left alone this run. */
  readonly held?: string;
}

export interface HealthReport {
  /** Epoch ms the instances were judged at. */
  readonly at: number;
  readonly sourcegraph: { readonly ok: true } | { readonly ok: false; readonly error: string };
  readonly fleets: readonly FleetHealth[];
  /** Executors heartbeating from hosts that no instance of any fleet explains. */
  readonly unexplained: readonly { readonly name: string; readonly host?: string; readonly lastSeenAt: number }[];
}

/**
 * The config one cloud's health check runs on: the fleets whose group lives there (another cloud's group is not its to
 * read, and that cloud's deployment judges it). Their executors still count as explained by nobody here.
 */
export function healthConfigOn(config: FleetplaneConfig, cloud: GroupTarget['cloud']): FleetplaneConfig {
  return { ...config, fleets: fleetsOf(config.fleets, cloud) };
}

export interface HealthOptions extends CallOptions {
  /** `false`: judge and report only, whatever the fleets' modes (a `GET /health` must change nothing). */
  readonly act?: boolean;
}

/**
 * Judges every fleet's instances against the executors' heartbeats and, in direct mode, replaces the broken ones
 * within the configured caps. Nothing is replaced when Sourcegraph cannot be read or answers errors: silent executors
 * are then Sourcegraph's problem, not the instances'.
 */
export async function checkFleetHealth(
  deps: HealthDeps,
  config: Pick<FleetplaneConfig, 'environment' | 'fleets' | 'health'>,
  options: HealthOptions = {},
): Promise<HealthReport> {
  const log = deps.logger.child({ module: 'health' });
  const fleets = config.fleets.filter((fleet) => fleet.target !== undefined);
  const [executors, groups] = await Promise.all([
    deps.executors.list(options).then(
      (records) => ({ ok: true as const, records }),
      (caught: unknown) => ({ ok: false as const, error: toError(caught).message }),
    ),
    deps.groups
      .describe(
        fleets.flatMap((fleet) => (fleet.target === undefined ? [] : [fleet.target])),
        options,
      )
      .then(
        (described) => ({ ok: true as const, described }),
        (caught: unknown) => ({ ok: false as const, error: toError(caught).message }),
      ),
  ]);
  const at = deps.clock();
  const heartbeats = executors.ok ? executors.records.map(heartbeatOf) : [];
  const byHost = heartbeatsByHost(heartbeats);
  const knownHosts = new Set(
    (groups.ok ? [...groups.described.values()] : []).flatMap((description) =>
      description.found ? description.snapshot.instances.flatMap((instance) => instance.hostname ?? []) : [],
    ),
  );

  const reports = await Promise.all(
    fleets.map(async (fleet): Promise<FleetHealth> => {
      const target = fleet.target;
      const base = { fleet: fleet.name, group: target === undefined ? '' : targetKey(target), mode: fleet.mode };
      const description: GroupDescription | undefined =
        groups.ok && target !== undefined ? groups.described.get(targetKey(target)) : undefined;
      if (description === undefined || !description.found) {
        const unknown = groups.ok
          ? description?.found === false
            ? description.reason
            : 'not described'
          : groups.error;
        return { ...base, unknown, instances: [], replaced: [], wouldReplace: [], refused: [] };
      }
      if (!executors.ok) {
        return {
          ...base,
          unknown: `Sourcegraph could not be read: ${executors.error}`,
          instances: [],
          replaced: [],
          wouldReplace: [],
          refused: [],
        };
      }
      const verdicts = judgeInstances(description.snapshot.instances, byHost, at, config.health);
      const plan = planReplacements(verdicts, config.health);
      const held = 'held' in plan ? plan.held : undefined;
      const judged = { ...base, counts: verdicts.counts, instances: verdicts.instances, ...(held ? { held } : {}) };
      if (fleet.mode !== 'direct' || options.act === false || target === undefined || plan.replace.length === 0) {
        return { ...judged, replaced: [], wouldReplace: [...plan.replace], refused: [] };
      }
      return { ...judged, ...(await replace(deps, target, plan.replace, options)), wouldReplace: [] };
    }),
  );
  const unexplained = executors.ok ? unexplainedHeartbeats(heartbeats, knownHosts, at, config.health.staleMs) : [];
  const report: HealthReport = {
    at,
    sourcegraph: executors.ok ? { ok: true } : { ok: false, error: executors.error },
    fleets: reports,
    unexplained: unexplained.map(({ name, host, lastSeenAt }) => ({
      name,
      ...(host === name ? {} : { host }),
      lastSeenAt,
    })),
  };
  for (const fleet of reports) {
    log.info('fleet health', {
      fleet: fleet.fleet,
      mode: fleet.mode,
      ...(fleet.unknown === undefined ? { counts: fleet.counts } : { unknown: fleet.unknown }),
      replaced: fleet.replaced,
      wouldReplace: fleet.wouldReplace,
      refused: fleet.refused,
      ...(fleet.held === undefined ? {} : { held: fleet.held }),
    });
  }
  if (unexplained.length > 0) {
    log.warn('executors heartbeating from hosts no fleet explains', { executors: report.unexplained });
  }
  await publish(deps, config.environment, report, options, log);
  return report;
}

async function replace(
  deps: HealthDeps,
  target: NonNullable<Fleet['target']>,
  ids: readonly string[],
  options: CallOptions,
): Promise<Pick<FleetHealth, 'replaced' | 'refused'>> {
  try {
    const outcomes = await deps.groups.replaceInstances(target, ids, options);
    const replaced: string[] = [];
    const refused: { id: string; reason: string }[] = [];
    for (const id of ids) {
      const outcome = outcomes.get(id);
      if (outcome?.replaced === true) {
        replaced.push(id);
      } else {
        refused.push({ id, reason: outcome === undefined ? 'no answer for it' : outcome.reason });
      }
    }
    return { replaced, refused };
  } catch (caught) {
    const reason = toError(caught).message;
    return { replaced: [], refused: ids.map((id) => ({ id, reason })) };
  }
}

/** Publishing never fails the check: the report and the replacements stand without the metrics. */
async function publish(
  deps: HealthDeps,
  environment: string,
  report: HealthReport,
  options: HealthOptions,
  log: Logger,
): Promise<void> {
  // A report-only check (a GET of the health page) publishes nothing: its would-replace counts would read as the
  // scheduled check's, and a GET changes nothing, the series included.
  if (deps.metrics === undefined || !report.sourcegraph.ok || options.act === false) {
    return;
  }
  const fleets = report.fleets.flatMap((fleet) =>
    fleet.counts === undefined
      ? []
      : [
          {
            fleet: fleet.fleet,
            counts: fleet.counts,
            replacements: {
              replaced: fleet.replaced.length,
              'would-replace': fleet.wouldReplace.length,
              refused: fleet.refused.length,
            },
            held: fleet.held !== undefined,
          },
        ],
  );
  try {
    await deps.metrics.publish(
      { environment, at: report.at, fleets, unexplainedExecutors: report.unexplained.length },
      options,
    );
  } catch (caught) {
    log.warn('health metrics not published', { error: toError(caught).message });
  }
}

/** An executor whose name carries no host explains no VM; its own name stands in, so it can still be unexplained. */
function heartbeatOf(record: ExecutorRecord): Heartbeat {
  return {
    name: record.name,
    host: record.host ?? record.name,
    lastSeenAt: record.lastSeenAt,
    version: record.version,
    ...(record.compatibility === undefined ? {} : { compatibility: record.compatibility }),
  };
}
