import type { StoredSeries } from './monitoring-model.ts';

/**
 * The subset of Cloud Monitoring's filter language the product and the MIG autoscaler use: `selector = "value"`
 * terms joined by `AND`. Selectors: `metric.type`, `resource.type`, `project`, `metric.labels.K` (or `metric.label.K`)
 * and `resource.labels.K`. Anything else is refused by name rather than silently matching too much.
 */

export interface FilterTerm {
  readonly selector: string;
  readonly value: string;
}

const TERM = /^\s*([A-Za-z_][\w.]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*/;

export function parseFilter(filter: string): readonly FilterTerm[] | string {
  const terms: FilterTerm[] = [];
  let rest = filter;
  for (;;) {
    const match = TERM.exec(rest);
    if (match === null) {
      return `The fleetplane emulator understands only selector = "value" terms joined by AND; could not parse: ${rest.trim() || '(empty)'}`;
    }
    const [whole, selector = '', value = ''] = match;
    if (!isKnownSelector(selector)) {
      return `Unknown selector in filter: ${selector}`;
    }
    terms.push({ selector, value: value.replace(/\\(.)/g, '$1') });
    rest = rest.slice(whole.length);
    if (rest.trim() === '') {
      break;
    }
    const and = /^AND\s+/.exec(rest);
    if (and === null) {
      return `The fleetplane emulator understands only AND between terms; could not parse: ${rest.trim()}`;
    }
    rest = rest.slice(and[0].length);
  }
  if (!terms.some((term) => term.selector === 'metric.type')) {
    return 'The filter must name exactly one metric type, e.g. metric.type = "custom.googleapis.com/my_metric".';
  }
  return terms;
}

function isKnownSelector(selector: string): boolean {
  return (
    ['metric.type', 'resource.type', 'project'].includes(selector) ||
    /^(metric\.labels?|resource\.labels?)\.\w+$/.test(selector)
  );
}

export function matches(series: StoredSeries, terms: readonly FilterTerm[]): boolean {
  return terms.every((term) => selectorValue(series, term.selector) === term.value);
}

function selectorValue(series: StoredSeries, selector: string): string | undefined {
  if (selector === 'metric.type') {
    return series.metric.type;
  }
  if (selector === 'resource.type') {
    return series.resource.type;
  }
  if (selector === 'project') {
    return series.project;
  }
  const [scope = '', , key = ''] = selector.split('.');
  return scope === 'metric' ? series.metric.labels[key] : series.resource.labels[key];
}
