import { type Fleet, type FleetSchedule, type GroupTarget, guardsItsInstances, targetKey } from '../domain/fleet.ts';
import { toError } from '../domain/guards.ts';
import { jitterOffsetMs } from '../domain/jitter.ts';
import { mapLimit } from '../domain/map-limit.ts';
import {
  type CapacityDecision,
  type CapacityInputs,
  type Demand,
  decideCapacity,
  type PeakDemand,
  Reason,
  type RecentRemovals,
} from '../domain/policy.ts';
import { type Allocations, type Cloud, type SeriesValue, seriesValue } from '../domain/queue-metric.ts';
import { type QueueName, queuesOf, type SeriesName } from '../domain/queues.ts';
import type { BusyReading, BusySignal } from '../ports/busy-signal.ts';
import type { Clock, Sleep } from '../ports/clock.ts';
import type { CycleMetrics } from '../ports/cycle-metrics.ts';
import type {
  GroupDescription,
  GroupSnapshot,
  InstanceGroups,
  RemoveOutcome,
  ReplaceOutcome,
} from '../ports/instance-groups.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueDepthSource } from '../ports/queue-depth.ts';
import type { QueueMetricsSink, QueueSizeHistory } from '../ports/queue-metrics.ts';
import type { RemovalLedger } from '../ports/removal-ledger.ts';
import { cycleSummaryOf } from './cycle-summary.ts';
import { removeIdleInstances } from './idle-removal.ts';
import { type Once, once } from './once.ts';
import { removalsInWindow } from './removal-window.ts';
import { scheduleAt } from './schedules.ts';
import {
  createInvocationMemory,
  type InvocationMemory,
  type WindowRequest,
  windowPeak,
} from './stabilization-window.ts';

export interface ScalingDeps {
  readonly depths: QueueDepthSource;
  readonly metrics: QueueMetricsSink;
  readonly history: QueueSizeHistory;
  readonly groups: InstanceGroups;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The executors' running jobs, for fleets whose scale-in removes only idle instances. */
  readonly busy?: BusySignal;
  /** Waits out a fleet's jitter; fleets with jitter act at once without it. */
  readonly sleep?: Sleep;
  /** What fleetplane removed lately, for fleets limiting removals per window. */
  readonly removals?: RemovalLedger;
  /** fleetplane's own metrics, one summary per cycle; a failure to publish them is logged, never fails the cycle. */
  readonly cycleMetrics?: CycleMetrics;
}

export interface ScalingSettings {
  readonly cloud: Cloud;
  readonly environment: string;
  readonly allocations: Allocations;
  readonly series: readonly SeriesName[];
  readonly fleets: readonly Fleet[];
}

/** `ok`: did what its mode asks. `deferred`: the cloud asked to retry (next poll). `failed`: data or API missing. */
export type FleetStatus = 'ok' | 'deferred' | 'failed';
export type FleetAction = 'none' | 'resized' | 'would-resize' | 'deferred' | 'removed-idle' | 'removed-exited';

export interface FleetOutcome {
  readonly fleet: string;
  readonly mode: Fleet['mode'];
  readonly series: SeriesName;
  readonly status: FleetStatus;
  readonly action: FleetAction;
  readonly reason: string;
  readonly detail: string;
  /** The series value this fleet sized from (jobs after allocation), when known. */
  readonly depth?: number;
  readonly current?: number;
  readonly desired?: number;
  readonly booting?: number;
  readonly competingScalers?: readonly string[];
}

export interface PublishOutcome {
  readonly ok: boolean;
  readonly series: readonly SeriesName[];
  readonly skipped: readonly { readonly series: SeriesName; readonly reason: string }[];
  readonly error?: string;
}

