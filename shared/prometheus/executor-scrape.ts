import type { Cloud } from '../domain/queue-metric.ts';

/**
 * Prometheus scrape jobs for Sourcegraph executors. Pure: options in, plain objects out; rendering to YAML is
 * `renderPrometheusConfig`. Two layouts exist (see the Sourcegraph contract doc):
 * - legacy images (about 3.3x–3.42) expose exporter_exporter on each VM, which proxies the executor (`module=executor`)
 *   and node_exporter (`module=node`) under `/proxy`; Prometheus finds the VMs through EC2 / GCE discovery;
 * - current images push their metrics to Sourcegraph, and the worker's `executors-metricsserver` serves them all.
 */

export const LAYOUTS = ['legacy', 'current', 'both'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const ADDRESSES = ['private', 'public'] as const;
export type AddressKind = (typeof ADDRESSES)[number];

/** exporter_exporter's port on legacy executor images. */
export const EXPORTER_PORT = 9999;

/** The worker's `executors-metricsserver` (port 6996 unless `EXECUTORS_METRICS_SERVER_PORT` says otherwise). */
export const DEFAULT_WORKER_METRICS_URL = 'http://sourcegraph-worker:6996/metrics';

/** The EC2 tag / GCE label both Terraform modules put on executor VMs "for metrics scraping discovery". */
export const INSTANCE_TAG_KEY = 'executor_tag';

/** Job names Sourcegraph's executor dashboards were built against for the legacy layout. */
export const JOB_NAMES = {
  executors: 'sourcegraph-executors',
  nodes: 'sourcegraph-executor-nodes',
  worker: 'sourcegraph-executors-worker',
} as const;

/** Where one discovery looks: an EC2 region, or one GCE zone of a project (GCE discovery is zonal). */
export type Discovery =
  | { readonly cloud: 'aws'; readonly region: string }
  | { readonly cloud: 'gcp'; readonly project: string; readonly zone: string };

export interface ExecutorScrapeOptions {
  readonly layout: Layout;
  /** Required for the legacy layout: one or more places of one cloud. */
  readonly discoveries?: readonly Discovery[];
  /** Required for the legacy layout: Terraform's `instance_tag`. */
  readonly instanceTag?: string;
  /** Which IP Prometheus dials; private by default since Prometheus usually runs inside the VPC. */
  readonly address?: AddressKind;
  /** Required for the current layout. */
  readonly workerUrl?: string;
}

export interface RelabelConfig {
  readonly source_labels?: readonly string[];
  readonly regex?: string;
  readonly target_label?: string;
  readonly replacement?: string;
  readonly action?: 'replace' | 'keep' | 'drop';
}

export interface Ec2SdConfig {
  readonly region: string;
  readonly port: number;
  readonly filters: readonly { readonly name: string; readonly values: readonly string[] }[];
}

export interface GceSdConfig {
  readonly project: string;
  readonly zone: string;
  readonly port: number;
  readonly filter: string;
}

export interface ScrapeConfig {
  readonly job_name: string;
  readonly scheme?: 'http' | 'https';
  readonly metrics_path: string;
  readonly params?: Readonly<Record<string, readonly string[]>>;
  readonly ec2_sd_configs?: readonly Ec2SdConfig[];
  readonly gce_sd_configs?: readonly GceSdConfig[];
  readonly static_configs?: readonly { readonly targets: readonly string[] }[];
  readonly relabel_configs?: readonly RelabelConfig[];
}

/** Options that cannot produce a working config; the message says what to change. */
export class ScrapeOptionsError extends Error {
  override readonly name = 'ScrapeOptionsError';
}

/** The meta labels each discovery sets (Prometheus `discovery/aws/ec2.go`, `discovery/gce/gce.go`). */
const META = {
  aws: {
    privateIp: '__meta_ec2_private_ip',
    publicIp: '__meta_ec2_public_ip',
    state: '__meta_ec2_instance_state',
    zone: '__meta_ec2_availability_zone',
    instance: '__meta_ec2_instance_id',
  },
  gcp: {
    privateIp: '__meta_gce_private_ip',
    publicIp: '__meta_gce_public_ip',
    state: '__meta_gce_instance_status',
    zone: '__meta_gce_zone',
    instance: '__meta_gce_instance_name',
  },
} as const;

/** The scrape jobs for the chosen layout(s), in a stable order. */
export function executorScrapeConfigs(options: ExecutorScrapeOptions): ScrapeConfig[] {
  const legacy = options.layout === 'current' ? [] : legacyJobs(options);
  const current = options.layout === 'legacy' ? [] : [workerJob(options.workerUrl)];
  return [...legacy, ...current];
}

function legacyJobs(options: ExecutorScrapeOptions): ScrapeConfig[] {
  const discoveries = options.discoveries ?? [];
  const first = discoveries[0];
  if (first === undefined) {
    throw new ScrapeOptionsError(
      'the legacy layout needs where to discover executors: an AWS region or a GCP project and zone',
    );
  }
  if (discoveries.some((discovery) => discovery.cloud !== first.cloud)) {
    throw new ScrapeOptionsError('one config discovers executors on one cloud: generate one per cloud');
  }
  const tag = checkedTag(first.cloud, options.instanceTag);
  const sd =
    first.cloud === 'aws'
      ? { ec2_sd_configs: dedupe(discoveries.flatMap((d) => (d.cloud === 'aws' ? [ec2Sd(d.region, tag)] : []))) }
      : {
          gce_sd_configs: dedupe(
            discoveries.flatMap((d) => (d.cloud === 'gcp' ? [gceSd(d.project, d.zone, tag)] : [])),
          ),
        };
  const relabel = legacyRelabel(first.cloud, options.address ?? 'private');
  const job = (name: string, module: string): ScrapeConfig => ({
    job_name: name,
    metrics_path: '/proxy',
    params: { module: [module] },
    ...sd,
    relabel_configs: relabel,
  });
  return [job(JOB_NAMES.executors, 'executor'), job(JOB_NAMES.nodes, 'node')];
}

function ec2Sd(region: string, tag: string): Ec2SdConfig {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new ScrapeOptionsError(`"${region}" is not an AWS region name such as us-east-1`);
  }
  return { region, port: EXPORTER_PORT, filters: [{ name: `tag:${INSTANCE_TAG_KEY}`, values: [tag] }] };
}

