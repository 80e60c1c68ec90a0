import { LineCounter, parseDocument } from 'yaml';
import type { Fleet, ScaleInMode } from '../domain/fleet.ts';
import { type GroupTarget, targetKey } from '../domain/fleet.ts';
import { normalizeAllocations } from '../domain/queue-metric.ts';
import { type SeriesName, seriesNameOf } from '../domain/queues.ts';
import { DEFAULT_ROLL, type RollSettings, rollQuantityOf } from '../domain/roll.ts';
import { type ConfigDocument, configDocument } from './document.ts';
import { ConfigError } from './errors.ts';
import { deepFreeze } from './freeze.ts';
import { describeIssues } from './issues.ts';
import { checkSchedule } from './schedule-check.ts';
import { type SecretSource, SecretValue } from './secret.ts';
import type { Env, FleetplaneConfig } from './types.ts';
import { parseWorkerEnv } from './worker-env.ts';

/** Where the config document lives, decided from the environment alone (no I/O). */
export type ConfigSource =
  | { readonly kind: 'inline'; readonly text: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'ssm'; readonly name: string }
  | { readonly kind: 'worker-env' };

/**
 * `FLEETPLANE_CONFIG` holds the document itself or a path to it; a value that looks like a path is a path, so a typo
 * in a path fails as "file not found" rather than as a strange YAML scalar. `FLEETPLANE_CONFIG_SSM_PARAMETER` names an
 * SSM parameter holding the document. With neither, the worker's own variables are read (drop-in mode).
 */
