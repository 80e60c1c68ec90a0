import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../local/aws/index.ts';
import { LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import {
  DEFAULT_LOCAL_FLEETS,
  LOCAL_ENVIRONMENT,
  LOCAL_REGION,
  type LocalFleet,
  type LocalStack,
  startLocalStack,
} from '../../local/stack.ts';
import { functionBuildOptions } from '../../scripts/esbuild-options.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { webhookSignatureHeaders } from '../../shared/webhook/hmac.ts';
import { jsonLines, logLines, runNode } from '../support/run-node.ts';

/**
 * The built health bundle, loaded in its own process as Lambda would load it, against the local stack: the real Auto
 * Scaling, EC2 and Secrets Manager clients on the emulators, and the Sourcegraph emulator's executors; its counts are
 * EMF lines in its output. Its two events: the EventBridge schedule, and function URL requests (payload format 2.0)
 * to the webhook.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INVOKER = join(ROOT, 'test/integration/lambda-invoker.ts');
const EXECUTOR_SECRET = 'fleetplane/executor-token';
const WEBHOOK_SECRET = 'fleetplane/webhook-hmac';
/** The webhook's keys: the current one and, while clients move over, the previous one. */
const KEY = 'c0ffee'.repeat(10).padEnd(64, '0');
const OLD_KEY = 'decade'.repeat(10).padEnd(64, '1');
const SCHEDULED = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', resources: [], detail: {} };
let bundleDir: string;
let bundle: string;

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'fleetplane-health-bundle-'));
  bundle = join(bundleDir, 'health.js');
  await build({
    ...functionBuildOptions,
    absWorkingDir: ROOT,
    entryPoints: ['functions/aws/health.ts'],
    outfile: bundle,
  });
  await writeFile(join(bundleDir, 'package.json'), '{ "type": "commonjs" }\n');
}, 120_000);

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

/** The events, invoked one after another in one warm container of the built function. */
async function invoke(stack: LocalStack, config: object, events: readonly unknown[]) {
  const run = await runNode(
    INVOKER,
    ['--bundle', bundle, '--events', JSON.stringify(events), '--function-name', 'fleetplane-local-health'],
    { ...stack.env(), FLEETPLANE_CONFIG: JSON.stringify(config) },
  );
  const outcomes = jsonLines(run.stderr).filter((line) => 'invoker' in line);
  return { ...run, outcomes, logs: logLines(run) };
}

/**
 * The values of one metric among a run's EMF lines (on stdout), as CloudWatch would extract them in fleetplane's
 * namespace: each with its dimension set's values.
 */
function emfValues(lines: readonly Record<string, unknown>[], metric: string) {
  return lines.flatMap((line) => {
    const meta = line._aws;
    const directives = isRecord(meta) && Array.isArray(meta.CloudWatchMetrics) ? meta.CloudWatchMetrics : [];
    return directives.flatMap((directive: unknown) => {
      if (!isRecord(directive) || directive.Namespace !== 'fleetplane' || !Array.isArray(directive.Dimensions)) {
        return [];
      }
      const names = Array.isArray(directive.Metrics)
        ? directive.Metrics.flatMap((definition: unknown) => (isRecord(definition) ? [definition.Name] : []))
        : [];
      if (!names.includes(metric)) {
        return [];
      }
      return directive.Dimensions.map((set: unknown) => ({
        dimensions: Object.fromEntries(
          (Array.isArray(set) ? set : []).map((name: unknown) => [String(name), line[String(name)]]),
        ),
        value: line[metric],
      }));
    });
  });
}

function expectNoSecret(runs: readonly { stdout: string; stderr: string }[], secrets: readonly string[]): void {
  const output = runs.map((run) => `${run.stdout}${run.stderr}`).join('');
  for (const secret of [...secrets, LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN, KEY, OLD_KEY]) {
    expect(output).not.toContain(secret);
  }
}

