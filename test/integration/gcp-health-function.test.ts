import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { FLEET_INSTANCES_METRIC_TYPE } from '../../shared/gcp/monitoring-health-metrics.ts';
import { webhookSignatureHeaders } from '../../shared/webhook/hmac.ts';
import { type FrameworkServer, startFunctionsFramework, useBuiltGcpPackage } from '../support/functions-framework.ts';

/**
 * The built GCP health bundle (health.js: `healthCheck` and `webhook`) served by the real functions-framework CLI, as
 * Cloud Functions runs it, against the local stack's Compute, Monitoring, Secret Manager and Sourcegraph emulators.
 *
 * Broken VMs are made the way they break for real. The stack's VMs read their executor token from a Secret Manager
 * secret at launch: a VM launched while the secret holds a token Sourcegraph no longer accepts never heartbeats (an
 * orphan), and changing Sourcegraph's token silences the executors already running (stale). The stack runs on a
 * clock set back by half an hour that then catches up with real time, so the function, on the system clock, finds
 * those VMs as old as a real check would.
 */

const ZONE = 'us-central1-a';
const DIRECT = 'executors-codeintel';
const SHADOW = 'executors-batches';
const EXECUTOR_SECRET_ID = 'executor-token';
const EXECUTOR_SECRET = `projects/${LOCAL_GCP_PROJECT}/secrets/${EXECUTOR_SECRET_ID}`;
const WEBHOOK_SECRET_ID = 'fleetplane-webhook';
const WEBHOOK_KEY = 'webhook-key-for-the-local-stack-0123456789abcdef';
const NEW_EXECUTOR_TOKEN = 'executor-token-after-an-admin-changed-it';
const MINUTE = 60_000;

const gcpPackage = useBuiltGcpPackage();
let stack: LocalStack | undefined;
/** The stack's clock runs this many ms off real time; 0 once it has caught up. */
let offset = 0;
let server: FrameworkServer | undefined;
/** What the server printed so far. */
const serverLog = () => server?.log() ?? '';

afterEach(async () => {
  server?.stop();
  server = undefined;
  await stack?.close();
  stack = undefined;
  offset = 0;
});

function running(): LocalStack {
  if (stack === undefined) {
    throw new Error('no local stack');
  }
  return stack;
}

const fleet = (name: string, mode: string, group: string) => ({
  name,
  queues: [name],
  mode,
  target: { cloud: 'gcp', project: LOCAL_GCP_PROJECT, zone: ZONE, instanceGroupManager: group },
  jobsPerInstance: 4,
  maxInstances: 10,
  ...(mode === 'direct' ? { scaleIn: { mode: 'attrition' } } : {}),
});

const config = (extra: object = {}) => ({
  environment: 'local',
  sourcegraph: { endpoint: running().sourcegraph.url },
  metrics: { cloudMonitoring: { projectId: LOCAL_GCP_PROJECT } },
  // Two broken of four may both be replaced in one run.
  health: { maxReplacementFraction: 0.5 },
  fleets: [fleet('codeintel', 'direct', DIRECT), fleet('batches', 'shadow', SHADOW)],
  ...extra,
});

const hmac = {
  webhook: {
    auth: 'hmac',
    secret: { gcpSecretManager: `projects/${LOCAL_GCP_PROJECT}/secrets/${WEBHOOK_SECRET_ID}/versions/latest` },
  },
};

/** Starts `functions-framework --target=<target>` on the built health.js and waits until it answers. */
async function serve(target: 'healthCheck' | 'webhook', document: object): Promise<string> {
  const local = running();
  server = await startFunctionsFramework({
    source: join(gcpPackage(), 'health.js'),
    target: target,
    signature: 'http',
    env: {
      FLEETPLANE_CONFIG: JSON.stringify(document),
      SRC_ACCESS_TOKEN: LOCAL_SOURCEGRAPH_TOKEN,
      FLEETPLANE_GCP_MONITORING_ENDPOINT: local.monitoring.emulator.url,
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: local.compute.emulator.url,
      FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: local.secretManager.emulator.url,
      FLEETPLANE_TIMEOUT_SECONDS: '30',
    },
  });
  return `${server.url}`;
}