export function resolveConfigSource(env: Env): ConfigSource {
  const value = env.FLEETPLANE_CONFIG?.trim();
  const ssm = env.FLEETPLANE_CONFIG_SSM_PARAMETER?.trim();
  if (value && ssm) {
    throw new ConfigError('environment', [
      'FLEETPLANE_CONFIG and FLEETPLANE_CONFIG_SSM_PARAMETER are both set: choose one',
    ]);
  }
  if (ssm) {
    return { kind: 'ssm', name: ssm };
  }
  if (!value) {
    return { kind: 'worker-env' };
  }
  const looksLikePath = /^(\/|\.\.?\/|~\/)/.test(value) || /^[^\s{:]+\.(ya?ml|json)$/i.test(value);
  return looksLikePath ? { kind: 'file', path: value } : { kind: 'inline', text: value };
}

export interface LoadConfigIo {
  readonly readFile: (path: string) => Promise<string>;
  readonly readSsmParameter: (name: string) => Promise<string>;
}

/** Resolves the source, reads it, and parses it: the one entry point every function and CLI uses. */
export async function loadConfig(env: Env, io: LoadConfigIo): Promise<FleetplaneConfig> {
  const source = resolveConfigSource(env);
  switch (source.kind) {
    case 'worker-env':
      return parseWorkerEnv(env);
    case 'inline':
      return parseConfigText(source.text, 'inline FLEETPLANE_CONFIG', env);
    case 'file':
      return parseConfigText(await readOrExplain(io.readFile, source.path, 'file'), `file:${source.path}`, env);
    case 'ssm':
      return parseConfigText(
        await readOrExplain(io.readSsmParameter, source.name, 'SSM parameter'),
        `ssm:${source.name}`,
        env,
      );
  }
}

async function readOrExplain(read: (name: string) => Promise<string>, name: string, what: string): Promise<string> {
  try {
    return await read(name);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${what} ${name}`, [`cannot read the config ${what}: ${reason}`], { cause: error });
  }
}

/** Parses a YAML or JSON document (JSON is YAML) into a frozen config, reporting every problem at once. */
export function parseConfigText(text: string, source: string, env: Env): FleetplaneConfig {
  const lines = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (yaml.errors.length > 0) {
    // Only the position and the parser's first line are reported: the document may hold a token.
    const at = (offset: number) => lines.linePos(offset).line;
    throw new ConfigError(
      source,
      yaml.errors.map((e) => `line ${at(e.pos[0])}: ${e.code} ${e.message.split('\n')[0] ?? ''}`),
    );
  }
  const parsed = configDocument.safeParse(yaml.toJS());
  const problems = parsed.success ? [] : describeIssues(parsed.error.issues);
  if (!parsed.success) {
    throw new ConfigError(source, problems);
  }
  const document = parsed.data;
  problems.push(...crossFieldProblems(document, env));
  const token = tokenSource(document, env, problems);
  const { cloudMonitoring } = document.metrics;
  // CloudWatch is the default destination unless the document names only Cloud Monitoring.
  const cloudwatchDocument =
    document.metrics.cloudwatch ?? (cloudMonitoring === undefined ? { namespace: 'sourcegraph-executor' } : undefined);
  const region = cloudwatchDocument?.region ?? env.AWS_REGION;
  if (problems.length > 0 || token === undefined) {
    throw new ConfigError(source, problems);
  }

  // Scale-in never kills a running job unless asked to (`resize`): idle instances go when the signal can tell them.
  const defaultScaleIn: ScaleInMode = document.busySignal === undefined ? 'attrition' : 'busy-signal';
  const fleets = document.fleets.map((fleet) => toFleet(fleet, defaultScaleIn));
  // Without a region (a GCP function reading a document it shares with AWS) there is no CloudWatch writer here; the AWS
  // side, which always has one, still counts as configured so both functions split allocations the same way.
  const cloudwatch = cloudwatchDocument && region ? { namespace: cloudwatchDocument.namespace, region } : undefined;
  const allocation = normalizeAllocations(document.allocations, {
    aws: cloudwatchDocument !== undefined,
    gcp: cloudMonitoring !== undefined,
  });
  const s = document.sourcegraph;
  return deepFreeze({
    source,
    environment: document.environment,
    sourcegraph: {
      endpoint: s.endpoint.replace(/\/+$/, ''),
      token,
      timeoutMs: Math.round(s.timeoutSeconds * 1000),
      maxAttempts: s.maxAttempts,
      maxBatchSpecs: s.maxBatchSpecs,
      batchSpecPageSize: s.batchSpecPageSize,
    },
    ...(cloudwatch ? { cloudwatch } : {}),
    ...(cloudMonitoring ? { cloudMonitoring: { projectId: cloudMonitoring.projectId } } : {}),
    ...(document.busySignal
      ? {
          busySignal: {
            url: document.busySignal.url,
            timeoutMs: Math.round(document.busySignal.timeoutSeconds * 1000),
          },
        }
      : {}),
    ...executorSecretOf(document),
    webhook: webhookOf(document),
    health: {
      graceMs: document.health.graceSeconds * 1000,
      staleMs: document.health.staleSeconds * 1000,
      maxReplacementsPerRun: document.health.maxReplacementsPerRun,
      maxReplacementFraction: document.health.maxReplacementFraction,
    },
    allocations: allocation.allocations,
    warnings: allocation.warnings,
    series: uniqueSeries(fleets),
    fleets,
    pollIntervalSeconds: document.pollIntervalSeconds,
    invocationSeconds: document.invocationSeconds,
  });
}

function crossFieldProblems(document: ConfigDocument, env: Env): string[] {
  const problems: string[] = [];
  const names = new Map<string, number>();
  const targets = new Map<string, number>();
  document.fleets.forEach((fleet, index) => {
    const at = `fleets[${index}]`;
    if (fleet.minInstances > fleet.maxInstances) {
      problems.push(`${at}.minInstances: ${fleet.minInstances} is above maxInstances ${fleet.maxInstances}`);
    }
    if (new Set(fleet.queues).size !== fleet.queues.length) {
      problems.push(`${at}.queues: lists a queue twice`);
    }
    if (fleet.mode !== 'metrics' && fleet.target === undefined) {
      problems.push(`${at}.target: required in ${fleet.mode} mode (the group to resize)`);
    }
    if (fleet.jitterSeconds >= document.pollIntervalSeconds) {
      problems.push(
        `${at}.jitterSeconds: ${fleet.jitterSeconds} must be below pollIntervalSeconds ${document.pollIntervalSeconds}, or cycles overlap`,
      );
    }
    if (fleet.idleBuffer >= fleet.maxInstances) {
      problems.push(
        `${at}.idleBuffer: ${fleet.idleBuffer} warm instances leave no room for one running jobs within maxInstances ${fleet.maxInstances}`,
      );
    }
    fleet.schedules?.forEach((schedule, position) => {
      const where = `${at}.schedules[${position}]`;
      try {
        checkSchedule(schedule);
      } catch (error) {
        problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (schedule.minInstances !== undefined && schedule.minInstances > fleet.maxInstances) {
        problems.push(`${where}.minInstances: ${schedule.minInstances} is above maxInstances ${fleet.maxInstances}`);
      }
      if (schedule.idleBuffer !== undefined && schedule.idleBuffer >= fleet.maxInstances) {
        problems.push(
          `${where}.idleBuffer: ${schedule.idleBuffer} leaves no room within maxInstances ${fleet.maxInstances}`,
        );
      }
      if (schedule.minInstances === undefined && schedule.idleBuffer === undefined) {
        problems.push(`${where}: sets nothing; give minInstances, idleBuffer or both`);
      }
    });
    if (
      fleet.mode === 'direct' &&
      fleet.target?.cloud === 'gcp' &&
      fleet.scaleIn?.mode === undefined &&
      document.busySignal === undefined
    ) {
      // A MIG repairs a VM whose executor exited unless told not to, so attrition is not a safe silent default there.
      problems.push(
        `${at}.scaleIn.mode: without busySignal.url a GCE fleet must choose: attrition (and set the MIG's instanceLifecyclePolicy.defaultActionOnFailure to DO_NOTHING) or resize (the MIG picks the VMs, busy or not)`,
      );
    }
    if (fleet.roll !== undefined && fleet.roll !== false) {
      if (fleet.target === undefined) {
        problems.push(`${at}.roll: a fleet without a target has no instances to roll`);
      } else if (isNone(fleet.roll.maxUnavailable) && isNone(fleet.roll.maxSurge)) {
        problems.push(`${at}.roll: maxUnavailable and maxSurge are both 0, so no instance could ever be replaced`);
      }
    }
    if (fleet.scaleIn?.mode === 'busy-signal' && document.busySignal === undefined) {
      problems.push(
        `${at}.scaleIn.mode: busy-signal needs busySignal.url (where the executors' running jobs are read)`,
      );
    }
    const seenName = names.get(fleet.name);
    if (seenName !== undefined) {
      problems.push(`${at}.name: "${fleet.name}" is already used by fleets[${seenName}]`);
    }
    names.set(fleet.name, index);
    if (fleet.target !== undefined && fleet.mode !== 'metrics') {
      // Two fleets resizing one group would fight each other every cycle.
      const key = targetKey(toTarget(fleet.target));
      const seenTarget = targets.get(key);
      if (seenTarget !== undefined) {
        problems.push(`${at}.target: group ${key} is already managed by fleets[${seenTarget}]`);
      }
      targets.set(key, index);
    }
  });
  const { token, tokenSecret } = document.sourcegraph;
  if (token !== undefined && tokenSecret !== undefined) {
    problems.push('sourcegraph.token: give either token or tokenSecret, not both');
  }
  if (token === undefined && tokenSecret === undefined && !env.SRC_ACCESS_TOKEN) {
    problems.push('sourcegraph.token: required (or sourcegraph.tokenSecret, or SRC_ACCESS_TOKEN in the environment)');
  }
  if (document.pollIntervalSeconds > document.invocationSeconds) {
    problems.push(
      `pollIntervalSeconds: ${document.pollIntervalSeconds} is longer than invocationSeconds ${document.invocationSeconds}`,
    );
  }
  return problems;
}