describe('the built AWS health function on its schedule', () => {
  const BOOT_MS = 8_000;
  const STALE_SECONDS = 60;
  const GRACE_SECONDS = 120;
  const REJECTED_TOKEN = 'a-token-sourcegraph-never-accepted-0123456789';
  const ROTATED_TOKEN = 'the-executors-token-after-an-edit-0123456789';
  // The local defaults, with batches in shadow mode: judged and reported, never changed.
  const FLEETS: readonly LocalFleet[] = DEFAULT_LOCAL_FLEETS.map((fleet) =>
    fleet.fleet === 'batches' ? { ...fleet, mode: 'shadow' } : fleet,
  );
  const time = { now: 0 };
  let stack: LocalStack;
  let asg: AutoScalingClient;
  let secrets: SecretsManagerClient;
  /** codeintel's stale instance (its executor's token changed under it) and orphan (booted with a refused token). */
  let broken: { stale: string; orphan: string; shadowOrphan: string };

  /** The group's instances, less those on their way out (listed as `Terminating` for a few seconds). */
  const instanceIds = (group: string) =>
    (stack.autoScaling.group(group)?.instances ?? [])
      .filter((instance) => !instance.lifecycleState.startsWith('Terminating'))
      .map((instance) => instance.id);
  const scaleTo = (group: string, desired: number) =>
    asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: desired }));
  const storeToken = (token: string) =>
    secrets.send(new PutSecretValueCommand({ SecretId: EXECUTOR_SECRET, SecretString: token }));
  const newIn = async (group: string, before: readonly string[], desired: number) => {
    await scaleTo(group, desired);
    return instanceIds(group).filter((id) => !before.includes(id));
  };
  const config = () => ({
    ...stack.config(),
    health: { graceSeconds: GRACE_SECONDS, staleSeconds: STALE_SECONDS, maxReplacementFraction: 0.5 },
  });

  beforeEach(async () => {
    // Prepare: the world starts 15 minutes ago, so its instances have launch times and heartbeats the function,
    // judging on the real clock, sees as old.
    time.now = Date.now() - 15 * 60_000;
    stack = await startLocalStack({
      clock: () => time.now,
      bootDelayMs: BOOT_MS,
      fleets: FLEETS,
      executorSecret: { aws: EXECUTOR_SECRET },
    });
    asg = new AutoScalingClient({ ...awsClientConfig(stack.autoScaling.emulator, LOCAL_REGION), maxAttempts: 1 });
    secrets = new SecretsManagerClient({
      ...awsClientConfig(stack.secretsManager.emulator, LOCAL_REGION),
      maxAttempts: 1,
    });
    stack.secretsManager.createSecret(EXECUTOR_SECRET, LOCAL_EXECUTOR_TOKEN);
    const [codeintel, batches] = ['sourcegraph-executors-codeintel', 'sourcegraph-executors-batches'];

    // One codeintel executor boots with the token Sourcegraph holds...
    const [stale = ''] = await newIn(codeintel, [], 1);
    time.now += BOOT_MS + 1_000;
    // ...then Sourcegraph's token changes under it (it stops heartbeating), and four more boot with the new one...
    time.now += 60_000;
    stack.sourcegraph.setExecutorToken(ROTATED_TOKEN);
    await storeToken(ROTATED_TOKEN);
    const healthy = await newIn(codeintel, [stale], 4);
    await newIn(batches, [], 2);
    time.now += BOOT_MS + 1_000;
    // ...and one in each group boots while the secret holds a token Sourcegraph never accepts: never a heartbeat.
    await storeToken(REJECTED_TOKEN);
    const [orphan = ''] = await newIn(codeintel, [stale, ...healthy], 5);
    const [shadowOrphan = ''] = await newIn(batches, instanceIds(batches), 3);
    broken = { stale, orphan, shadowOrphan };
    // The function judges at the real now: the stale executor went silent 14 minutes ago, the orphans launched 13.
    time.now = Date.now();
  });

  afterEach(async () => {
    asg.destroy();
    secrets.destroy();
    await stack.close();
  });

  it("replaces a direct fleet's stale and orphan instances, and only reports a shadow fleet's", async () => {
    // Prepare
    const codeintelBefore = instanceIds('sourcegraph-executors-codeintel');
    const batchesBefore = instanceIds('sourcegraph-executors-batches');

    // Act
    const run = await invoke(stack, config(), [SCHEDULED]);

    // Assess: the report
    expect(run.code, run.stderr).toBe(0);
    const [outcome, ...more] = run.outcomes;
    expect(more).toEqual([]);
    expect(outcome).toMatchObject({ invoker: 'result', result: { sourcegraph: { ok: true }, unexplained: [] } });
    const fleets = isRecord(outcome?.result) && Array.isArray(outcome.result.fleets) ? outcome.result.fleets : [];
    expect(fleets).toEqual([
      expect.objectContaining({
        fleet: 'codeintel',
        mode: 'direct',
        counts: { booting: 0, healthy: 3, orphan: 1, stale: 1, outdated: 0 },
        replaced: [broken.stale, broken.orphan],
        wouldReplace: [],
        refused: [],
      }),
      expect.objectContaining({
        fleet: 'batches',
        mode: 'shadow',
        counts: { booting: 0, healthy: 2, orphan: 1, stale: 0, outdated: 0 },
        replaced: [],
        wouldReplace: [broken.shadowOrphan],
      }),
    ]);
    // Auto Scaling was told exactly those two were unhealthy, however young, and replaced them
    expect(stack.autoScaling.healthRequests()).toEqual(
      [broken.stale, broken.orphan].map((instanceId) =>
        expect.objectContaining({
          group: 'sourcegraph-executors-codeintel',
          instanceId,
          healthStatus: 'Unhealthy',
          respectGracePeriod: false,
        }),
      ),
    );
    const codeintelAfter = instanceIds('sourcegraph-executors-codeintel');
    expect(codeintelAfter).toHaveLength(codeintelBefore.length);
    expect(codeintelAfter).not.toContain(broken.stale);
    expect(codeintelAfter).not.toContain(broken.orphan);
    expect(instanceIds('sourcegraph-executors-batches')).toEqual(batchesBefore);
    // The counts were printed as EMF in fleetplane's namespace, and nothing went to CloudWatch's API
    expect(emfValues(run.logs, 'FleetInstances').filter((value) => value.dimensions.health === 'orphan')).toEqual(
      ['codeintel', 'batches'].map((fleet) => ({
        dimensions: { environment: LOCAL_ENVIRONMENT, fleet, health: 'orphan' },
        value: 1,
      })),
    );
    expect(emfValues(run.logs, 'HealthReplacements')).toContainEqual({
      dimensions: { environment: LOCAL_ENVIRONMENT, fleet: 'codeintel', outcome: 'replaced' },
      value: 2,
    });
    expect(stack.cloudWatch.datums().filter((datum) => datum.namespace === 'fleetplane')).toEqual([]);
    expectNoSecret([run], [ROTATED_TOKEN, REJECTED_TOKEN]);
  });

  it('replaces nothing while Sourcegraph cannot list its executors', async () => {
    // Prepare
    const before = instanceIds('sourcegraph-executors-codeintel');
    stack.sourcegraph.injectGraphQLError({ field: 'executors' });

    // Act
    const run = await invoke(stack, config(), [SCHEDULED]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.outcomes).toEqual([
      expect.objectContaining({
        invoker: 'result',
        result: expect.objectContaining({ sourcegraph: { ok: false, error: expect.any(String) } }),
      }),
    ]);
    expect(stack.autoScaling.healthRequests()).toEqual([]);
    expect(instanceIds('sourcegraph-executors-codeintel')).toEqual(before);
    expect(run.logs.filter((line) => '_aws' in line)).toEqual([]);
    expectNoSecret([run], [ROTATED_TOKEN, REJECTED_TOKEN]);
  });
});

