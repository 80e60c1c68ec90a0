/**
 * P3, cycle cost: one scaling cycle of the built AWS function for 100 direct-mode fleets against the local stack, with
 * every emulator answering 50 ms late. Counts the requests each service received and times the cycle as a multiple
 * of one plain round trip to an emulator with the same injected latency.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { isolatedEnv } from '../local/child-env.ts';
import { type Emulator, startEmulator } from '../local/http/emulator.ts';
import { type LocalFleet, type LocalStack, startLocalStack } from '../local/stack.ts';
import type { QueueName } from '../shared/domain/queues.ts';
import { buildBundles } from './bundles.ts';
import { type BenchFigure, type BenchSuite, formatNumber, median } from './figures.ts';

/** Milliseconds every emulator waits before answering: a same-region AWS API call, roughly. */
export const INJECTED_LATENCY_MS = 50;
export const FLEET_COUNT = 100;
/** The issue's budget for one cycle, in round trips: depth (≤ 2 requests), describe, act. */
const MAX_ROUND_TRIPS = 4;
/** DescribeAutoScalingGroups and PutMetricData page sizes the targets are stated in. */
const GROUPS_PER_DESCRIBE = 100;
const DATUMS_PER_PUT = 1000;
/** Warm cycles (and as many without latency) whose median is reported: one cycle's timing varies by tens of ms. */
const WARM_CYCLES = 5;
/** Milliseconds a probe may take for any one step; a cycle takes well under one second here. */
const PROBE_STEP_TIMEOUT_MS = 30_000;
/** No executor boots during the benchmark, so the queues (and with them every decision) stay as seeded. */
const BOOT_DELAY_MS = 60 * 60_000;
const PROBE = fileURLToPath(new URL('./cycle-probe.cjs', import.meta.url));

/**
 * The workload: 400 codeintel jobs, and 120 batch specs with one queued workspace each (more specs than the first page
 * of 100, so the depth read takes its second Sourcegraph request, as on any instance with a history of batch changes).
 */
const CODEINTEL_JOBS = 400;
const BATCH_SPECS = 120;

type FleetKind = 'scale-out' | 'at-target' | 'scale-in-candidate';

export interface BenchFleet {
  readonly kind: FleetKind;
  readonly local: LocalFleet;
  /** Desired capacity before the cycle, all of it `InService` (nothing booting, so scale-in is not held for boots). */
  readonly desired: number;
}

/**
 * 100 fleets of three kinds, so the cycle does each kind of work: 40 below what the queue needs (they scale out: one
 * SetDesiredCapacity each), 30 already at their maximum, and 30 above what the queue needs (scale-in candidates, which
 * read the stabilization window back from CloudWatch and hold, since no history covers it).
 */
export function benchFleets(): BenchFleet[] {
  const fleet = (index: number, kind: FleetKind, queues: readonly QueueName[], jobsPerInstance: number) => {
    const id = String(index).padStart(3, '0');
    const desired = kind === 'scale-out' ? 1 : 10;
    const local: LocalFleet = {
      fleet: `fleet-${id}`,
      group: `bench-executors-${id}`,
      queues,
      min: 0,
      max: 10,
      // The stack starts groups empty; `resetGroups` gives them their instances.
      desired: 0,
      jobsPerInstance,
      mode: 'direct',
    };
    return { kind, local, desired };
  };
  return Array.from({ length: FLEET_COUNT }, (_, index) => {
    if (index < 40) {
      // Half single-queue, half multi-queue: both series shapes are published and decided on.
      return fleet(index, 'scale-out', index % 2 === 0 ? ['codeintel'] : ['batches', 'codeintel'], 4);
    }
    if (index < 70) {
      return fleet(index, 'at-target', ['codeintel'], 4);
    }
    // 120 batch jobs at 16 per instance need 8 instances; these groups have 10.
    return fleet(index, 'scale-in-candidate', ['batches'], 16);
  });
}

