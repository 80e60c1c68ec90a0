import { planCycle } from '../shared/app/plan.ts';
import type { CycleReport } from '../shared/app/scaling-cycle.ts';
import { createAwsScaleRuntime } from '../shared/aws/deps.ts';
import type { Env } from '../shared/config/index.ts';
import { UsageError } from './errors.ts';

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
  refuseLocalSourcegraphWithRealAws(runtime.config.sourcegraph.endpoint, env);
  const report = await planCycle(runtime.deps, runtime.settings, { publish: options.publish });
  write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report, options.publish));
  return report;
}

/**
 * A config for the local stack names a loopback Sourcegraph, but its AWS endpoints live in the environment. Without
 * them the SDK would describe real groups and, with --publish, write into whatever account the credential chain finds.
 */
function refuseLocalSourcegraphWithRealAws(endpoint: string, env: Env): void {
  const local = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);
  const redirected = Object.keys(env).some((key) => key.startsWith('AWS_ENDPOINT_URL') && env[key]);
  if (local && !redirected) {
    throw new UsageError(
      `the config points at a local Sourcegraph (${endpoint}) but AWS calls would go to real AWS: run plan with ` +
        'the AWS_ENDPOINT_URL_* variables `fleetplane local` printed',
    );
  }
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