const instancesOf = (group: string) => running().compute.group(LOCAL_GCP_PROJECT, ZONE, group)?.instances() ?? [];
const idsOf = (group: string) => new Map(instancesOf(group).map((vm) => [vm.name, vm.id]));

async function resize(group: string, size: number): Promise<void> {
  const base = `${running().compute.emulator.url}/compute/v1/projects/${LOCAL_GCP_PROJECT}/zones/${ZONE}`;
  const response = await fetch(`${base}/instanceGroupManagers/${group}/resize?size=${size}`, { method: 'POST' });
  expect(response.status).toBe(200);
}

/**
 * The direct group ends with four VMs: one stale (its executor silenced when Sourcegraph's token changed), one orphan
 * (launched with the old token still in the secret) and two healthy (launched once the secret held the new token).
 * The shadow group's only VM is stale. Answers the direct group's stale and orphan VM names.
 */
async function brokenFleets(): Promise<{ readonly stale: string; readonly orphan: string }> {
  offset = -40 * MINUTE;
  stack = await startLocalStack({
    clock: () => Date.now() + offset,
    bootDelayMs: 30_000,
    executorSecret: { gcp: { project: LOCAL_GCP_PROJECT, secret: EXECUTOR_SECRET_ID } },
  });
  const local = stack;
  local.secretManager.createSecret(LOCAL_GCP_PROJECT, EXECUTOR_SECRET_ID, LOCAL_EXECUTOR_TOKEN);
  local.compute.addGroup({
    project: LOCAL_GCP_PROJECT,
    zone: ZONE,
    name: DIRECT,
    targetSize: 1,
    queues: ['codeintel'],
  });
  local.compute.addGroup({ project: LOCAL_GCP_PROJECT, zone: ZONE, name: SHADOW, targetSize: 1, queues: ['batches'] });
  const [stale] = instancesOf(DIRECT).map((vm) => vm.name);
  offset = -35 * MINUTE;
  local.sourcegraph.setExecutorToken(NEW_EXECUTOR_TOKEN);
  offset = -34 * MINUTE;
  await resize(DIRECT, 2);
  const orphan = instancesOf(DIRECT).find((vm) => vm.name !== stale)?.name;
  offset = -33 * MINUTE;
  local.secretManager.addVersion(LOCAL_GCP_PROJECT, EXECUTOR_SECRET_ID, NEW_EXECUTOR_TOKEN);
  offset = -32 * MINUTE;
  await resize(DIRECT, 4);
  offset = 0;
  if (stale === undefined || orphan === undefined) {
    throw new Error('the direct group did not launch its VMs');
  }
  return { stale, orphan };
}

/**
 * A request signed with `key` at `at` (the function checks the timestamp against the system clock). Method and path are
 * not signed, so two bodiless requests signed in the same second carry one signature: the second would be a replay.
 */
function signed(
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  key = WEBHOOK_KEY,
  at = Date.now(),
) {
  const body = init.body ?? '';
  return {
    path,
    init: {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...webhookSignatureHeaders(key, at, body) },
      ...(body === '' ? {} : { body }),
    },
  };
}

const fleetReport = (report: unknown, name: string): Record<string, unknown> => {
  const fleets = isRecord(report) && Array.isArray(report.fleets) ? report.fleets : [];
  const found: unknown = fleets.find((candidate: unknown) => isRecord(candidate) && candidate.fleet === name);
  if (!isRecord(found)) {
    throw new Error(`no report for fleet ${name}`);
  }
  return found;
};

