import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../../shared/app/health.ts';
import { renderHealthHtml } from '../../../shared/app/health-view.ts';

const AT = Date.UTC(2026, 10, 28, 12, 0, 0);

const REPORT: HealthReport = {
  at: AT,
  sourcegraph: { ok: true },
  fleets: [
    {
      fleet: 'codeintel',
      group: 'aws:us-east-1:codeintel',
      mode: 'direct',
      counts: { booting: 1, healthy: 7, orphan: 1, stale: 1, outdated: 0 },
      instances: [
        { id: 'i-1', hostname: 'ip-10-0-0-1', health: 'orphan', launchedAt: AT - 3_600_000 },
        { id: 'i-2', hostname: '<img src=x onerror=alert(1)>', health: 'stale', lastSeenAt: AT - 600_000 },
      ],
      replaced: ['i-1'],
      wouldReplace: [],
      refused: [],
    },
  ],
  unexplained: [{ name: '"><script>alert(2)</script>-0f8e3c52', lastSeenAt: AT }],
};

describe('renderHealthHtml', () => {
  it('shows each fleet’s counts, the broken instances and the unexplained executors', () => {
    // Act
    const html = renderHealthHtml(REPORT);

    // Assess
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<td>codeintel</td><td>direct</td><td>1</td><td>7</td><td>1</td><td>1</td><td>0</td>');
    expect(html).toContain('<td>i-1</td><td>ip-10-0-0-1</td><td>orphan</td><td>never</td>');
    expect(html).toContain('Executors no instance explains');
  });

  it('escapes every name that comes from a VM, so none can run script in the page', () => {
    // Act
    const html = renderHealthHtml(REPORT);

    // Assess
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('says nothing was judged when Sourcegraph could not be read', () => {
    // Act
    const html = renderHealthHtml({
      ...REPORT,
      sourcegraph: { ok: false, error: 'HTTP 502' },
      fleets: [],
      unexplained: [],
    });

    // Assess
    expect(html).toContain('Sourcegraph could not be read (HTTP 502): nothing was judged or replaced.');
  });
});
