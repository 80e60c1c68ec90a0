import { Document, isScalar, visit } from 'yaml';
import type { ScrapeConfig } from './executor-scrape.ts';

/**
 * A Prometheus config document holding only `scrape_configs`, ready to merge into an existing `prometheus.yml` (or to
 * load on its own). No anchors or aliases, so the output diffs and merges line by line.
 */
export function renderPrometheusConfig(jobs: readonly ScrapeConfig[], comment?: string): string {
  const document = new Document({ scrape_configs: jobs }, { aliasDuplicateObjects: false });
  // Lists of plain values (`source_labels`, `module`, `targets`) read best on one line, as in Prometheus' own docs.
  visit(document, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) {
        node.flow = true;
      }
    },
  });
  if (comment !== undefined) {
    document.commentBefore = comment
      .split('\n')
      .map((line) => ` ${line}`)
      .join('\n');
  }
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