export interface CycleReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly published: PublishOutcome;
  readonly fleets: readonly FleetOutcome[];
  /** Every configured series, as read this cycle (known or why not). */
  readonly values: readonly SeriesValue[];
  /** Milliseconds reading the depths took, when any series came out known. */
  readonly sourcegraphLatencyMs?: number;
  /** Every fleet failed (or, with no fleets, nothing was published): the invocation should report an error. */
  readonly allFailed: boolean;
}

/**
 * Epoch ms by which the cycle's calls must be done. Reading depth gets the earlier `readBy`, so a slow Sourcegraph
 * still leaves time to publish and act on what is known; nothing runs past `finishBy`.
 */
export interface CycleBudget {
  readonly readBy: number;
  readonly finishBy: number;
}

/** What every step of one cycle shares. */
interface Cycle {
  readonly deps: ScalingDeps;
  readonly settings: ScalingSettings;
  readonly memory: InvocationMemory;
  readonly now: number;
  readonly log: Logger;
  /** Aborts at `finishBy`: passed to every cloud call. */
  readonly signal: AbortSignal | undefined;
  /** The cycle's busy-signal reading to choose victims from, read when the first shrinking fleet needs it. */
  readonly busyReading: Once<BusyReading> | undefined;
}

/**
 * Fleets acting at once (resizing, removing, waiting for the window or their jitter). Each fleet's calls are
 * independent, so a cycle costs one round trip for up to this many. A call the cloud throttles fails only its own
 * fleet, and the next poll tries again.
 */
const FLEET_CONCURRENCY = 50;

/**
 * One cycle: read depth once (describing the groups meanwhile), publish every series in one batch, then decide and act
 * per fleet.
 */
export async function runScalingCycle(
  deps: ScalingDeps,
  settings: ScalingSettings,
  memory: InvocationMemory = createInvocationMemory(),
  budget?: CycleBudget,
): Promise<CycleReport> {
  const startedAt = deps.clock();
  const finish = budget && AbortSignal.timeout(Math.max(0, budget.finishBy - startedAt));
  const read =
    budget && finish && AbortSignal.any([finish, AbortSignal.timeout(Math.max(0, budget.readBy - startedAt))]);
  const { busy } = deps;
  const cycle: Cycle = {
    deps,
    settings,
    memory,
    now: startedAt,
    log: deps.logger.child({ module: 'scaling-cycle' }),
    signal: finish,
    busyReading: busy && once(() => busy.read({ signal: finish })),
  };

  const managed = settings.fleets.flatMap((fleet) =>
    fleet.mode !== 'metrics' && fleet.target !== undefined ? [{ fleet, target: fleet.target }] : [],
  );
  // The groups are described while depth is read: neither needs the other, and a cycle is as slow as its waits.
  const describing = describeGroups(
    cycle,
    managed.map(({ target }) => target),
  );
  const queues = new Set<QueueName>(settings.series.flatMap((series) => queuesOf(series)));
  const reading = deps.clock();
  const depths = await deps.depths.read(queues, { signal: read });
  const readMs = deps.clock() - reading;
  const values = new Map(
    settings.series.map((series) => [series, seriesValue(series, depths, settings.allocations, settings.cloud)]),
  );
  for (const value of values.values()) {
    if (value.ok) {
      memory.observed.push({ series: value.series, value: value.value, at: startedAt });
    }
  }

  // Publishing and resizing do not depend on each other: a slow metrics endpoint must not hold up scale-out.
  const publishing = publish(cycle, [...values.values()]);
  const fleets = await decideFleets(cycle, managed, values, await describing, publishing);
  const published = await publishing;
  const allFailed =
    fleets.length > 0
      ? fleets.every((fleet) => fleet.status === 'failed')
      : !published.ok || published.series.length === 0;
  const report: CycleReport = {
    startedAt,
    durationMs: deps.clock() - startedAt,
    published,
    fleets,
    values: [...values.values()],
    ...([...values.values()].some((value) => value.ok) ? { sourcegraphLatencyMs: readMs } : {}),
    allFailed,
  };
  await publishSummary(cycle, report);
  return report;
}