/**
 * Puts every group back to its starting size, with `InService` instances; replacing a group drops its launches. The
 * instances are already protected from the group's own scale-in, as the default (busy-aware) scale-in leaves every
 * instance after the first cycle that sees it: a steady-state cycle protects only what launched since.
 */
function resetGroups(stack: LocalStack, fleets: readonly BenchFleet[]): void {
  for (const [index, fleet] of fleets.entries()) {
    stack.autoScaling.addGroup({
      name: fleet.local.group,
      min: fleet.local.min,
      max: fleet.local.max,
      desired: fleet.desired,
      queues: fleet.local.queues,
      instances: Array.from({ length: fleet.desired }, (_, n) => ({
        id: `i-0bench${String(index).padStart(3, '0')}${String(n).padStart(4, '0')}`,
        state: 'InService',
        protectedFromScaleIn: true,
      })),
    });
  }
}

function stackEmulators(stack: LocalStack): ReadonlyMap<string, Emulator> {
  return new Map([
    ['sourcegraph', stack.sourcegraph.emulator],
    ['auto-scaling', stack.autoScaling.emulator],
    ['cloudwatch', stack.cloudWatch.emulator],
    ['secrets-manager', stack.secretsManager.emulator],
    ['cloud-monitoring', stack.monitoring.emulator],
    ['compute', stack.compute.emulator],
    ['secret-manager', stack.secretManager.emulator],
  ]);
}

function injectLatency(emulators: ReadonlyMap<string, Emulator>): void {
  for (const emulator of emulators.values()) {
    emulator.injectFault({ kind: 'latency', latencyMs: INJECTED_LATENCY_MS });
  }
}

/** A bare emulator with the same injected latency: what one round trip costs, with no service work in it. */
function startBaselineEmulator(): Promise<Emulator> {
  return startEmulator({
    name: 'baseline',
    handle: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }),
    faults: { serverError: (status) => ({ status }), throttled: () => ({ status: 429 }) },
  });
}

const fleetOutcome = z.object({ fleet: z.string(), status: z.string(), action: z.string(), reason: z.string() });
const invocationSummary = z.object({ published: z.array(z.string()), fleets: z.array(fleetOutcome) });
const probeMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), importMs: z.number() }),
  z.object({
    type: z.literal('cycle'),
    wallMs: z.number(),
    cpuMs: z.number(),
    maxRssKiB: z.number(),
    result: invocationSummary.optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('finished'), maxRssKiB: z.number(), roundTripsMs: z.array(z.number()) }),
  z.object({ type: z.literal('crashed'), message: z.string() }),
]);
type ProbeMessage = z.output<typeof probeMessage>;
type ProbeMessageOf<T extends ProbeMessage['type']> = Extract<ProbeMessage, { readonly type: T }>;

function isMessageOf<T extends ProbeMessage['type']>(message: ProbeMessage, type: T): message is ProbeMessageOf<T> {
  return message.type === type;
}

/** `service` → `operation` → requests, plus the requests that did not succeed (retries show up as extra requests). */
export interface RequestCounts {
  readonly byService: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly unsuccessful: number;
}

export function countOf(counts: RequestCounts, service: string, operation?: string): number {
  const operations = counts.byService.get(service);
  if (operations === undefined) {
    return 0;
  }
  if (operation !== undefined) {
    return operations.get(operation) ?? 0;
  }
  return [...operations.values()].reduce((sum, count) => sum + count, 0);
}

function countRequests(emulators: ReadonlyMap<string, Emulator>): RequestCounts {
  let unsuccessful = 0;
  const byService = new Map<string, Map<string, number>>();
  for (const [service, emulator] of emulators) {
    const operations = new Map<string, number>();
    for (const request of emulator.requests) {
      const operation = request.operation ?? `${request.method} ${request.path}`;
      operations.set(operation, (operations.get(operation) ?? 0) + 1);
      if (request.status < 200 || request.status >= 300) {
        unsuccessful += 1;
      }
    }
    if (operations.size > 0) {
      byService.set(service, operations);
    }
  }
  return { byService, unsuccessful };
}