function tokenSource(document: ConfigDocument, env: Env, problems: string[]): SecretSource | undefined {
  const { token, tokenSecret } = document.sourcegraph;
  if (tokenSecret !== undefined) {
    return 'gcpSecretManager' in tokenSecret
      ? { kind: 'gcp-secret-manager', name: tokenSecret.gcpSecretManager }
      : { kind: 'aws-secrets-manager', secretId: tokenSecret.awsSecretsManager, jsonKey: tokenSecret.jsonKey };
  }
  // A secret mounted from a file usually ends in a newline, which is not part of the token.
  const value = (token ?? env.SRC_ACCESS_TOKEN)?.replace(/\r?\n$/, '');
  if (value === undefined || value === '') {
    return undefined;
  }
  if (/\s/.test(value)) {
    problems.push('sourcegraph.token: contains white space (check for a stray newline)');
  }
  return { kind: 'value', value: new SecretValue(value) };
}

function toFleet(document: ConfigDocument['fleets'][number], defaultScaleIn: ScaleInMode): Fleet {
  return {
    name: document.name,
    queues: [...document.queues].sort(),
    series: seriesNameOf(document.queues),
    mode: document.mode,
    ...(document.target === undefined ? {} : { target: toTarget(document.target) }),
    jobsPerInstance: document.jobsPerInstance,
    minInstances: document.minInstances,
    maxInstances: document.maxInstances,
    scaleInWindowSeconds: document.scaleInWindowSeconds,
    scaleIn: { mode: document.scaleIn?.mode ?? defaultScaleIn, order: document.scaleIn?.order ?? 'oldest-first' },
    ...controlsOf(document),
    ...(document.jitterSeconds === 0 ? {} : { jitterSeconds: document.jitterSeconds }),
    ...(document.target === undefined || document.roll === false ? {} : { roll: rollOf(document.roll) }),
    ...(document.schedules === undefined || document.schedules.length === 0 ? {} : { schedules: document.schedules }),
  };
}