describe('healthCheck in the functions-framework server', () => {
  it('recreates the orphan and the stale VM of the direct fleet and only reports the shadow fleet’s', async () => {
    // Prepare
    const { stale, orphan } = await brokenFleets();
    const direct = idsOf(DIRECT);
    const shadow = idsOf(SHADOW);
    const url = await serve('healthCheck', config());

    // Act
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const text = await response.text();

    // Assess
    expect(response.status, serverLog()).toBe(200);
    const report: unknown = JSON.parse(text);
    expect(report).toMatchObject({ sourcegraph: { ok: true }, unexplained: [] });
    const codeintel = fleetReport(report, 'codeintel');
    expect(codeintel).toMatchObject({
      mode: 'direct',
      counts: { booting: 0, healthy: 2, orphan: 1, stale: 1, outdated: 0 },
      wouldReplace: [],
      refused: [],
    });
    expect([...(Array.isArray(codeintel.replaced) ? codeintel.replaced : [])].sort()).toEqual([orphan, stale].sort());
    expect(fleetReport(report, 'batches')).toMatchObject({
      mode: 'shadow',
      counts: { stale: 1 },
      replaced: [],
      wouldReplace: [...shadow.keys()],
    });
    // Recreated under their names with new ids; the healthy VMs and the shadow fleet's VM untouched.
    const after = idsOf(DIRECT);
    for (const [name, id] of direct) {
      expect(after.get(name) !== id, name).toBe(name === stale || name === orphan);
    }
    expect(idsOf(SHADOW)).toEqual(shadow);
    expect(
      running()
        .monitoring.series()
        .filter((series) => series.metric.type === FLEET_INSTANCES_METRIC_TYPE),
    ).toHaveLength(10);
    expect(`${text}${serverLog()}`).not.toContain(LOCAL_SOURCEGRAPH_TOKEN);
  });

  it('replaces nothing and answers 503 when Sourcegraph cannot list the executors', async () => {
    // Prepare
    await brokenFleets();
    const direct = idsOf(DIRECT);
    running().sourcegraph.injectGraphQLError({ field: 'executors' });
    const url = await serve('healthCheck', config());

    // Act
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const report: unknown = await response.json();

    // Assess
    expect(response.status, serverLog()).toBe(503);
    expect(report).toMatchObject({ sourcegraph: { ok: false } });
    expect(fleetReport(report, 'codeintel')).toMatchObject({ replaced: [], wouldReplace: [] });
    expect(idsOf(DIRECT)).toEqual(direct);
    expect(
      running().compute.emulator.requests.filter((request) => request.path.endsWith('/recreateInstances')),
    ).toEqual([]);
  });

  it('refuses anything but POST, judging nothing', async () => {
    // Prepare
    stack = await startLocalStack();
    const url = await serve('healthCheck', config());

    // Act
    const response = await fetch(url);

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(running().sourcegraph.emulator.requests).toEqual([]);
  });
});