/** After the cycle has acted, so a slow or failing metrics backend never delays or fails scaling. */
async function publishSummary(cycle: Cycle, report: CycleReport): Promise<void> {
  const { cycleMetrics } = cycle.deps;
  if (cycleMetrics === undefined) {
    return;
  }
  try {
    const summary = cycleSummaryOf(report, { environment: cycle.settings.environment });
    await cycleMetrics.publish(summary, { signal: cycle.signal });
  } catch (caught) {
    cycle.log.warn('publishing cycle metrics failed', { error: toError(caught) });
  }
}

async function publish(cycle: Cycle, values: readonly SeriesValue[]): Promise<PublishOutcome> {
  const known = values.filter((value) => value.ok);
  const skipped = values.filter((value) => !value.ok).map(({ series, reason }) => ({ series, reason }));
  for (const skip of skipped) {
    // Never publish a guess: a missing datapoint makes the Terraform alarms do nothing, a wrong 0 makes them scale in.
    cycle.log.warn('series not published', { series: skip.series, reason: skip.reason });
  }
  const series = known.map((value) => value.series);
  if (known.length === 0) {
    return { ok: skipped.length === 0, series, skipped };
  }
  const environment = cycle.settings.environment;
  try {
    await cycle.deps.metrics.publish(
      known.map((value) => ({ series: value.series, environment, value: value.value })),
      { signal: cycle.signal },
    );
    return { ok: true, series, skipped };
  } catch (caught) {
    const error = toError(caught);
    cycle.log.error('publishing queue size failed', { error, series });
    return { ok: false, series: [], skipped, error: `${error.name}: ${error.message}` };
  }
}

async function decideFleets(
  cycle: Cycle,
  managed: readonly ManagedFleet[],
  values: ReadonlyMap<SeriesName, SeriesValue>,
  groups: Described,
  publishing: Promise<PublishOutcome>,
): Promise<FleetOutcome[]> {
  const assessed = managed.map(({ fleet, target }) => assess(cycle, fleet, target, values.get(fleet.series), groups));
  // Scale-in candidates need the window read back (and, when limited, its removals): those reads start now, beside
  // the other fleets' resizes.
  // Every limited fleet, described this cycle or not: the ledger is read once per invocation for all of them.
  const limited = cycle.settings.fleets.filter(perWindowLimit).map((fleet) => fleet.name);
  const windows = new Map(
    assessed
      .flatMap((item) => ('decision' in item && item.decision.reason === Reason.WindowUnknown ? [item] : []))
      .map((item) => [item.fleet.name, readWindow(cycle, item.fleet, limited)]),
  );
  // Fleets waiting for the window go last, so a slow read never holds the slots that other fleets' resizes need.
  const waitsForWindow = (item: Assessment | FleetOutcome) => 'decision' in item && windows.has(item.fleet.name);
  // Within each part, fleets go in jitter order: a fleet waiting out a long offset never holds a slot an earlier one needs.
  const byJitter = (a: Assessment | FleetOutcome, b: Assessment | FleetOutcome) => jitterOf(a) - jitterOf(b);
  const ordered = [
    ...assessed.filter((item) => !waitsForWindow(item)).sort(byJitter),
    ...assessed.filter(waitsForWindow).sort(byJitter),
  ];
  const decided = await mapLimit(ordered, FLEET_CONCURRENCY, (item) =>
    'decision' in item ? act(cycle, item, windows.get(item.fleet.name)) : Promise.resolve(item),
  );
  const managedOutcomes = new Map(decided.map((outcome) => [outcome.fleet, outcome]));
  // Only metrics-only fleets wait for the publish: their outcome is whether it worked.
  const published = await publishing;
  return cycle.settings.fleets.map((fleet) => {
    const outcome = managedOutcomes.get(fleet.name) ?? metricsOnlyOutcome(fleet, values.get(fleet.series), published);
    const level = outcome.status === 'failed' ? 'error' : outcome.competingScalers?.length ? 'warn' : 'info';
    cycle.log[level]('fleet decision', { ...outcome });
    return outcome;
  });
}

