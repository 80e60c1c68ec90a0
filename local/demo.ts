import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../shared/config/index.ts';
import { isRecord } from '../shared/domain/guards.ts';
import { QUEUE_NAMES } from '../shared/domain/queues.ts';
import { seededRandom } from '../shared/domain/random.ts';
import { isolatedEnv } from './child-env.ts';
import { type LocalStack, startLocalStack } from './stack.ts';
import type { FleetLine } from './view.ts';
import { renderView } from './view.ts';
import { BURST_THEN_LULL, createWorkloadDriver } from './workload.ts';

export interface DemoOptions {
  /** Seconds of real time the run lasts. */
  readonly durationSeconds: number;
  readonly pollIntervalSeconds: number;
  readonly bootDelaySeconds: number;
  readonly scaleInWindowSeconds: number;
  readonly seed: number;
  /** Redraw the view in place (a terminal) instead of printing a line now and then. */
  readonly interactive: boolean;
  readonly write: (text: string) => void;
}

export interface DemoSummary {
  readonly peakQueue: number;
  /** Seconds from the first burst to the first scale-out, per fleet. */
  readonly firstScaleOutSeconds: Readonly<Record<string, number | undefined>>;
  /** Seconds from the first burst until in-service instances reached the fleet's peak desired size. */
  readonly capacityReadySeconds: Readonly<Record<string, number | undefined>>;
  /** Seconds from the first burst to the first scale-in, per fleet. */
  readonly firstScaleInSeconds: Readonly<Record<string, number | undefined>>;
  readonly jobsCompleted: number;
  readonly jobsEnqueued: number;
  readonly jobsInterrupted: number;
  readonly instancesLaunched: number;
  readonly instancesTerminated: number;
  /** Invocations that ended in an error, and fleet decisions that failed (depth or group unavailable). */
  readonly functionErrors: number;
  readonly failedDecisions: number;
  readonly okDecisions: number;
}

/** The run could not do what it is for: the function never ran, or never decided anything. */
export class DemoFailedError extends Error {
  override readonly name = 'DemoFailedError';
}

interface Decision {
  readonly fleet: string;
  readonly status: string;
  readonly reason: string;
  readonly detail: string;
  readonly action: string;
  readonly current?: number;
  readonly desired?: number;
}

const HARNESS = fileURLToPath(new URL('./lambda-harness.ts', import.meta.url));
/**
 * Seconds between invocations. Shorter than Lambda's minute so the stabilization window (read back once per
 * invocation) is re-read often enough that scale-in shows within the run, whatever second of the minute it started.
 */
const TICK_SECONDS = 20;
const INVOCATION_SECONDS = 15;
/** Milliseconds between workload ticks and samples; the view redraws at the same pace. */
const TICK_MS = 500;

/**
 * `npm start`: the local stack, a burst-then-lull workload, and the real scale function in its own process (invoked
 * on a schedule as EventBridge would, every `TICK_SECONDS` to keep the run short, polling every
 * `pollIntervalSeconds`), in `direct` mode. Shows a live view and
 * ends with a summary. Needs no credentials and no network beyond 127.0.0.1.
 */