describe('webhook in the functions-framework server', () => {
  /** A stack with one direct group of one VM, the executor secret and the webhook key in Secret Manager. */
  async function webhookStack(): Promise<void> {
    stack = await startLocalStack();
    stack.compute.addGroup({
      project: LOCAL_GCP_PROJECT,
      zone: ZONE,
      name: DIRECT,
      targetSize: 1,
      queues: ['codeintel'],
    });
    stack.compute.addGroup({
      project: LOCAL_GCP_PROJECT,
      zone: ZONE,
      name: SHADOW,
      targetSize: 1,
      queues: ['batches'],
    });
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, EXECUTOR_SECRET_ID, LOCAL_EXECUTOR_TOKEN);
    stack.secretManager.createSecret(LOCAL_GCP_PROJECT, WEBHOOK_SECRET_ID, WEBHOOK_KEY);
  }

  const call = (url: string, request: { path: string; init: RequestInit }) =>
    fetch(`${url}${request.path}`, request.init);
  /** Requests that reached Sourcegraph or Compute: any means a handler ran. */
  const backendCalls = () =>
    running().sourcegraph.emulator.requests.length + running().compute.emulator.requests.length;

  it('answers a signed GET /health with the report as JSON, or as HTML for a browser, changing nothing', async () => {
    // Prepare
    await webhookStack();
    const direct = idsOf(DIRECT);
    const url = await serve('webhook', config(hmac));

    // Act
    const json = await call(url, signed('/health'));
    const jsonText = await json.text();
    // A second later, or it would carry the first one's signature.
    const html = await call(
      url,
      signed('/health', { headers: { accept: 'text/html' } }, WEBHOOK_KEY, Date.now() + 1000),
    );
    const htmlText = await html.text();

    // Assess
    expect(json.status, serverLog()).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(jsonText)).toMatchObject({
      sourcegraph: { ok: true },
      fleets: [{ fleet: 'codeintel' }, { fleet: 'batches' }],
    });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(htmlText).toContain('codeintel');
    expect(idsOf(DIRECT)).toEqual(direct);
    expect(`${jsonText}${htmlText}${serverLog()}`).not.toContain(WEBHOOK_KEY);
  });

  it('refuses unsigned, forged and replayed requests with 401 and runs nothing', async () => {
    // Prepare
    await webhookStack();
    const url = await serve('webhook', config(hmac));
    const once = signed('/health');
    expect((await call(url, once)).status, serverLog()).toBe(200);
    const before = backendCalls();

    // Act
    const unsigned = await fetch(`${url}/health`);
    const forged = await call(url, signed('/health', {}, 'forged-key-0123456789abcdef0123456789abcdef'));
    const replayed = await call(url, once);
    const unsignedRotate = await fetch(`${url}/rotate`, { method: 'POST' });

    // Assess
    for (const response of [unsigned, forged, replayed, unsignedRotate]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Fleetplane-HMAC-SHA256');
      expect(await response.json()).toMatchObject({ status: 401, detail: 'the request is not authenticated' });
    }
    expect(backendCalls()).toBe(before);
    expect(running().sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
    await server?.waitForLog(/"reason":"replayed"/);
    expect(serverLog()).toMatch(/"reason":"replayed"/);
  });

  it('answers 405 for a wrong method, 413 for a 70 KiB body and 400 for a body that is not JSON', async () => {
    // Prepare
    await webhookStack();
    const url = await serve('webhook', config(hmac));
    const before = backendCalls();

    // Act
    const wrongMethod = await call(url, signed('/health', { method: 'DELETE' }));
    const tooLarge = await fetch(`${url}/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rotation: 'x'.repeat(70 * 1024) }),
    });
    const notJson = await call(
      url,
      signed('/rotate', { method: 'POST', body: '{"rotation": ', headers: { 'content-type': 'text/plain' } }),
    );
    // Declared JSON that does not parse never reaches the function: the framework's body parser answers 400 itself.
    const declaredJson = await fetch(`${url}/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"rotation": ',
    });

    // Assess
    expect(wrongMethod.status, serverLog()).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expect(tooLarge.status).toBe(413);
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ detail: 'the request body is not valid JSON' });
    expect(declaredJson.status).toBe(400);
    expect(backendCalls()).toBe(before);
    expect(running().sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
  });

  it('rotates on a signed POST /rotate: the new token is `current` in Secret Manager and Sourcegraph’s', async () => {
    // Prepare
    await webhookStack();
    const url = await serve('webhook', config({ ...hmac, executorSecret: { gcpSecretManager: EXECUTOR_SECRET } }));

    // Act
    const response = await call(
      url,
      signed('/rotate', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }),
    );
    const text = await response.text();

    // Assess
    expect(response.status, `${text}\n${serverLog()}`).toBe(200);
    expect(JSON.parse(text)).toMatchObject({
      steps: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((step) => ({ step, outcome: 'done' })),
    });
    const token = running().sourcegraph.executorToken();
    const versions = running().secretManager.versions(LOCAL_GCP_PROJECT, EXECUTOR_SECRET_ID);
    const current = running().secretManager.versionAliases(LOCAL_GCP_PROJECT, EXECUTOR_SECRET_ID).current;
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    expect(versions.find((version) => version.version === current)?.value).toBe(token);
    for (const secret of [token, LOCAL_SOURCEGRAPH_TOKEN, WEBHOOK_KEY]) {
      expect(`${text}${serverLog()}`).not.toContain(secret);
    }
  });

  it('answers 404 for POST /rotate when the config names no executor secret', async () => {
    // Prepare
    await webhookStack();
    const url = await serve('webhook', config(hmac));

    // Act
    const response = await call(url, signed('/rotate', { method: 'POST' }));

    // Assess
    expect(response.status, serverLog()).toBe(404);
    expect(running().sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
  });

  it('trusts the platform with IAM auth: an unsigned GET /health is answered', async () => {
    // Prepare
    await webhookStack();
    const url = await serve('webhook', config());

    // Act
    const response = await fetch(`${url}/health`);

    // Assess
    expect(response.status, serverLog()).toBe(200);
    expect(await response.json()).toMatchObject({ sourcegraph: { ok: true } });
  });
});
