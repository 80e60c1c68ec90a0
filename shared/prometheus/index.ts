export {
  ADDRESSES,
  type AddressKind,
  DEFAULT_WORKER_METRICS_URL,
  type Discovery,
  EXPORTER_PORT,
  type ExecutorScrapeOptions,
  executorScrapeConfigs,
  INSTANCE_TAG_KEY,
  JOB_NAMES,
  LAYOUTS,
  type Layout,
  type RelabelConfig,
  type ScrapeConfig,
  ScrapeOptionsError,
} from './executor-scrape.ts';
export { renderPrometheusConfig } from './render.ts';