function metricsOnlyOutcome(fleet: Fleet, value: SeriesValue | undefined, published: PublishOutcome): FleetOutcome {
  const base = { fleet: fleet.name, mode: fleet.mode, series: fleet.series, action: 'none' as const };
  if (value === undefined || !value.ok) {
    return { ...base, status: 'failed', reason: Reason.DemandUnknown, detail: value?.reason ?? 'series not read' };
  }
  if (!published.series.includes(fleet.series)) {
    const detail = published.error ?? 'not published';
    return { ...base, status: 'failed', reason: 'publish-failed', detail, depth: value.value };
  }
  return { ...base, status: 'ok', reason: 'published', detail: `published ${value.value}`, depth: value.value };
}

type Described = ReadonlyMap<string, GroupDescription> | Error;

interface ManagedFleet {
  readonly fleet: Fleet;
  readonly target: GroupTarget;
}

async function describeGroups(cycle: Cycle, targets: readonly GroupTarget[]): Promise<Described> {
  if (targets.length === 0) {
    return new Map();
  }
  try {
    return await cycle.deps.groups.describe(targets, { signal: cycle.signal });
  } catch (caught) {
    return toError(caught);
  }
}

/** A managed fleet whose group was described: what its decision needs, and the decision before the window is read. */
interface Assessment {
  readonly fleet: Fleet;
  readonly target: GroupTarget;
  readonly value: SeriesValue | undefined;
  readonly group: GroupSnapshot;
  readonly demand: Demand;
  readonly inputs: Omit<CapacityInputs, 'recentPeak'>;
  readonly decision: CapacityDecision;
  /** The time-of-day schedule in force, when one is. */
  readonly schedule?: FleetSchedule;
}

/** Decides what it can without I/O; a fleet whose group could not be described is already an outcome. */
function assess(
  cycle: Cycle,
  fleet: Fleet,
  target: GroupTarget,
  value: SeriesValue | undefined,
  groups: Described,
): Assessment | FleetOutcome {
  const description = groups instanceof Error ? undefined : groups.get(targetKey(target));
  if (description === undefined || !description.found) {
    const detail =
      groups instanceof Error
        ? `${groups.name}: ${groups.message}`
        : description === undefined
          ? 'not described'
          : description.reason;
    const base = { fleet: fleet.name, mode: fleet.mode, series: fleet.series };
    return { ...base, status: 'failed', action: 'none', reason: 'group-unavailable', detail, depth: okValue(value) };
  }
  const group = description.snapshot;
  const demand: Demand =
    value?.ok === true
      ? { known: true, jobs: value.value, observedAt: cycle.now }
      : { known: false, reason: value?.reason ?? 'series not read' };
  const schedule = scheduleAt(fleet, cycle.now);
  const controls = {
    ...fleet.controls,
    ...(schedule?.idleBuffer === undefined ? {} : { idleBuffer: schedule.idleBuffer }),
  };
  const inputs = {
    now: cycle.now,
    demand,
    current: group.desired,
    booting: group.instances.filter((instance) => instance.lifecycle === 'booting').length,
    jobsPerInstance: fleet.jobsPerInstance,
    fleet: { min: schedule?.minInstances ?? fleet.minInstances, max: fleet.maxInstances },
    group: { min: group.min, max: group.max },
    maxDemandAgeMs: fleet.scaleInWindowSeconds * 1000,
    ...(Object.keys(controls).length === 0 ? {} : { controls }),
  };
  const decision = decideCapacity({ ...inputs, recentPeak: { known: false, reason: 'not read yet' } });
  return { fleet, target, value, group, demand, inputs, decision, ...(schedule === undefined ? {} : { schedule }) };
}