function answerTimes(emulators: ReadonlyMap<string, Emulator>): Map<string, number[]> {
  const times = new Map<string, number[]>();
  for (const [service, emulator] of emulators) {
    for (const request of emulator.requests) {
      const key = `${service}:${request.operation ?? request.path}`;
      times.set(key, [...(times.get(key) ?? []), request.at]);
    }
  }
  return times;
}

export interface CycleMeasurement {
  readonly wallMs: number;
  /** CPU time (user + system) of the function's process during the cycle. */
  readonly cpuMs: number;
  /** Peak RSS of the function's process from its start to the end of this cycle, KiB. */
  readonly maxRssKiB: number;
  readonly requests: RequestCounts;
  /** Most SetDesiredCapacity calls in flight at once, from the emulator's log (see `peakOverlap`). */
  readonly resizesInFlight: number;
  /** Epoch ms each operation was answered, e.g. `auto-scaling:SetDesiredCapacity` → [...]. */
  readonly answeredAt: ReadonlyMap<string, readonly number[]>;
  readonly published: readonly string[];
  readonly fleets: readonly z.output<typeof fleetOutcome>[];
}

export interface FleetCycleRun {
  /** Milliseconds, median of the probe's plain round trips to the baseline emulator. */
  readonly roundTripMs: number;
  /** The first invocation of a fresh process: SDK clients make their first requests. */
  readonly cold: CycleMeasurement;
  /** Later invocations in the same process, each from the same starting state. */
  readonly warm: readonly CycleMeasurement[];
  /** As many warm ones with no latency injected, alternating with them: the cycle's own CPU and loopback cost. */
  readonly unloaded: readonly CycleMeasurement[];
  /** Peak RSS of the function's process over all its cycles, KiB (`process.resourceUsage().maxRSS`). */
  readonly maxRssKiB: number;
}