function webhookOf(document: ConfigDocument): FleetplaneConfig['webhook'] {
  const webhook = document.webhook;
  if (webhook.auth === 'iam') {
    return { auth: 'iam' };
  }
  const secret: SecretSource =
    'awsSecretsManager' in webhook.secret
      ? { kind: 'aws-secrets-manager', secretId: webhook.secret.awsSecretsManager }
      : { kind: 'gcp-secret-manager', name: webhook.secret.gcpSecretManager };
  return { auth: 'hmac', secret, toleranceSeconds: webhook.toleranceSeconds };
}

function executorSecretOf(document: ConfigDocument): Pick<FleetplaneConfig, 'executorSecret'> {
  const secret = document.executorSecret;
  if (secret === undefined) {
    return {};
  }
  const store =
    'awsSecretsManager' in secret
      ? { kind: 'aws-secrets-manager' as const, secretId: secret.awsSecretsManager }
      : { kind: 'gcp-secret-manager' as const, name: secret.gcpSecretManager };
  return { executorSecret: { store, tokenLength: secret.tokenLength } };
}

/** `0` or `0%`: a roll setting that lets no instance be replaced. */
function isNone(quantity: number | string): boolean {
  const parsed = rollQuantityOf(quantity);
  return 'fixed' in parsed ? parsed.fixed === 0 : parsed.percent === 0;
}

function rollOf(roll: Exclude<ConfigDocument['fleets'][number]['roll'], false>): RollSettings {
  return roll === undefined
    ? DEFAULT_ROLL
    : { maxUnavailable: rollQuantityOf(roll.maxUnavailable), maxSurge: rollQuantityOf(roll.maxSurge) };
}

/** Only the controls a fleet sets, so a fleet without any decides exactly as before. */
function controlsOf(document: ConfigDocument['fleets'][number]): Pick<Fleet, 'controls'> {
  const controls = {
    ...(document.pause === 'none' ? {} : { pause: document.pause }),
    ...(document.scaleOut?.maxStep === undefined ? {} : { maxScaleOutStep: document.scaleOut.maxStep }),
    ...(document.scaleIn?.maxStep === undefined ? {} : { maxScaleInStep: document.scaleIn.maxStep }),
    ...(document.scaleIn?.maxPerWindow === undefined ? {} : { maxScaleInPerWindow: document.scaleIn.maxPerWindow }),
    ...(document.idleBuffer === 0 ? {} : { idleBuffer: document.idleBuffer }),
  };
  return Object.keys(controls).length === 0 ? {} : { controls };
}

/** The document's target as the domain types it: a GCP group is zonal or regional, never both (checked above). */
function toTarget(target: NonNullable<ConfigDocument['fleets'][number]['target']>): GroupTarget {
  if (target.cloud === 'aws') {
    return target;
  }
  const { project, instanceGroupManager } = target;
  return target.zone !== undefined
    ? { cloud: 'gcp', project, instanceGroupManager, zone: target.zone }
    : { cloud: 'gcp', project, instanceGroupManager, region: target.region ?? '' };
}

function uniqueSeries(fleets: readonly Fleet[]): SeriesName[] {
  return [...new Set(fleets.map((fleet) => fleet.series))];
}
