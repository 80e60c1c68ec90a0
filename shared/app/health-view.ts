import { HEALTH_CLASSES } from '../domain/health.ts';
import { escapeHtml } from '../domain/html-text.ts';
import type { FleetHealth, HealthReport } from './health.ts';

/**
 * The health report as a plain page for a browser: one table of counts per fleet, the broken instances, and the
 * unexplained executors. Every value is escaped (host and executor names come from VMs); no script, no external asset.
 */
export function renderHealthHtml(report: HealthReport): string {
  const at = new Date(report.at).toISOString();
  const sourcegraph = report.sourcegraph.ok
    ? '<p>Sourcegraph: answering.</p>'
    : `<p class="bad">Sourcegraph could not be read (${escapeHtml(report.sourcegraph.error)}): nothing was judged or replaced.</p>`;
  const rows = report.fleets.map(fleetRow).join('\n');
  const broken = report.fleets.flatMap((fleet) =>
    fleet.instances
      .filter(
        (instance) => instance.health === 'orphan' || instance.health === 'stale' || instance.health === 'outdated',
      )
      .map(
        (instance) =>
          `<tr><td>${escapeHtml(fleet.fleet)}</td><td>${escapeHtml(instance.id)}</td><td>${escapeHtml(instance.hostname ?? '')}</td>` +
          `<td>${instance.health}</td><td>${instance.lastSeenAt === undefined ? 'never' : new Date(instance.lastSeenAt).toISOString()}</td></tr>`,
      ),
  );
  const unexplained = report.unexplained.map(
    (executor) =>
      `<tr><td>${escapeHtml(executor.name)}</td><td>${new Date(executor.lastSeenAt).toISOString()}</td></tr>`,
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>fleetplane health</title>',
    '<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}' +
      'td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.bad{color:#a00}</style></head><body>',
    `<h1>Fleet health</h1><p>Judged at ${at}.</p>`,
    sourcegraph,
    `<table><tr><th>Fleet</th><th>Mode</th>${HEALTH_CLASSES.map((health) => `<th>${health}</th>`).join('')}<th>Replaced</th><th>Note</th></tr>`,
    rows,
    '</table>',
    broken.length === 0
      ? '<p>No broken or outdated instances.</p>'
      : `<h2>Broken and outdated instances</h2><table><tr><th>Fleet</th><th>Instance</th><th>Host</th><th>Health</th><th>Last heartbeat</th></tr>${broken.join('')}</table>`,
    unexplained.length === 0
      ? ''
      : `<h2>Executors no instance explains</h2><table><tr><th>Executor</th><th>Last heartbeat</th></tr>${unexplained.join('')}</table>`,
    '</body></html>',
    '',
  ].join('\n');
}

function fleetRow(fleet: FleetHealth): string {
  const counts = HEALTH_CLASSES.map((health) => `<td>${fleet.counts?.[health] ?? '–'}</td>`).join('');
  const note =
    fleet.unknown ??
    fleet.held ??
    (fleet.wouldReplace.length > 0 ? `would replace ${fleet.wouldReplace.join(', ')}` : '');
  return `<tr><td>${escapeHtml(fleet.fleet)}</td><td>${fleet.mode}</td>${counts}<td>${escapeHtml(fleet.replaced.join(', '))}</td><td>${escapeHtml(note)}</td></tr>`;
}