/** A function URL request as Lambda hands it over (payload format 2.0); Lambda omits `body` when there is none. */
function urlRequest(method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}) {
  const { body = '', headers = {} } = options;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abcdefg.lambda-url.us-east-1.on.aws', 'user-agent': 'vitest', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'local',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    ...(body === '' ? {} : { body }),
    isBase64Encoded: false,
  };
}

/**
 * The same, signed as a webhook client signs it, with `key`, `secondsAgo` seconds ago. Only the timestamp and the body
 * are signed, so two requests with the same body in the same second carry the same signature: the second is a replay.
 */
function signed(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string>; key?: string; secondsAgo?: number } = {},
) {
  const { body = '', headers = {}, key = KEY, secondsAgo = 0 } = options;
  const signature = webhookSignatureHeaders(key, Date.now() - secondsAgo * 1000, body);
  return urlRequest(method, path, { body, headers: { ...signature, ...headers } });
}

interface UrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function resultsOf(run: { outcomes: Record<string, unknown>[] }): UrlResult[] {
  return run.outcomes.map((outcome) => {
    const result = outcome.result;
    if (
      !isRecord(result) ||
      typeof result.statusCode !== 'number' ||
      !isRecord(result.headers) ||
      typeof result.body !== 'string'
    ) {
      throw new Error(`not a function URL result: ${JSON.stringify(outcome)}`);
    }
    const headers = Object.fromEntries(Object.entries(result.headers).map(([name, value]) => [name, String(value)]));
    return { statusCode: result.statusCode, headers, body: result.body };
  });
}