/** What a scale-in decision needs beyond the cycle's own reads. */
interface WindowFacts {
  readonly recentPeak: PeakDemand;
  readonly removedInWindow?: RecentRemovals;
}

async function readWindow(cycle: Cycle, fleet: Fleet, limitedFleets: readonly string[]): Promise<WindowFacts> {
  const options = { signal: cycle.signal };
  const peak = windowPeak(cycle.deps.history, cycle.memory, windowRequest(cycle, fleet), options);
  if (!perWindowLimit(fleet)) {
    return { recentPeak: await peak };
  }
  const request = {
    fleet: fleet.name,
    windowSeconds: fleet.scaleInWindowSeconds,
    limitedFleets,
    environment: cycle.settings.environment,
    now: cycle.now,
  };
  const [recentPeak, removedInWindow] = await Promise.all([
    peak,
    removalsInWindow(cycle.deps.removals, cycle.memory, request, options),
  ]);
  return { recentPeak, removedInWindow };
}

function perWindowLimit(fleet: Fleet): boolean {
  return fleet.mode === 'direct' && fleet.controls?.maxScaleInPerWindow !== undefined;
}

function windowRequest(cycle: Cycle, fleet: Fleet): WindowRequest {
  return {
    series: fleet.series,
    windowSeconds: fleet.scaleInWindowSeconds,
    allSeries: cycle.settings.series,
    environment: cycle.settings.environment,
    now: cycle.now,
  };
}

/** Milliseconds into the cycle a fleet acts at: its jitter offset, 0 without one. */
function jitterOf(item: Assessment | FleetOutcome): number {
  return 'decision' in item && item.fleet.jitterSeconds !== undefined
    ? jitterOffsetMs(item.fleet.name, item.fleet.jitterSeconds * 1000)
    : 0;
}

/** Decides, acts and, for a busy-aware fleet, protects new instances from the group's own scale-in meanwhile. */
async function act(
  cycle: Cycle,
  assessment: Assessment,
  window: Promise<WindowFacts> | undefined,
): Promise<FleetOutcome> {
  // Until a moment fixed from the cycle's start, so time spent waiting for a slot is not added to the offset.
  const wait = cycle.now + jitterOf(assessment) - cycle.deps.clock();
  if (wait > 0 && cycle.deps.sleep !== undefined) {
    await cycle.deps.sleep(wait, cycle.signal);
  }
  const [outcome, guarded] = await Promise.all([
    decideAndAct(cycle, assessment, window),
    protectNewInstances(cycle, assessment),
  ]);
  return guarded === '' ? outcome : { ...outcome, detail: outcome.detail + guarded };
}

/**
 * Only fleetplane may choose which instances of a busy-aware fleet go: each instance is protected from the group's
 * own scale-in (ASG instance protection) as soon as it is seen. A failure is reported and tried again next cycle.
 */
async function protectNewInstances(cycle: Cycle, { fleet, target, group }: Assessment): Promise<string> {
  if (!guardsItsInstances(fleet)) {
    return '';
  }
  const unprotected = group.instances
    .filter((instance) => instance.protectedFromScaleIn === false && instance.lifecycle !== 'leaving')
    .map((instance) => instance.id);
  if (unprotected.length === 0) {
    return '';
  }
  try {
    await cycle.deps.groups.protectFromScaleIn(target, unprotected, { signal: cycle.signal });
    return `; protected ${unprotected.length} new instance(s) from the group's own scale-in`;
  } catch (caught) {
    const error = toError(caught);
    cycle.log.warn('protecting instances from scale-in failed', { fleet: fleet.name, error });
    return `; protecting new instances failed: ${error.name}: ${error.message}`;
  }
}

