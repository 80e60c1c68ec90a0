import fc from 'fast-check';
import { vi } from 'vitest';
import type { ActionOnFailure } from '../../local/gcp/compute.ts';
import { LOCAL_GCP_PROJECT, type LocalFleet, type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { WorldStats } from '../../local/world/world.ts';
import { runScalingCycle } from '../../shared/app/scaling-cycle.ts';
import { createInvocationMemory } from '../../shared/app/stabilization-window.ts';
import { createAwsScaleRuntime } from '../../shared/aws/deps.ts';
import type { QueueName } from '../../shared/domain/queues.ts';
import { seededRandom } from '../../shared/domain/random.ts';
import { createGcpScaleRuntime } from '../../shared/gcp/deps.ts';
import { silentLogger } from '../../shared/observability/logger.ts';

/**
 * A randomized run of the real composition roots against the local stack: a workload, executor retirement and faults
 * over time windows, one scaling cycle every 10 simulated seconds and a fresh invocation every minute. It records what
 * the properties need; the properties themselves live in the test file.
 */

export const CYCLE_SECONDS = 10;
/**
 * Jobs arrive and faults start within the first 15 simulated minutes. With the drain and the scale-in after it a run
 * covers 15-25 minutes, 90-150 cycles of the real SDK clients: 0.5-1.5 s of real time on AWS, up to 2 s on GCP, whose
 * REST clients cost about 3 ms a call.
 */
const WORKLOAD_SECONDS = 15 * 60;
/**
 * Seconds after the queue drained (and the last fault ended) within which a busy-signal fleet is back at its minimum,
 * as the code bounds it (shared/app/stabilization-window.ts, shared/domain/policy.ts). Scale-in waits until the last
 * non-zero demand has left the window `[now - window, now]`. The store keeps one maximum per minute, so a published
 * point counts while any of its minute lies in the window: the last non-zero point, seen at cycle p, holds the fleet
 * until periodOf(p) + 60 s + window, and the first cycle at or after that shrinks it (each cycle slides the window
 * over the invocation's one read). Cycles here fall on multiples of 10 s from a whole minute and windows are whole
 * minutes, so that cycle is periodOf(p) + 60 s + window itself, before drain + window + 60 s.
 */
export const SCALE_IN_SLACK_SECONDS = 60;
/** A real invocation runs six cycles (0-50 s) before the next cold or warm start gets a fresh memory. */
const CYCLES_PER_INVOCATION = 6;
const ZONE = 'us-central1-a';

export type Cloud = 'aws' | 'gcp';
export type FaultKind = 'busy-signal' | 'sourcegraph-graphql' | 'sourcegraph-garbage' | 'cloud';
/** The top-level fields of fleetplane's QueueDepth query a Sourcegraph resolver error may hit. */
const FAILING_FIELDS = ['currentUser', 'preciseIndexes', 'batchSpecs'] as const;

export interface FleetShape {
  readonly queue: QueueName;
  readonly min: number;
  readonly max: number;
}

export interface Arrival {
  readonly atSeconds: number;
  readonly queue: QueueName;
  readonly count: number;
  readonly durationSeconds: number;
}

/** Active from the cycle at `fromSeconds` up to (not including) the cycle at `fromSeconds + seconds`. */
export interface FaultWindow {
  readonly kind: FaultKind;
  readonly fromSeconds: number;
  readonly seconds: number;
  readonly field: (typeof FAILING_FIELDS)[number];
}

export interface Scenario {
  readonly cloud: Cloud;
  readonly scaleIn: 'busy-signal' | 'attrition';
  readonly fleets: readonly FleetShape[];
  /** The executors' `EXECUTOR_MAXIMUM_NUM_JOBS`, and the fleets' `jobsPerInstance`. */
  readonly jobsPerInstance: number;
  readonly bootSeconds: number;
  readonly windowSeconds: number;
  readonly arrivals: readonly Arrival[];
  readonly faults: readonly FaultWindow[];
  readonly retireAfterJobs: number | undefined;
  readonly retireAfterSeconds: number | undefined;
  /** The MIGs' `defaultActionOnFailure` (GCP only). */
  readonly actionOnFailure: ActionOnFailure;
  readonly seed: number;
}

/** One fleet as seen just before a cycle (`depth`, `booting`) and just after it (`desired`, the decision). */
export interface FleetCycle {
  readonly fleet: string;
  readonly queue: QueueName;
  readonly depth: number;
  readonly booting: boolean;
  readonly desired: number;
  readonly outcome: string;
}

export interface CycleRecord {
  /** Simulated seconds since the run started. */
  readonly at: number;
  readonly faults: ReadonlySet<FaultKind>;
  readonly fleets: readonly FleetCycle[];
}

/** A removal fleetplane asked the cloud for (TerminateInstanceInAutoScalingGroup, deleteInstances). */
export interface RemovalRequest {
  readonly at: number;
  readonly fleet: string;
  /**
   * Every instance it named had already powered off (its executor exited): on GCP, clearing a stopped VM from the MIG,
   * which the ASG does by itself on AWS. Such a request removes no capacity and can interrupt nothing.
   */
  readonly exitedOnly: boolean;
}

export interface RunRecord {
  readonly cycles: readonly CycleRecord[];
  readonly removals: readonly RemovalRequest[];
  readonly stats: WorldStats;
  /** Simulated second each fleet's queue last became empty by `at` (its last job's end), or undefined. */
  readonly drainedBy: (queue: QueueName, at: number) => number | undefined;
}

/** A run's start: a Monday morning, so nothing depends on the wall clock. */
const START = Date.UTC(2026, 10, 30, 9);

const fleetName = (shape: FleetShape) => shape.queue;
const groupName = (shape: FleetShape) => `executors-${shape.queue}`;

export const scenarioArbitrary = (cloud: Cloud, scaleIn: Scenario['scaleIn']): fc.Arbitrary<Scenario> =>
  fc
    .record({
      fleets: fc.uniqueArray(
        fc.record({
          queue: fc.constantFrom<QueueName>('codeintel', 'batches'),
          min: fc.integer({ min: 0, max: 1 }),
          max: fc.integer({ min: 2, max: 6 }),
        }),
        { minLength: 1, maxLength: 2, selector: (fleet) => fleet.queue },
      ),
      jobsPerInstance: fc.integer({ min: 1, max: 4 }),
      bootSeconds: fc.integer({ min: 5, max: 60 }),
      windowSeconds: fc.constantFrom(60, 120, 180),
      arrivals: fc.array(
        fc.record({
          atSeconds: fc.integer({ min: 0, max: WORKLOAD_SECONDS }),
          count: fc.integer({ min: 1, max: 8 }),
          durationSeconds: fc.integer({ min: 5, max: 180 }),
          second: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      faults: fc.array(
        fc.record({
          kind: fc.constantFrom<FaultKind>('busy-signal', 'sourcegraph-graphql', 'sourcegraph-garbage', 'cloud'),
          fromCycle: fc.integer({ min: 0, max: WORKLOAD_SECONDS / CYCLE_SECONDS }),
          cycles: fc.integer({ min: 1, max: 30 }),
          field: fc.constantFrom(...FAILING_FIELDS),
        }),
        { maxLength: 4 },
      ),
      retireAfterJobs: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      // Real executors default to 2 h (AWS) and 12 h (GCP); minutes here, so retirements happen within a run.
      retireAfterSeconds: fc.option(fc.integer({ min: 5 * 60, max: 30 * 60 }), { nil: undefined }),
      actionOnFailure: fc.constantFrom<ActionOnFailure>('REPAIR', 'DO_NOTHING'),
      seed: fc.integer(),
    })
    .map(
      ({ arrivals, faults, fleets, ...rest }): Scenario => ({
        ...rest,
        cloud,
        scaleIn,
        fleets,
        arrivals: arrivals
          .map((arrival) => ({
            atSeconds: arrival.atSeconds,
            // A second fleet's queue, when there is one, gets the arrivals flagged for it.
            queue: (arrival.second ? fleets[1] : undefined)?.queue ?? fleets[0]?.queue ?? 'codeintel',
            count: arrival.count,
            durationSeconds: arrival.durationSeconds,
          }))
          .sort((a, b) => a.atSeconds - b.atSeconds),
        faults: faults.map((fault) => ({
          kind: fault.kind,
          fromSeconds: fault.fromCycle * CYCLE_SECONDS,
          seconds: fault.cycles * CYCLE_SECONDS,
          field: fault.field,
        })),
      }),
    );

export async function runScenario(scenario: Scenario): Promise<RunRecord> {
  const time = { now: START };
  const clock = () => time.now;
  const localFleets: LocalFleet[] = scenario.fleets.map((shape) => ({
    fleet: fleetName(shape),
    group: groupName(shape),
    queues: [shape.queue],
    min: shape.min,
    max: shape.max,
    desired: shape.min,
    jobsPerInstance: scenario.jobsPerInstance,
    mode: 'direct',
  }));
  const stack = await startLocalStack({
    clock,
    fleets: scenario.cloud === 'aws' ? localFleets : [],
    bootDelayMs: scenario.bootSeconds * 1000,
    maxJobsPerExecutor: scenario.jobsPerInstance,
    // Seeded, so instance ids, names and executor UUIDs repeat with the scenario.
    random: seededRandom(scenario.seed),
    ...(scenario.retireAfterJobs === undefined ? {} : { retireAfterJobs: scenario.retireAfterJobs }),
    ...(scenario.retireAfterSeconds === undefined ? {} : { retireAfterMs: scenario.retireAfterSeconds * 1000 }),
  });
  try {
    if (scenario.cloud === 'gcp') {
      for (const shape of scenario.fleets) {
        stack.compute.addGroup({
          project: LOCAL_GCP_PROJECT,
          zone: ZONE,
          name: groupName(shape),
          targetSize: shape.min,
          queues: [shape.queue],
          instanceLifecyclePolicy: { defaultActionOnFailure: scenario.actionOnFailure },
        });
      }
    }
    const scale = await runtimeFor(stack, scenario);
    // The composition root's own logger would print every failed cycle a fault causes; the decisions are in the reports.
    const deps = { ...scale.deps, logger: silentLogger };
    return await drive(stack, scenario, time, (memory) => runScalingCycle(deps, scale.settings, memory));
  } finally {
    await stack.close();
  }
}

async function runtimeFor(stack: LocalStack, scenario: Scenario) {
  const fleets = scenario.fleets.map((shape) => ({
    name: fleetName(shape),
    queues: [shape.queue],
    mode: 'direct',
    target:
      scenario.cloud === 'aws'
        ? { cloud: 'aws', region: 'us-east-1', autoScalingGroup: groupName(shape) }
        : { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone: ZONE, instanceGroupManager: groupName(shape) },
    jobsPerInstance: scenario.jobsPerInstance,
    minInstances: shape.min,
    maxInstances: shape.max,
    scaleInWindowSeconds: scenario.windowSeconds,
    scaleIn: { mode: scenario.scaleIn },
  }));
  const config = {
    environment: 'local',
    sourcegraph: { endpoint: stack.sourcegraph.url, token: 'sgp_local_fleetplane_emulator_site_admin_token' },
    metrics:
      scenario.cloud === 'aws'
        ? { cloudwatch: { namespace: 'sourcegraph-executor', region: 'us-east-1' } }
        : { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
    busySignal: { url: stack.workerMetrics.url },
    fleets,
  };
  const env = { FLEETPLANE_CONFIG: JSON.stringify(config), FLEETPLANE_LOG_LEVEL: 'error' };
  if (scenario.cloud === 'aws') {
    // The SDK clients find the emulators through AWS_ENDPOINT_URL_* in the process environment.
    for (const [name, value] of Object.entries(stack.env())) {
      vi.stubEnv(name, value);
    }
    return createAwsScaleRuntime({ ...stack.env(), ...env }, () => stack.world.clock());
  }
  return createGcpScaleRuntime(
    {
      ...env,
      FLEETPLANE_GCP_MONITORING_ENDPOINT: stack.monitoring.emulator.url,
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: stack.compute.emulator.url,
    },
    () => stack.world.clock(),
  );
}

type Cycle = (memory: ReturnType<typeof createInvocationMemory>) => Promise<{
  readonly fleets: readonly { readonly fleet: string; readonly reason: string; readonly detail: string }[];
}>;

async function drive(stack: LocalStack, scenario: Scenario, time: { now: number }, cycle: Cycle): Promise<RunRecord> {
  const active = (kind: FaultKind, at: number) =>
    scenario.faults.filter((f) => f.kind === kind && f.fromSeconds <= at && at < f.fromSeconds + f.seconds);
  const lastArrival = Math.max(0, ...scenario.arrivals.map((arrival) => arrival.atSeconds));
  const lastFaultEnd = Math.max(0, ...scenario.faults.map((fault) => fault.fromSeconds + fault.seconds));
  // Quiet long enough to pass the scale-in bound, and three cycles more.
  const settle = scenario.windowSeconds + SCALE_IN_SLACK_SECONDS + 3 * CYCLE_SECONDS;
  // Work the fleets cannot drain by then is not waited for: the properties hold at every cycle anyway.
  const cap = Math.max(lastArrival, lastFaultEnd) + 10 * 60;
  const pending = [...scenario.arrivals];
  const cycles: CycleRecord[] = [];
  let memory = createInvocationMemory();
  let specs = 0;

  for (let at = 0, index = 0; at <= cap; at += CYCLE_SECONDS, index += 1) {
    for (let next = pending[0]; next !== undefined && next.atSeconds <= at; next = pending[0]) {
      pending.shift();
      // Arrivals land at their own second, not on the cycle grid.
      time.now = START + next.atSeconds * 1000;
      const batchSpec = next.queue === 'batches' ? { batchSpec: `spec-${++specs}` } : {};
      stack.world.enqueue(next.queue, next.count, { durationMs: next.durationSeconds * 1000, ...batchSpec });
    }
    time.now = START + at * 1000;
    const faults = applyFaults(stack, scenario, (kind) => active(kind, at));
    const before = scenario.fleets.map((shape) => ({
      shape,
      depth: depthOf(stack, shape.queue),
      booting: isBooting(stack, scenario, shape),
    }));
    if (index % CYCLES_PER_INVOCATION === 0) {
      memory = createInvocationMemory();
    }
    const report = await cycle(memory);
    cycles.push({
      at,
      faults,
      fleets: before.map(({ shape, depth, booting }) => {
        const outcome = report.fleets.find((fleet) => fleet.fleet === fleetName(shape));
        return {
          fleet: fleetName(shape),
          queue: shape.queue,
          depth,
          booting,
          desired: desiredOf(stack, scenario, shape),
          outcome: `${outcome?.reason ?? 'none'}: ${outcome?.detail ?? ''}`,
        };
      }),
    });
    const quiet = at >= lastArrival && at >= lastFaultEnd && before.every(({ depth }) => depth === 0);
    const quietSince = quietStart(cycles, lastArrival, lastFaultEnd);
    if (quiet && quietSince !== undefined && at >= quietSince + settle) {
      break;
    }
  }
  return {
    cycles,
    removals: removalsOf(stack, scenario),
    stats: stack.world.stats(),
    drainedBy: (queue, at) => {
      const ends = stack.world
        .jobs()
        .flatMap((job) => (job.queue === queue && job.finishedAt !== undefined ? [job.finishedAt] : []))
        .filter((end) => end <= START + at * 1000);
      return ends.length === 0 ? undefined : (Math.max(...ends) - START) / 1000;
    },
  };
}

/** The first cycle of the current run of cycles with every queue empty, after the last arrival and fault. */
function quietStart(cycles: readonly CycleRecord[], lastArrival: number, lastFaultEnd: number): number | undefined {
  let since: number | undefined;
  for (const record of cycles) {
    const quiet =
      record.at >= lastArrival && record.at >= lastFaultEnd && record.fleets.every((fleet) => fleet.depth === 0);
    since = quiet ? (since ?? record.at) : undefined;
  }
  return since;
}

/** Puts the emulators in the fault state of this cycle; returns the kinds active. */
function applyFaults(
  stack: LocalStack,
  scenario: Scenario,
  active: (kind: FaultKind) => readonly FaultWindow[],
): Set<FaultKind> {
  stack.workerMetrics.emulator.clearFaults();
  if (active('busy-signal').length > 0) {
    stack.workerMetrics.emulator.injectFault({ kind: 'error', status: 503, operation: 'metrics' });
  }
  stack.sourcegraph.emulator.clearFaults();
  stack.sourcegraph.clearGraphQLErrors();
  for (const fault of active('sourcegraph-graphql')) {
    stack.sourcegraph.injectGraphQLError({ field: fault.field });
  }
  if (active('sourcegraph-garbage').length > 0) {
    stack.sourcegraph.emulator.injectFault({ kind: 'garbage' });
  }
  const cloudDown = active('cloud').length > 0;
  if (scenario.cloud === 'aws') {
    for (const shape of scenario.fleets) {
      // Neither code is retried by the SDK (no real-time backoff); fleetplane defers to the next cycle.
      stack.autoScaling.holdScaling(groupName(shape), cloudDown ? Number.MAX_SAFE_INTEGER : 0);
    }
  } else {
    for (const shape of scenario.fleets) {
      // 429 on resize and deleteInstances, which the Compute client does not retry (no real-time backoff).
      stack.compute.holdChanges(LOCAL_GCP_PROJECT, ZONE, groupName(shape), cloudDown ? Number.MAX_SAFE_INTEGER : 0);
    }
  }
  const kinds: FaultKind[] = ['busy-signal', 'sourcegraph-graphql', 'sourcegraph-garbage', 'cloud'];
  return new Set(kinds.filter((kind) => active(kind).length > 0));
}

function depthOf(stack: LocalStack, queue: QueueName): number {
  const { queued, processing, errored } = stack.world.depth(queue);
  return queued + processing + errored;
}

/** Whether an instance of the fleet's group is on its way into service, as the cloud reports it. */
function isBooting(stack: LocalStack, scenario: Scenario, shape: FleetShape): boolean {
  if (scenario.cloud === 'aws') {
    return (stack.autoScaling.group(groupName(shape))?.instances ?? []).some((i) => i.lifecycleState === 'Pending');
  }
  const vms = stack.compute.group(LOCAL_GCP_PROJECT, ZONE, groupName(shape))?.instances() ?? [];
  return vms.some((vm) => vm.currentAction === 'CREATING' || vm.currentAction === 'RECREATING');
}

function desiredOf(stack: LocalStack, scenario: Scenario, shape: FleetShape): number {
  return scenario.cloud === 'aws'
    ? (stack.autoScaling.group(groupName(shape))?.desired ?? Number.NaN)
    : (stack.compute.group(LOCAL_GCP_PROJECT, ZONE, groupName(shape))?.targetSize() ?? Number.NaN);
}

function removalsOf(stack: LocalStack, scenario: Scenario): RemovalRequest[] {
  const fleetOf = (group: string | undefined) =>
    scenario.fleets.find((shape) => groupName(shape) === group)?.queue ?? `unknown group ${group}`;
  if (scenario.cloud === 'aws') {
    return stack.autoScaling.terminationRequests().map((request) => ({
      at: (request.at - START) / 1000,
      fleet: fleetOf(request.group),
      exitedOnly:
        request.instanceIds.length > 0 &&
        request.instanceIds.every((id) => (stack.world.instance(id)?.poweredOffAt ?? Infinity) <= request.at),
    }));
  }
  return stack.compute.deletionRequests().map((request) => ({
    at: (request.at - START) / 1000,
    fleet: fleetOf(request.group),
    exitedOnly:
      request.instances.length > 0 && request.instances.every((instance) => instance.instanceStatus === 'TERMINATED'),
  }));
}
