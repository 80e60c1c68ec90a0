import type { WorldStats } from './world/world.ts';

export interface QueueLine {
  readonly queue: string;
  readonly queued: number;
  readonly processing: number;
  readonly errored: number;
}

export interface FleetLine {
  readonly fleet: string;
  readonly group: string;
  /** The group's desired capacity as the cloud reports it. */
  readonly desired: number;
  readonly booting: number;
  readonly inService: number;
  /** The function's last logged decision for this fleet. */
  readonly reason?: string;
  readonly detail?: string;
}

export interface ViewSnapshot {
  readonly elapsedSeconds: number;
  readonly durationSeconds: number;
  readonly queues: readonly QueueLine[];
  readonly fleets: readonly FleetLine[];
  readonly stats: WorldStats;
  /** Recent resizes, newest last. */
  readonly events: readonly string[];
}

const BAR_WIDTH = 40;

/** A text frame of the local run: pure, so it is tested without a terminal. */
export function renderView(view: ViewSnapshot): string {
  const scale = Math.max(1, ...view.queues.map((q) => q.queued + q.processing + q.errored));
  const bar = (count: number, char: string) => char.repeat(Math.round((count / scale) * BAR_WIDTH));
  const lines = [
    `fleetplane local run  ${view.elapsedSeconds.toFixed(0)}s / ${view.durationSeconds}s   (Ctrl-C to stop)`,
    '',
    'queue       depth  queued processing errored',
    ...view.queues.map((q) => {
      const depth = q.queued + q.processing + q.errored;
      return `${q.queue.padEnd(10)} ${String(depth).padStart(6)} ${String(q.queued).padStart(7)} ${String(q.processing).padStart(10)} ${String(q.errored).padStart(7)}  ${bar(q.processing, '█')}${bar(q.queued + q.errored, '░')}`;
    }),
    '',
    'fleet       desired booting in-service  last decision',
    ...view.fleets.map(
      (f) =>
        `${f.fleet.padEnd(10)} ${String(f.desired).padStart(8)} ${String(f.booting).padStart(7)} ${String(f.inService).padStart(10)}  ${f.reason ?? 'waiting for the first cycle'}`,
    ),
    ...view.fleets.filter((f) => f.detail).map((f) => `  ${f.fleet}: ${f.detail}`),
    '',
    `jobs done ${view.stats.jobsCompleted} of ${view.stats.jobsEnqueued}, interrupted ${view.stats.jobsInterrupted}, instances launched ${view.stats.instancesLaunched}, terminated ${view.stats.instancesTerminated}`,
    '',
    ...view.events.slice(-6),
  ];
  return `${lines.join('\n')}\n`;
}