/** Decides with the window's peak when the fleet needed it, then resizes (or, in shadow mode, says it would). */
async function decideAndAct(
  cycle: Cycle,
  assessment: Assessment,
  window: Promise<WindowFacts> | undefined,
): Promise<FleetOutcome> {
  const outcome = await decideAndChange(cycle, assessment, window);
  // A direct fleet's outcome says the size after acting: whatever it lacks against the size before went.
  const removed = assessment.group.desired - (outcome.desired ?? assessment.group.desired);
  if (removed <= 0 || !perWindowLimit(assessment.fleet)) {
    return outcome;
  }
  return { ...outcome, detail: outcome.detail + (await recordRemoval(cycle, assessment.fleet, removed)) };
}

/**
 * Remembers a limited fleet's removal: in the invocation at once, in the ledger for later invocations. A ledger
 * that refuses costs the next invocations that count (they may remove more), never this one.
 */
async function recordRemoval(cycle: Cycle, fleet: Fleet, count: number): Promise<string> {
  cycle.memory.removed.push({ fleet: fleet.name, count, at: cycle.now });
  try {
    const removal = { fleet: fleet.name, environment: cycle.settings.environment, count };
    await cycle.deps.removals?.record(removal, { signal: cycle.signal });
    return '';
  } catch (caught) {
    const error = toError(caught);
    cycle.log.warn('recording a removal failed', { fleet: fleet.name, count, error });
    return `; recording the removal failed: ${error.name}: ${error.message}`;
  }
}

async function decideAndChange(
  cycle: Cycle,
  assessment: Assessment,
  window: Promise<WindowFacts> | undefined,
): Promise<FleetOutcome> {
  const { fleet, target, value, group, demand, inputs } = assessment;
  const decision = window === undefined ? assessment.decision : decideCapacity({ ...inputs, ...(await window) });
  const numbers = { depth: okValue(value), current: group.desired, desired: decision.target, booting: inputs.booting };
  const competing = group.competingScalers.length > 0 ? { competingScalers: group.competingScalers } : {};
  const explained = (status: FleetStatus, action: FleetAction, extra = '') => ({
    fleet: fleet.name,
    mode: fleet.mode,
    series: fleet.series,
    ...numbers,
    ...competing,
    status: demand.known ? status : ('failed' as const),
    action,
    reason: decision.reason,
    detail: decision.detail + scheduleNote(assessment.schedule) + extra + competingNote(fleet, group.competingScalers),
  });

  if (fleet.mode === 'shadow') {
    return explained('ok', decision.target === group.desired ? 'none' : 'would-resize');
  }
  const cleared = await settleExited(cycle, assessment, decision);
  const left = cleared === undefined ? assessment : { ...assessment, group: cleared.group };
  const noted = (status: FleetStatus, action: FleetAction, extra = '') =>
    explained(status, action, (cleared?.note ?? '') + extra);
  const size = left.group.desired;
  let outcome: FleetOutcome;
  if (decision.target === size) {
    outcome = noted('ok', 'none');
  } else if (decision.target < size && fleet.scaleIn?.mode === 'busy-signal') {
    outcome = await removeIdle(cycle, left, decision, noted);
  } else if (decision.target < size && fleet.scaleIn?.mode === 'attrition') {
    outcome = await shrinkByAttrition(cycle, left, decision, noted);
  } else {
    outcome = await resize(cycle, target, decision, size, noted);
  }
  return cleared !== undefined && cleared.removed > 0 && outcome.action === 'none'
    ? { ...outcome, action: 'removed-exited', desired: outcome.desired ?? size }
    : outcome;
}

/**
 * A MIG keeps the VM of an executor that exited, stopped (with `defaultActionOnFailure: DO_NOTHING`): no capacity,
 * and nothing runs there. Fleets where fleetplane alone chooses what goes settle such VMs before acting on the rest,
 * as an ASG does with a VM that terminated itself: as many as the fleet sheds are deleted, the others recreated.
 * Both calls re-check that each VM is still stopped, so one restarted since the snapshot is left alone.
 */