function gceSd(project: string, zone: string, tag: string): GceSdConfig {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
    throw new ScrapeOptionsError(`"${project}" is not a GCP project id such as my-project`);
  }
  if (!/^[a-z]+-[a-z]+\d+-[a-z]$/.test(zone)) {
    throw new ScrapeOptionsError(`"${zone}" is not a GCE zone such as us-central1-a`);
  }
  // Compute's instances.list filter; checkedTag keeps quotes and backslashes out of the value.
  return { project, zone, port: EXPORTER_PORT, filter: `labels.${INSTANCE_TAG_KEY} = "${tag}"` };
}

/**
 * EC2 tag values allow letters, digits, spaces and `_ . : / = + - @`; GCE label values only lowercase letters, digits,
 * `_` and `-`, at most 63 characters. Checking here turns a typo into an error instead of a job that finds nothing.
 */
function checkedTag(cloud: Cloud, tag: string | undefined): string {
  if (tag === undefined || tag === '') {
    throw new ScrapeOptionsError(
      `the legacy layout needs the executors' instance tag (Terraform's instance_tag, the ${INSTANCE_TAG_KEY} ${cloud === 'aws' ? 'tag' : 'label'} on each VM)`,
    );
  }
  const valid = cloud === 'aws' ? /^[\p{L}\p{N} _.:/=+@-]{1,256}$/u : /^[\p{Ll}\p{Lo}\p{N}_-]{1,63}$/u;
  if (!valid.test(tag)) {
    throw new ScrapeOptionsError(
      cloud === 'aws'
        ? `"${tag}" is not a valid EC2 tag value (up to 256 letters, digits, spaces and _ . : / = + - @)`
        : `"${tag}" is not a valid GCE label value (up to 63 lowercase letters, digits, _ and -)`,
    );
  }
  return tag;
}

/**
 * Every rule below sets its label on every target the discovery returns: a rule whose regex cannot match (such as
 * `.+/([^/]+)` on an EC2 zone name like `us-east-1a`) would leave the label silently unset. Prometheus anchors relabel
 * regexes at both ends, so `(.+)` takes the whole value.
 */
function legacyRelabel(cloud: Cloud, address: AddressKind): RelabelConfig[] {
  const meta = META[cloud];
  const ip = address === 'public' ? meta.publicIp : meta.privateIp;
  return [
    // Stopped instances keep their private IP in EC2's answer; scraping them only produces `up == 0` noise.
    { source_labels: [meta.state], regex: cloud === 'aws' ? 'running' : 'RUNNING', action: 'keep' },
    // The discovery sets `__meta_*_public_ip` only when the VM has one; without it there is nothing to dial.
    ...(address === 'public' ? [{ source_labels: [ip], regex: '.+', action: 'keep' as const }] : []),
    { source_labels: [ip], regex: '(.+)', target_label: '__address__', replacement: `\${1}:${EXPORTER_PORT}` },
    // EC2 gives the zone's name (`us-east-1a`); GCE gives its URL (`…/zones/us-central1-a`): keep the last segment.
    copy(meta.zone, 'zone', cloud === 'aws' ? '(.+)' : '(?:.*/)?([^/]+)'),
    copy(meta.instance, 'instance'),
    // The AMI is what a legacy executor's version shipped in; a GCE VM's project tells fleets in several apart.
    cloud === 'aws' ? copy('__meta_ec2_ami', 'version') : copy('__meta_gce_project', 'project'),
  ];
}

/** Sets `target` to the first group of `regex` over `source`; the default `(.+)` takes the whole non-empty value. */
function copy(source: string, target: string, regex = '(.+)'): RelabelConfig {
  return { source_labels: [source], regex, target_label: target, replacement: '$1' };
}

/** A static scrape of the worker, which already labels each series with `sg_instance` and `sg_job`. */
function workerJob(workerUrl: string | undefined): ScrapeConfig {
  const text = workerUrl ?? DEFAULT_WORKER_METRICS_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new ScrapeOptionsError(`worker URL "${text}" is not a URL`, { cause: error });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username) {
    throw new ScrapeOptionsError(
      `worker URL "${text}" must be http(s)://host[:port]/path, without query or credentials`,
    );
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (scheme === 'https' ? '443' : '80') : url.port;
  return {
    job_name: JOB_NAMES.worker,
    scheme,
    metrics_path: url.pathname,
    static_configs: [{ targets: [`${url.hostname}:${port}`] }],
  };
}

function dedupe<T>(values: readonly T[]): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