/** Reads the probe's fd-3 reports one at a time, failing with the probe's output when it dies or stalls. */
function probeReader(child: ChildProcess, output: () => string) {
  const channel = child.stdio[3];
  if (!(channel instanceof Readable)) {
    throw new Error('the cycle probe has no report channel on fd 3');
  }
  const lines = createInterface({ input: channel })[Symbol.asyncIterator]();
  return async <T extends ProbeMessage['type']>(type: T): Promise<ProbeMessageOf<T>> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the cycle probe sent no ${type} report within ${PROBE_STEP_TIMEOUT_MS} ms`)),
        PROBE_STEP_TIMEOUT_MS,
      );
    });
    try {
      const next = await Promise.race([lines.next(), timeout]);
      if (next.done === true) {
        throw new Error(`the cycle probe exited before its ${type} report:\n${output()}`);
      }
      const message = probeMessage.parse(JSON.parse(next.value));
      if (message.type === 'crashed') {
        throw new Error(`the cycle probe crashed: ${message.message}`);
      }
      if (!isMessageOf(message, type)) {
        throw new Error(`the cycle probe sent a ${message.type} report where a ${type} report was due`);
      }
      return message;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Runs the built AWS bundle in its own process against a fresh local stack of `FLEET_COUNT` groups with
 * `INJECTED_LATENCY_MS` on every emulator: a cold cycle, then `WARM_CYCLES` warm ones alternating with as many with
 * the latency removed, all from the same starting state; then its peak RSS and the baseline round trip, measured
 * from that same process.
 */
export async function runFleetCycle(bundle: string): Promise<FleetCycleRun> {
  const fleets = benchFleets();
  const stack = await startLocalStack({ fleets: fleets.map((fleet) => fleet.local), bootDelayMs: BOOT_DELAY_MS });
  let baseline: Emulator | undefined;
  let child: ChildProcess | undefined;
  try {
    stack.world.enqueue('codeintel', CODEINTEL_JOBS);
    for (let spec = 0; spec < BATCH_SPECS; spec++) {
      stack.world.enqueue('batches', 1, { batchSpec: `bench-spec-${spec}` });
    }
    resetGroups(stack, fleets);
    const emulators = stackEmulators(stack);
    injectLatency(emulators);
    baseline = await startBaselineEmulator();
    baseline.injectFault({ kind: 'latency', latencyMs: INJECTED_LATENCY_MS });

    const env = isolatedEnv({ ...stack.env(), FLEETPLANE_CONFIG: JSON.stringify(stack.config()) });
    const spawned = spawn(process.execPath, [PROBE, bundle, `${baseline.url}/`], {
      env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    child = spawned;
    let output = '';
    // Drained as it comes, or 100 fleets' decision logs would fill the pipe and stall the function.
    spawned.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    spawned.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const next = probeReader(spawned, () => output.slice(-4_000));
    const command = (line: string) => spawned.stdin?.write(`${line}\n`);

    await next('ready');
    const cycle = async (): Promise<CycleMeasurement> => {
      resetGroups(stack, fleets);
      for (const emulator of emulators.values()) {
        emulator.clearRequests();
      }
      command('cycle');
      const report = await next('cycle');
      if (report.result === undefined) {
        throw new Error(`the cycle failed: ${report.error ?? 'no result'}`);
      }
      const failed = report.result.fleets.filter((fleet) => fleet.status === 'failed');
      if (failed.length > 0) {
        // A failed fleet does less work than the benchmark means to measure: the figures would flatter the cycle.
        throw new Error(`${failed.length} fleets failed, e.g. ${JSON.stringify(failed[0])}`);
      }
      const answeredAt = answerTimes(emulators);
      return {
        wallMs: report.wallMs,
        cpuMs: report.cpuMs,
        maxRssKiB: report.maxRssKiB,
        requests: countRequests(emulators),
        resizesInFlight: peakOverlap(answeredAt.get('auto-scaling:SetDesiredCapacity') ?? [], INJECTED_LATENCY_MS),
        answeredAt,
        published: report.result.published,
        fleets: report.result.fleets,
      };
    };
    const cold = await cycle();
    const warm: CycleMeasurement[] = [];
    const unloaded: CycleMeasurement[] = [];
    for (let round = 0; round < WARM_CYCLES; round++) {
      warm.push(await cycle());
      for (const emulator of emulators.values()) {
        emulator.clearFaults();
      }
      unloaded.push(await cycle());
      injectLatency(emulators);
    }
    command('finish');
    const finished = await next('finished');
    return { roundTripMs: median(finished.roundTripsMs), cold, warm, unloaded, maxRssKiB: finished.maxRssKiB };
  } finally {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
    }
    await baseline?.close();
    await stack.close();
  }
}

/**
 * The most intervals `[end - durationMs, end)` that overlap at any instant. The emulator logs when it answered; with
 * latency injected every request was open at least that long before, so this is how many calls the client had in
 * flight at once (a lower bound).
 */
export function peakOverlap(ends: readonly number[], durationMs: number): number {
  // An end sorts before a start at the same instant: back-to-back calls are not concurrent.
  const events = ends.flatMap((end) => [
    { at: end - durationMs, delta: 1 },
    { at: end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const event of events) {
    open += event.delta;
    peak = Math.max(peak, open);
  }
  return peak;
}

/** "resized 40, none 60 (at-target 30, window-unknown 30)": what the fleets did, for the notes. */
export function describeOutcomes(fleets: CycleMeasurement['fleets']): string {
  const tally = (key: (fleet: (typeof fleets)[number]) => string) => {
    const counts = new Map<string, number>();
    for (const fleet of fleets) {
      counts.set(key(fleet), (counts.get(key(fleet)) ?? 0) + 1);
    }
    return [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
  };
  return `actions: ${tally((fleet) => fleet.action)}; reasons: ${tally((fleet) => fleet.reason)}`;
}

/** Where the stabilization-window read fell relative to the resizes: it is independent of them. */
function windowReadNote(cycle: CycleMeasurement): string {
  const [read] = cycle.answeredAt.get('cloudwatch:GetMetricData') ?? [];
  const resizes = cycle.answeredAt.get('auto-scaling:SetDesiredCapacity') ?? [];
  if (read === undefined || resizes.length === 0) {
    return 'no window read alongside resizes';
  }
  const after = resizes.filter((at) => at < read).length;
  return `the window read was answered after ${after} of the ${resizes.length} resizes`;
}

function operationsNote(counts: RequestCounts, service: string): string {
  const operations = counts.byService.get(service);
  return operations === undefined
    ? 'none'
    : [...operations].map(([operation, count]) => `${operation} ×${count}`).join(', ');
}

export function cycleCostFigures(run: FleetCycleRun): BenchFigure[] {
  const { cold, roundTripMs } = run;
  const [warm] = run.warm;
  if (warm === undefined || run.unloaded.length === 0) {
    throw new Error('the cycle benchmark ran no warm cycles');
  }
  const requests = cold.requests;
  const resized = cold.fleets.filter((fleet) => fleet.action === 'resized').length;
  const warmWallMs = median(run.warm.map((cycle) => cycle.wallMs));
  const unloadedWallMs = median(run.unloaded.map((cycle) => cycle.wallMs));
  const warmRuns = `median of ${run.warm.length}`;
  const roundTrip = {
    label: `plain round trip, ${INJECTED_LATENCY_MS} ms injected (median of the probe's 5)`,
    value: roundTripMs,
    unit: 'ms',
  };
  const counted = new Set([
    'auto-scaling:DescribeAutoScalingGroups',
    'auto-scaling:DescribePolicies',
    'auto-scaling:SetDesiredCapacity',
    'cloudwatch:PutMetricData',
    'cloudwatch:GetMetricData',
  ]);
  const other = [...requests.byService].flatMap(([service, operations]) =>
    service === 'sourcegraph' ? [] : [...operations].filter(([operation]) => !counted.has(`${service}:${operation}`)),
  );
  const otherCount = other.reduce((total, [, count]) => total + count, 0);
  const chain =
    `dependent steps: the depth read (${countOf(requests, 'sourcegraph')} requests, one after the other) with the ` +
    'describe beside it, then the resizes with the window read beside them';
  return [
    {
      id: 'P3.sourcegraph-requests',
      benchmark: 'P3',
      label: 'Sourcegraph requests per cycle',
      value: countOf(requests, 'sourcegraph'),
      unit: 'requests',
      target: { op: '<=', value: 2 },
      note: `${operationsNote(requests, 'sourcegraph')} (${BATCH_SPECS} batch specs: more than one page of 100)`,
    },
    {
      id: 'P3.put-metric-data-calls',
      benchmark: 'P3',
      label: 'CloudWatch PutMetricData calls per cycle',
      value: countOf(requests, 'cloudwatch', 'PutMetricData'),
      unit: 'calls',
      target: { op: '<=', value: Math.ceil(cold.published.length / DATUMS_PER_PUT) },
      note: `${cold.published.length} series published (${cold.published.join(', ')}); target ⌈series/1000⌉`,
    },
    {
      id: 'P3.describe-groups-calls',
      benchmark: 'P3',
      label: `DescribeAutoScalingGroups calls for ${FLEET_COUNT} groups`,
      value: countOf(requests, 'auto-scaling', 'DescribeAutoScalingGroups'),
      unit: 'calls',
      target: { op: '<=', value: Math.ceil(FLEET_COUNT / GROUPS_PER_DESCRIBE) },
      note: 'the adapter asks for 100 names and MaxRecords 100 (the API maximum) per request, following NextToken',
    },
    {
      id: 'P3.set-desired-capacity-calls',
      benchmark: 'P3',
      label: 'SetDesiredCapacity calls per cycle',
      value: countOf(requests, 'auto-scaling', 'SetDesiredCapacity'),
      unit: 'calls',
      note: `one per resized fleet; ${describeOutcomes(cold.fleets)}`,
    },
    {
      id: 'P3.describe-policies-calls',
      benchmark: 'P3',
      label: 'DescribePolicies calls per cycle (first invocation)',
      value: countOf(requests, 'auto-scaling', 'DescribePolicies'),
      unit: 'calls',
      note:
        `warm cycles: ${countOf(warm.requests, 'auto-scaling', 'DescribePolicies')}; ` +
        'policies are read once per region and cached for 5 minutes',
    },
    {
      id: 'P3.get-metric-data-calls',
      benchmark: 'P3',
      label: 'CloudWatch GetMetricData calls per cycle',
      value: countOf(requests, 'cloudwatch', 'GetMetricData'),
      unit: 'calls',
      note: 'the stabilization window, read once for all scale-in candidates',
    },
    {
      id: 'P3.other-requests',
      benchmark: 'P3',
      label: 'other requests per cycle (any service)',
      value: otherCount,
      unit: 'requests',
      note:
        `${other.length === 0 ? 'none' : other.map(([operation, count]) => `${operation} ×${count}`).join(', ')}; ` +
        `unsuccessful responses (retried or failed): ${requests.unsuccessful}`,
    },
    {
      id: 'P3.cycle-wall-time',
      benchmark: 'P3',
      label: `cycle wall time, ${FLEET_COUNT} fleets (first invocation of the process)`,
      value: cold.wallMs,
      unit: 'ms',
      baseline: roundTrip,
      note:
        `${resized} of ${FLEET_COUNT} fleets resized; the first invocation also finishes the cold start its import ` +
        'began (config, SDK clients) and pays the first-request costs of the SDK and of fetch',
    },
    {
      id: 'P3.cycle-wall-ratio',
      benchmark: 'P3',
      label: 'cycle wall time in round trips (first invocation)',
      value: cold.wallMs / roundTripMs,
      unit: '× RTT',
      target: { op: '<=', value: MAX_ROUND_TRIPS },
      baseline: roundTrip,
      note: `${formatNumber(cold.wallMs)} ms ÷ ${formatNumber(roundTripMs)} ms; ${chain}`,
    },
    {
      id: 'P3.warm-cycle-wall-ratio',
      benchmark: 'P3',
      label: 'cycle wall time in round trips (warm invocations)',
      value: warmWallMs / roundTripMs,
      unit: '× RTT',
      target: { op: '<=', value: MAX_ROUND_TRIPS },
      baseline: roundTrip,
      note: `${formatNumber(warmWallMs)} ms (${warmRuns}) ÷ ${formatNumber(roundTripMs)} ms; same starting state`,
    },
    {
      id: 'P3.unloaded-cycle-wall-time',
      benchmark: 'P3',
      label: 'warm cycle wall time with no latency injected',
      value: unloadedWallMs,
      unit: 'ms',
      note: `${warmRuns}; CPU and loopback cost of the function and the emulators together (they share the machine)`,
    },
    {
      id: 'P3.latency-waits',
      benchmark: 'P3',
      label: `sequential ${INJECTED_LATENCY_MS} ms waits in a warm cycle (estimate)`,
      value: (warmWallMs - unloadedWallMs) / INJECTED_LATENCY_MS,
      unit: 'waits',
      note:
        `(warm − unloaded) ÷ ${INJECTED_LATENCY_MS} ms; ${chain}; ` +
        `${countOf(warm.requests, 'auto-scaling', 'SetDesiredCapacity')} resizes ran at most ` +
        `${warm.resizesInFlight} at a time; ${windowReadNote(warm)}`,
    },
    {
      id: 'P3.cycle-cpu-time',
      benchmark: 'P3',
      label: "function's CPU time per cycle (warm)",
      value: median(run.warm.map((cycle) => cycle.cpuMs)),
      unit: 'ms',
      note:
        `user + system time of the function's process alone, ${warmRuns}; first invocation ` +
        `${formatNumber(cold.cpuMs)} ms; warm without latency ${formatNumber(median(run.unloaded.map((cycle) => cycle.cpuMs)))} ms`,
    },
  ];
}

export const cycleCostSuite: BenchSuite = {
  name: 'P3',
  async run() {
    const bundles = await buildBundles();
    try {
      return cycleCostFigures(await runFleetCycle(bundles.aws));
    } finally {
      await bundles.remove();
    }
  },
};