async function settleExited(
  cycle: Cycle,
  { fleet, target, group }: Assessment,
  decision: CapacityDecision,
): Promise<{ readonly group: GroupSnapshot; readonly removed: number; readonly note: string } | undefined> {
  const exited = group.instances.filter((instance) => instance.lifecycle === 'exited').map((instance) => instance.id);
  if (target.cloud !== 'gcp' || !guardsItsInstances(fleet) || exited.length === 0) {
    return undefined;
  }
  const shed = Math.min(exited.length, Math.max(0, group.desired - decision.target));
  const options = { signal: cycle.signal, onlyExited: true };
  const { groups } = cycle.deps;
  const removal = await settle(() => groups.removeInstances(target, exited.slice(0, shed), options), shed);
  const replacement = await settle(
    () => groups.replaceInstances(target, exited.slice(shed), options),
    exited.length - shed,
  );
  const gone = new Set(removal.done);
  const renewed = new Set(replacement.done);
  const notes = [
    gone.size > 0 ? `removed ${gone.size} exited instance(s) ${[...gone].join(', ')}` : undefined,
    renewed.size > 0 ? `recreated ${renewed.size} exited instance(s) ${[...renewed].join(', ')}` : undefined,
    ...removal.refused.map((reason) => `not removed: ${reason}`),
    ...replacement.refused.map((reason) => `not recreated: ${reason}`),
  ].filter((part) => part !== undefined);
  return {
    removed: gone.size,
    group: {
      ...group,
      desired: group.desired - gone.size,
      instances: group.instances.flatMap((instance) =>
        gone.has(instance.id)
          ? []
          : renewed.has(instance.id)
            ? [{ ...instance, lifecycle: 'booting' as const }]
            : [instance],
      ),
    },
    note: notes.length === 0 ? '' : `; ${notes.join('; ')}`,
  };
}

/** Which instances one change took, and why the others were not; a failed call refuses them all. */
async function settle(
  change: () => Promise<ReadonlyMap<string, RemoveOutcome | ReplaceOutcome>>,
  count: number,
): Promise<{ readonly done: readonly string[]; readonly refused: readonly string[] }> {
  if (count === 0) {
    return { done: [], refused: [] };
  }
  try {
    const outcomes = [...(await change())];
    return {
      done: outcomes.flatMap(([id, outcome]) =>
        ('removed' in outcome ? outcome.removed : outcome.replaced) ? [id] : [],
      ),
      refused: outcomes.flatMap(([id, outcome]) => ('reason' in outcome ? [`${id}: ${outcome.reason}`] : [])),
    };
  } catch (caught) {
    const error = toError(caught);
    return { done: [], refused: [`${error.name}: ${error.message}`] };
  }
}

/** Sets the decided size; an outcome that did not change it says the size it stayed at, `current`. */
async function resize(
  cycle: Cycle,
  target: GroupTarget,
  decision: CapacityDecision,
  current: number,
  explained: (status: FleetStatus, action: FleetAction, extra?: string) => FleetOutcome,
): Promise<FleetOutcome> {
  try {
    const result = await cycle.deps.groups.setDesiredSize(target, decision.target, { signal: cycle.signal });
    return result.applied
      ? explained('ok', 'resized')
      : { ...explained('deferred', 'deferred', `; resize deferred: ${result.deferred}`), desired: current };
  } catch (caught) {
    const error = toError(caught);
    return { ...explained('failed', 'none', `; resize failed: ${error.name}: ${error.message}`), desired: current };
  }
}

