import { planCycle } from '../shared/app/plan.ts';
import type { CycleReport } from '../shared/app/scaling-cycle.ts';
import { createAwsScaleRuntime } from '../shared/aws/deps.ts';
import type { Env } from '../shared/config/index.ts';

export interface PlanCommandOptions {
  readonly config: string;
  readonly publish: boolean;
  readonly json: boolean;
}

/** `fleetplane plan`: one read-only cycle against the endpoints in the config, printed fleet by fleet. */
export async function runPlanCommand(
  options: PlanCommandOptions,
  env: Env,
  write: (text: string) => void,
): Promise<CycleReport> {
  // The runtime's own logger writes JSON lines; a person running plan wants the table, so only warnings get through.
  const runtime = await createAwsScaleRuntime({
    ...env,
    FLEETPLANE_CONFIG: options.config,
    FLEETPLANE_LOG_LEVEL: env.FLEETPLANE_LOG_LEVEL ?? 'error',
  });
  const report = await planCycle(runtime.deps, runtime.settings, { publish: options.publish });
  write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report, options.publish));
  return report;
}

export function formatPlan(report: CycleReport, published: boolean): string {
  const rows = report.fleets.map((fleet) => [
    fleet.fleet,
    fleet.mode,
    String(fleet.depth ?? '?'),
    String(fleet.current ?? '-'),
    String(fleet.desired ?? '-'),
    fleet.reason,
    fleet.detail,
  ]);
  const header = ['fleet', 'mode', 'depth', 'current', 'desired', 'reason', 'detail'];
  const widths = header.map((title, column) =>
    column === header.length - 1 ? 0 : Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (widths[column] ? cell.padEnd(widths[column] ?? 0) : cell)).join('  ');
  const skipped = report.published.skipped.map((skip) => `series ${skip.series} unknown: ${skip.reason}`);
  const metric = published
    ? `metric written for: ${report.published.series.join(', ') || 'none'}`
    : 'no metric written (use --publish); no group changed';
  return [line(header), ...rows.map(line), '', ...skipped, metric, ''].join('\n');
}