describe('the built AWS health function behind its function URL (HMAC)', () => {
  let stack: LocalStack;
  let config: object;
  const graphqlRequests = () => stack.sourcegraph.emulator.requests.length;
  const awsRequests = () => stack.autoScaling.emulator.requests.length + stack.ec2.emulator.requests.length;

  beforeEach(async () => {
    stack = await startLocalStack();
    stack.secretsManager.createSecret(EXECUTOR_SECRET, LOCAL_EXECUTOR_TOKEN);
    stack.secretsManager.createSecret(WEBHOOK_SECRET, `${KEY}\n ${OLD_KEY}\n`);
    config = {
      ...stack.config(),
      executorSecret: { awsSecretsManager: EXECUTOR_SECRET },
      webhook: { auth: 'hmac', secret: { awsSecretsManager: WEBHOOK_SECRET } },
    };
  });

  afterEach(async () => {
    await stack.close();
  });

  it('answers a signed GET /health with the report as JSON, or as HTML to a browser, with either key', async () => {
    // Act
    const run = await invoke(stack, config, [
      signed('GET', '/health'),
      signed('GET', '/health', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, secondsAgo: 1 }),
      signed('GET', '/health', { key: OLD_KEY, secondsAgo: 2 }),
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const [json, html, old] = resultsOf(run);
    expect(json).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(JSON.parse(json?.body ?? '')).toMatchObject({
      sourcegraph: { ok: true },
      fleets: [{ fleet: 'codeintel' }, { fleet: 'batches' }],
    });
    expect(html).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(html?.body).toMatch(/^<!doctype html>/i);
    expect(old?.statusCode).toBe(200);
    // A GET changes nothing
    expect(stack.autoScaling.healthRequests()).toEqual([]);
    expectNoSecret([run], []);
  });

  it('refuses unsigned, forged, expired and replayed requests with one 401, running nothing', async () => {
    // Prepare: what one genuine GET /health costs Sourcegraph and AWS
    await invoke(stack, config, [signed('GET', '/health')]);
    const once = { graphql: graphqlRequests(), aws: awsRequests() };
    stack.sourcegraph.emulator.clearRequests();
    stack.autoScaling.emulator.clearRequests();
    stack.ec2.emulator.clearRequests();
    const genuine = signed('GET', '/health');
    const expired = urlRequest('GET', '/health', { headers: webhookSignatureHeaders(KEY, Date.now() - 600_000, '') });

    // Act
    const refusals = await invoke(stack, config, [
      urlRequest('GET', '/health'),
      signed('GET', '/health', { key: 'f'.repeat(64) }),
      expired,
      signed('POST', '/rotate', { body: '{}', key: 'f'.repeat(64) }),
    ]);
    const afterRefusals = { graphql: graphqlRequests(), aws: awsRequests() };
    const replay = await invoke(stack, config, [genuine, genuine]);

    // Assess: four identical 401s that ran nothing
    const refused = resultsOf(refusals);
    expect(refused.map((result) => result.statusCode)).toEqual([401, 401, 401, 401]);
    expect(new Set(refused.map((result) => result.body)).size).toBe(1);
    expect(refused[0]?.headers['www-authenticate']).toBe('Fleetplane-HMAC-SHA256');
    expect(afterRefusals).toEqual({ graphql: 0, aws: 0 });
    expect(
      refusals.logs.filter((line) => line.message === 'webhook request refused').map((line) => line.reason),
    ).toEqual(['missing-timestamp', 'signature-mismatch', 'timestamp-outside-tolerance', 'signature-mismatch']);
    // The replay is refused in the same warm container: the second copy cost nothing
    expect(resultsOf(replay).map((result) => result.statusCode)).toEqual([200, 401]);
    expect({ graphql: graphqlRequests(), aws: awsRequests() }).toEqual(once);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
    expectNoSecret([refusals, replay], []);
  });

  it('answers 405, 413 and 400 without rotating anything', async () => {
    // Prepare: 70 KiB, over the 64 KiB limit; a body that is not JSON; an id Secrets Manager would refuse
    const large = `{"rotation":"${'x'.repeat(70 * 1024)}"}`;

    // Act
    const run = await invoke(stack, config, [
      signed('PUT', '/health'),
      signed('POST', '/rotate', { body: large }),
      signed('POST', '/rotate', { body: '{"rotation": ' }),
      signed('POST', '/rotate', { body: '{"rotation": "short"}' }),
      signed('POST', '/rotate', { body: '{"Step": "createSecret"}' }),
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const results = resultsOf(run);
    expect(results.map((result) => result.statusCode)).toEqual([405, 413, 400, 400, 400]);
    expect(results[0]?.headers.allow).toBe('GET, HEAD');
    expect(results.every((result) => result.headers['content-type'] === 'application/problem+json')).toBe(true);
    expect(stack.secretsManager.versions(EXECUTOR_SECRET)).toHaveLength(1);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
    expectNoSecret([run], []);
  });

  it('rotates the executor secret on a signed POST /rotate', async () => {
    // Act
    const run = await invoke(stack, config, [signed('POST', '/rotate', { body: '{}' })]);

    // Assess: Sourcegraph and the secret's AWSCURRENT hold the same new token
    expect(run.code, run.stderr).toBe(0);
    const [result] = resultsOf(run);
    expect(result?.statusCode, result?.body).toBe(200);
    expect(JSON.parse(result?.body ?? '')).toMatchObject({
      rotation: expect.stringMatching(/^[0-9a-f-]{36}$/),
      steps: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((step) => ({ step, outcome: 'done' })),
    });
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    const current = stack.secretsManager
      .versions(EXECUTOR_SECRET)
      .filter((version) => version.stages.includes('AWSCURRENT'));
    expect(current.map((version) => version.secretString)).toEqual([token]);
    expectNoSecret([run], [token]);
  });
});

describe('the built AWS health function behind its function URL (IAM)', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack();
  });

  afterEach(async () => {
    await stack.close();
  });

  it("trusts Lambda's SigV4 check, answers 404 to rotate without an executor secret, refuses other events", async () => {
    // Act: webhook.auth defaults to iam
    const run = await invoke(stack, stack.config(), [
      urlRequest('GET', '/health'),
      urlRequest('POST', '/rotate', { body: '{}' }),
      urlRequest('GET', '/nowhere'),
      {},
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(resultsOf({ outcomes: run.outcomes.slice(0, 3) }).map((result) => result.statusCode)).toEqual([
      200, 404, 404,
    ]);
    expect(run.outcomes[3]).toMatchObject({
      invoker: 'error',
      name: 'HealthEventError',
      message: expect.stringMatching(/EventBridge scheduled event .* function URL request/),
    });
    expect(run.logs.filter((line) => line.message === 'invocation failed')).toHaveLength(1);
    expectNoSecret([run], []);
  });
});