export async function runLocalDemo(options: DemoOptions): Promise<DemoSummary> {
  const stack = await startLocalStack({ bootDelayMs: options.bootDelaySeconds * 1000 });
  const config = stack.config({
    pollIntervalSeconds: options.pollIntervalSeconds,
    invocationSeconds: Math.max(INVOCATION_SECONDS, options.pollIntervalSeconds),
    scaleInWindowSeconds: options.scaleInWindowSeconds,
  });
  try {
    // The function would refuse a bad config at its cold start, after the run began; refuse it here, at once.
    parseConfigText(JSON.stringify(config), 'npm start options', stack.env());
  } catch (error) {
    await stack.close();
    throw error;
  }
  const startedAt = Date.now();
  const decisions = new Map<string, Decision>();
  const events: string[] = [];
  const samples: { at: number; depth: number; fleets: FleetLine[] }[] = [];
  let functionErrors = 0;
  let failedDecisions = 0;
  let okDecisions = 0;
  let exited: number | null | undefined;
  const workload = createWorkloadDriver(stack.world, BURST_THEN_LULL, {
    startedAt,
    random: seededRandom(options.seed),
  });
  const burstAt = startedAt + Math.min(...BURST_THEN_LULL.map((step) => step.atSeconds)) * 1000;
  const firstScaleOut: Record<string, number | undefined> = {};
  const firstScaleIn: Record<string, number | undefined> = {};

  const child = startFunction(stack, config);
  child.on('exit', (code) => {
    exited = code;
  });
  readLines(child, (line) => {
    const decision = parseDecision(line);
    if (decision === undefined) {
      return;
    }
    if (decision.status === 'failed') {
      failedDecisions += 1;
    } else {
      okDecisions += 1;
    }
    decisions.set(decision.fleet, decision);
    if (decision.action === 'resized') {
      const at = (Date.now() - startedAt) / 1000;
      events.push(
        `${at.toFixed(0).padStart(4)}s  ${decision.fleet}: ${decision.current} → ${decision.desired} (${decision.reason})`,
      );
      const firsts = (decision.desired ?? 0) > (decision.current ?? 0) ? firstScaleOut : firstScaleIn;
      firsts[decision.fleet] ??= Math.max(0, (Date.now() - burstAt) / 1000);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    functionErrors += (String(chunk).match(/"harness":"error"/g) ?? []).length;
  });

  try {
    let lastPrinted = 0;
    while (Date.now() - startedAt < options.durationSeconds * 1000 && exited === undefined) {
      workload.tick(Date.now());
      const sample = snapshot(stack, decisions);
      samples.push({ at: Date.now(), ...sample });
      const view = renderView({
        elapsedSeconds: (Date.now() - startedAt) / 1000,
        durationSeconds: options.durationSeconds,
        queues: sample.queues,
        fleets: sample.fleets,
        stats: stack.world.stats(),
        events,
      });
      if (options.interactive) {
        options.write(`\u001b[H\u001b[2J${view}`);
      } else if (Date.now() - lastPrinted >= 10_000) {
        lastPrinted = Date.now();
        options.write(`${progressLine((Date.now() - startedAt) / 1000, sample)}\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  } finally {
    child.kill('SIGTERM');
    await stack.close();
  }
  if (exited !== undefined) {
    throw new DemoFailedError(`the scale function's process exited early (code ${exited})`);
  }
  if (okDecisions === 0) {
    throw new DemoFailedError(
      `the scale function made no successful decision in ${options.durationSeconds} s ` +
        `(${failedDecisions} failed, ${functionErrors} failed invocations); see its log lines above`,
    );
  }
  const stats = stack.world.stats();
  return {
    peakQueue: Math.max(0, ...samples.map((sample) => sample.depth)),
    firstScaleOutSeconds: firstScaleOut,
    capacityReadySeconds: capacityReady(samples, burstAt),
    firstScaleInSeconds: firstScaleIn,
    jobsCompleted: stats.jobsCompleted,
    jobsEnqueued: stats.jobsEnqueued,
    jobsInterrupted: stats.jobsInterrupted,
    instancesLaunched: stats.instancesLaunched,
    instancesTerminated: stats.instancesTerminated,
    functionErrors,
    failedDecisions,
    okDecisions,
  };
}

function startFunction(stack: LocalStack, config: object): ChildProcess {
  const tick = String(TICK_SECONDS);
  return spawn(process.execPath, [HARNESS, '--tick-seconds', tick, '--timeout-seconds', tick], {
    env: isolatedEnv({ ...stack.env(), FLEETPLANE_CONFIG: JSON.stringify(config) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function readLines(child: ChildProcess, onLine: (line: string) => void): void {
  // Powertools writes warnings and errors (a failed decision among them) to stderr.
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) {
      createInterface({ input: stream }).on('line', onLine);
    }
  }
}

/** The function's one structured line per fleet per cycle. */
function parseDecision(line: string): Decision | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.message !== 'fleet decision' || typeof parsed.fleet !== 'string') {
    return undefined;
  }
  const text = (key: string) => (typeof parsed[key] === 'string' ? parsed[key] : '');
  const count = (key: string) => (typeof parsed[key] === 'number' ? parsed[key] : undefined);
  return {
    fleet: parsed.fleet,
    status: text('status'),
    reason: text('reason'),
    detail: text('detail'),
    action: text('action'),
    current: count('current'),
    desired: count('desired'),
  };
}

function snapshot(stack: LocalStack, decisions: ReadonlyMap<string, Decision>) {
  const queues = QUEUE_NAMES.map((queue) => ({ queue, ...stack.world.depth(queue) }));
  const fleets = stack.fleets.map((fleet): FleetLine => {
    const group = stack.autoScaling.group(fleet.group);
    const instances = group?.instances ?? [];
    const decision = decisions.get(fleet.fleet);
    return {
      fleet: fleet.fleet,
      group: fleet.group,
      desired: group?.desired ?? 0,
      booting: instances.filter((instance) => instance.lifecycleState.startsWith('Pending')).length,
      inService: instances.filter((instance) => instance.lifecycleState === 'InService').length,
      ...(decision ? { reason: decision.reason, detail: decision.detail } : {}),
    };
  });
  const depth = queues.reduce((sum, q) => sum + q.queued + q.processing + q.errored, 0);
  return { queues, fleets, depth };
}

function capacityReady(
  samples: readonly { at: number; fleets: readonly FleetLine[] }[],
  burstAt: number,
): Record<string, number | undefined> {
  const ready: Record<string, number | undefined> = {};
  const fleetNames = new Set(samples.flatMap((sample) => sample.fleets.map((fleet) => fleet.fleet)));
  for (const name of fleetNames) {
    const peakDesired = Math.max(0, ...samples.map((s) => s.fleets.find((f) => f.fleet === name)?.desired ?? 0));
    const first = samples.find((s) => {
      const fleet = s.fleets.find((f) => f.fleet === name);
      return peakDesired > 0 && fleet !== undefined && fleet.inService >= peakDesired;
    });
    ready[name] = first === undefined ? undefined : Math.max(0, (first.at - burstAt) / 1000);
  }
  return ready;
}

function progressLine(elapsed: number, sample: ReturnType<typeof snapshot>): string {
  const queues = sample.queues.map((q) => `${q.queue} ${q.queued + q.processing + q.errored}`).join(', ');
  const fleets = sample.fleets
    .map((f) => `${f.fleet} desired ${f.desired} in-service ${f.inService}${f.reason ? ` (${f.reason})` : ''}`)
    .join('; ');
  return `${elapsed.toFixed(0).padStart(4)}s  queue: ${queues}  |  ${fleets}`;
}

export function formatSummary(summary: DemoSummary): string {
  const seconds = (value: number | undefined) => (value === undefined ? 'never' : `${value.toFixed(1)} s`);
  const perFleet = (values: Readonly<Record<string, number | undefined>>) =>
    Object.entries(values)
      .map(([fleet, value]) => `${fleet} ${seconds(value)}`)
      .join(', ') || 'none';
  return [
    '',
    'summary',
    `  peak queue depth          ${summary.peakQueue}`,
    `  first scale-out after     ${perFleet(summary.firstScaleOutSeconds)}`,
    `  capacity in service after ${perFleet(summary.capacityReadySeconds)}`,
    `  first scale-in after      ${perFleet(summary.firstScaleInSeconds)}`,
    `  jobs done                 ${summary.jobsCompleted} of ${summary.jobsEnqueued} (interrupted by scale-in: ${summary.jobsInterrupted})`,
    `  instances                 ${summary.instancesLaunched} launched, ${summary.instancesTerminated} terminated`,
    `  decisions                 ${summary.okDecisions} made, ${summary.failedDecisions} failed (no data or API)`,
    `  failed invocations        ${summary.functionErrors}`,
    '',
  ].join('\n');
}
