import type { Clock } from '../../shared/ports/clock.ts';
import {
  type Emulator,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultRenderer,
  startEmulator,
} from '../http/emulator.ts';
import type { World } from '../world/world.ts';
import { plainText } from './auth.ts';

export const WORKER_METRICS_PATH = '/metrics';
/** What client_golang's `promhttp` answers to `Accept: text/plain;version=0.0.4`. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores';
const EXECUTORS_JOB = 'sourcegraph-executors';

/** What one executor pushes in its heartbeat, reduced to the series the control plane and a dashboard read. */
export interface ExecutorMetrics {
  /** `<hostname>-<uuid>`: the frontend labels every series with it as `sg_instance`. */
  readonly name: string;
  /** Active job handlers (running jobs) per queue: `src_executor_processor_handlers`. */
  readonly handlers: ReadonlyMap<string, number>;
  /** Jobs handled to the end per queue: `src_executor_processor_total{op="Handle"}`. */
  readonly processed: ReadonlyMap<string, number>;
}

export interface WorkerMetricsEmulatorOptions {
  readonly world: World;
  /** For the request log; default the world's clock. */
  readonly clock?: Clock;
  readonly port?: number;
}

export interface WorkerMetricsEmulator {
  readonly emulator: Emulator;
  /** The metrics URL, `http://127.0.0.1:<port>/metrics`: what `busySignal.url` points at. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Sourcegraph's worker job `executors-metricsserver` (port 6996) over the simulated world: `GET /metrics` serves, in
 * Prometheus text format 0.0.4, the series of every executor whose instance is running, labelled as the frontend
 * labels what executors push. The real store forgets an executor 30 s after its last heartbeat; here it is gone as
 * soon as its instance stops or Sourcegraph refuses its token.
 */
export async function startWorkerMetricsEmulator(
  options: WorkerMetricsEmulatorOptions,
): Promise<WorkerMetricsEmulator> {
  const { world } = options;
  const handle = (request: EmulatorRequest): EmulatorResponse => {
    if (request.path !== WORKER_METRICS_PATH) {
      return plainText(404, '404 page not found');
    }
    if (request.method !== 'GET') {
      return plainText(405, 'Method Not Allowed');
    }
    // Answers reflect simulated time: replay boots, job starts and ends up to the clock's now.
    world.advance();
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPE },
      body: renderWorkerMetrics(executorMetricsOf(world)),
    };
  };
  const emulator = await startEmulator({
    name: 'worker-metrics',
    handle,
    operationOf: (request) => (request.path === WORKER_METRICS_PATH ? 'metrics' : undefined),
    faults: workerMetricsFaults,
    clock: options.clock ?? world.clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return { emulator, url: `${emulator.url}${WORKER_METRICS_PATH}`, close: () => emulator.close() };
}

/**
 * The running executors' series: running jobs from each executor's job set, finished jobs from the job list. An
 * executor whose token Sourcegraph refuses pushes nothing (its metrics ride on the heartbeats that fail), so it is left
 * out like one whose instance stopped.
 */
export function executorMetricsOf(world: World): ExecutorMetrics[] {
  const jobs = world.jobs();
  const queueOf = new Map(jobs.map((job) => [job.id, job.queue]));
  return world
    .instances()
    .flatMap((instance) =>
      instance.state === 'running' && instance.executor !== undefined && instance.executor.rejectedSince === undefined
        ? [instance.executor]
        : [],
    )
    .map((executor) => {
      const handlers = new Map<string, number>(executor.queues.map((queue) => [queue, 0]));
      const processed = new Map<string, number>(executor.queues.map((queue) => [queue, 0]));
      for (const id of executor.running) {
        const queue = queueOf.get(id);
        if (queue !== undefined) {
          handlers.set(queue, (handlers.get(queue) ?? 0) + 1);
        }
      }
      for (const job of jobs) {
        if (job.executor === executor.name && job.state === 'completed') {
          processed.set(job.queue, (processed.get(job.queue) ?? 0) + 1);
        }
      }
      return { name: executor.name, handlers, processed };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One block per executor, each with its own HELP and TYPE lines: the worker concatenates the blobs executors pushed
 * without merging families, so a family repeats once per executor. Labels are sorted by name, as Go's encoder writes
 * them.
 */
export function renderWorkerMetrics(executors: readonly ExecutorMetrics[]): string {
  const lines: string[] = [];
  for (const executor of executors) {
    const instance = `sg_instance="${escapeLabel(executor.name)}",sg_job="${EXECUTORS_JOB}"`;
    lines.push(
      '# HELP src_executor_processor_handlers The number of active handlers.',
      '# TYPE src_executor_processor_handlers gauge',
    );
    for (const [queue, running] of executor.handlers) {
      lines.push(`src_executor_processor_handlers{queue="${escapeLabel(queue)}",${instance}} ${running}`);
    }
    lines.push(
      '# HELP src_executor_processor_total Total number of method invocations.',
      '# TYPE src_executor_processor_total counter',
    );
    for (const [queue, count] of executor.processed) {
      lines.push(`src_executor_processor_total{op="Handle",queue="${escapeLabel(queue)}",${instance}} ${count}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Errors as `promhttp` writes them (plain text); throttling can only come from a proxy in front. */
export const workerMetricsFaults: FaultRenderer = {
  serverError: (status) =>
    plainText(status, `An error has occurred while serving metrics:\n\nemulated fault (HTTP ${status})`),
  throttled: () => plainText(429, 'Too Many Requests'),
};

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