/** Busy-aware scale-in: only idle instances go, so the size may stay above the decided target for now. */
async function removeIdle(
  cycle: Cycle,
  assessment: Assessment,
  decision: CapacityDecision,
  explained: (status: FleetStatus, action: FleetAction, extra?: string) => FleetOutcome,
): Promise<FleetOutcome> {
  const { fleet, target, group } = assessment;
  const { busy } = cycle.deps;
  if (busy === undefined || cycle.busyReading === undefined) {
    // The config refuses busy-signal scale-in without a busy signal; this is the composition root's mistake.
    return explained('failed', 'none', '; scale-in held: no busy signal is wired');
  }
  const removal = await removeIdleInstances(busy, cycle.deps.groups, {
    chooseFrom: cycle.busyReading,
    target,
    group,
    count: group.desired - decision.target,
    order: fleet.scaleIn?.order ?? 'oldest-first',
    signal: cycle.signal,
  });
  const held = removal.held === undefined ? '' : `; ${removal.held}`;
  if (removal.removed.length === 0 && removal.signalUnknown) {
    // Without a signal nothing may be chosen; the group can still shrink as executors leave on their own.
    return shrinkByAttrition(cycle, assessment, decision, (status, action, extra = '') =>
      explained(status, action, `${held}${extra}`),
    );
  }
  if (removal.removed.length === 0) {
    return { ...explained('ok', 'none', `; scale-in held${held}`), desired: group.desired };
  }
  const outcome = explained('ok', 'removed-idle', `; removed idle ${removal.removed.join(', ')}${held}`);
  return { ...outcome, desired: group.desired - removal.removed.length };
}

/**
 * Shrinks only as executors exit by themselves. On AWS it lowers the desired size without removing anything: every
 * instance is protected from the group's own scale-in, so the group keeps them all, and an exited executor's VM
 * terminates and is not replaced. Held while any instance is unprotected (just launched), since the group could pick
 * it. A MIG has no protection but keeps an exited executor's VM, stopped: `settleExited` has dealt with those.
 */
async function shrinkByAttrition(
  cycle: Cycle,
  assessment: Assessment,
  decision: CapacityDecision,
  explained: (status: FleetStatus, action: FleetAction, extra?: string) => FleetOutcome,
): Promise<FleetOutcome> {
  const { target, group } = assessment;
  if (target.cloud === 'gcp') {
    // Exited VMs went before this; a repairing MIG recreates them within moments, and a fresh executor never goes.
    const repairs = group.recreatesExited
      ? '; the group recreates VMs whose executor exited: set instanceLifecyclePolicy.defaultActionOnFailure to DO_NOTHING so they wait, stopped, for fleetplane to remove them'
      : '';
    const note = `; attrition: instances leave as their executors exit${repairs}`;
    return { ...explained('ok', 'none', note), desired: group.desired };
  }
  const exposed = group.instances.filter(
    (instance) => instance.lifecycle !== 'leaving' && instance.protectedFromScaleIn !== true,
  );
  if (exposed.length > 0) {
    const note = `; attrition held: ${exposed.length} instance(s) not protected from the group's own scale-in yet`;
    return { ...explained('ok', 'none', note), desired: group.desired };
  }
  return resize(cycle, target, decision, group.desired, (status, action, extra = '') =>
    explained(status, action, `; attrition: instances leave as their executors exit${extra}`),
  );
}

function scheduleNote(schedule: FleetSchedule | undefined): string {
  if (schedule === undefined) {
    return '';
  }
  const sets = [
    schedule.minInstances === undefined ? undefined : `min ${schedule.minInstances}`,
    schedule.idleBuffer === undefined ? undefined : `idle buffer ${schedule.idleBuffer}`,
  ].filter((part) => part !== undefined);
  return `; schedule "${schedule.cron}" (${schedule.timezone}) sets ${sets.join(', ')}`;
}

function competingNote(fleet: Fleet, scalers: readonly string[]): string {
  if (scalers.length === 0) {
    return '';
  }
  const verb = fleet.mode === 'direct' ? 'fight fleetplane for this group' : 'also resize this group';
  return `; WARNING: ${scalers.join(', ')} ${verb}: remove them (Terraform min_replicas = max_replicas disables them)`;
}

function okValue(value: SeriesValue | undefined): number | undefined {
  return value?.ok === true ? value.value : undefined;
}
