import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig, DUMMY_CREDENTIALS, startSecretsManagerEmulator } from '../../local/aws/index.ts';
import { isolatedEnv } from '../../local/child-env.ts';
import { type SecretManagerEmulator, startSecretManagerEmulator } from '../../local/gcp/secret-manager.ts';

/**
 * The boot snippets in examples/boot, run as a VM runs them (`bash <script>`) against loopback stand-ins: the Secret
 * Manager emulator behind a gate that checks the bearer token, a metadata-server stub, and for AWS a recording fake
 * `aws` CLI (plus the real CLI against the Secrets Manager emulator when this machine has one).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AWS_SNIPPET = join(ROOT, 'examples/boot/aws-executor-token.sh');
const GCP_SNIPPET = join(ROOT, 'examples/boot/gcp-executor-token.sh');

const TOKEN = 'Zq3-vN8_kLm2Pw9xRt4sYb6HcJd1FgA0uEo7iKpQ';
const OLD_TOKEN = 'terraform-user-data-token-0000000000';
const PROJECT = 'fleetplane-boot';
const SECRET = `projects/${PROJECT}/secrets/executor-token`;
const ACCESS_TOKEN = 'ya29.c.boot-snippet-access-token_0123456789';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fleetplane/executor-token-AbCdEf';
/** What the module's startup script writes, including the empty line its unset optional settings leave. */
const MODULE_ENV = [
  'EXECUTOR_QUEUE_NAME="codeintel"',
  'EXECUTOR_FRONTEND_URL="https://sourcegraph.example.com"',
  `EXECUTOR_FRONTEND_PASSWORD="${OLD_TOKEN}"`,
  'EXECUTOR_NUM_TOTAL_JOBS="1800"',
  '',
  '',
].join('\n');
const withPassword = (token: string) => MODULE_ENV.replace(OLD_TOKEN, token);

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function runBash(script: string, cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { cwd, env: isolatedEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, number]> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('a loopback stub has no TCP address');
  }
  return [server, address.port];
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;
const leftovers = async (dir: string) => (await readdir(dir)).filter((name) => name !== 'executor.env');

let dir: string;
let envFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetplane-boot-'));
  envFile = join(dir, 'executor.env');
  // The module's `cat > file` leaves the file readable by all.
  await writeFile(envFile, MODULE_ENV, { mode: 0o644 });
  await chmod(envFile, 0o644);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gcp-executor-token.sh against the Secret Manager emulator and a metadata stub', () => {
  let secrets: SecretManagerEmulator;
  let metadata: Server;
  let gate: Server;
  let metadataCalls: { path: string; flavor: string | undefined }[];
  let accessed: string[];
  /** What the gate answers instead of forwarding: a refusal of every call, as IAM or scopes would. */
  let refusal: { status: number; body: unknown } | undefined;
  /** The metadata server drops every connection, as before the guest network is up. */
  let metadataDown: boolean;
  let env: Record<string, string>;

  beforeEach(async () => {
    secrets = await startSecretManagerEmulator();
    metadataCalls = [];
    accessed = [];
    refusal = undefined;
    metadataDown = false;
    const [metadataServer, metadataPort] = await listen((req, res) => {
      const flavor = req.headers['metadata-flavor'];
      metadataCalls.push({ path: req.url ?? '', flavor: typeof flavor === 'string' ? flavor : undefined });
      if (metadataDown) {
        req.socket.destroy();
      } else if (flavor !== 'Google') {
        res.writeHead(403).end('Missing Metadata-Flavor:Google header.');
      } else if (req.url === '/computeMetadata/v1/instance/service-accounts/default/token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: ACCESS_TOKEN, expires_in: 3599, token_type: 'Bearer' }));
      } else if (req.url === '/computeMetadata/v1/project/project-id') {
        res.writeHead(200, { 'content-type': 'application/text' }).end(PROJECT);
      } else {
        res.writeHead(404).end();
      }
    });
    // Stands for Google's front end: refuses a call without the VM's bearer token, then answers as the API does,
    // pretty-printed as Google prints it.
    const [gateServer, gatePort] = await listen((req, res) => {
      accessed.push(req.url ?? '');
      const answer = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
      if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
        answer(401, {
          error: { code: 401, message: 'Request is missing valid credentials.', status: 'UNAUTHENTICATED' },
        });
      } else if (refusal !== undefined) {
        answer(refusal.status, refusal.body);
      } else {
        fetch(`${secrets.emulator.url}${req.url}`)
          .then(async (upstream) => answer(upstream.status, await upstream.json()))
          .catch(() => answer(502, { error: { code: 502, message: 'gate: upstream failed', status: 'UNAVAILABLE' } }));
      }
    });
    metadata = metadataServer;
    gate = gateServer;
    env = {
      FLEETPLANE_SECRET: SECRET,
      FLEETPLANE_ENV_FILE: envFile,
      FLEETPLANE_BACKOFF_SECONDS: '0',
      SECRET_MANAGER_ENDPOINT: `http://127.0.0.1:${gatePort}`,
      GCE_METADATA_HOST: `127.0.0.1:${metadataPort}`,
    };
  });
  afterEach(async () => {
    await Promise.all([close(metadata), close(gate), secrets.emulator.close()]);
  });

  const setAliases = async (versionAliases: Record<string, number>) => {
    const response = await fetch(`${secrets.emulator.url}/v1/${SECRET}?updateMask=version_aliases`, {
      method: 'PATCH',
      body: JSON.stringify({ versionAliases }),
    });
    expect(response.status).toBe(200);
  };

  it('writes the version aliased current into the password line, keeps every other line and makes the file 0600', async () => {
    // Prepare: a newer version (a rotation's pending one) exists, but current names the one Sourcegraph accepts.
    secrets.createSecret(PROJECT, 'executor-token', 'first-token-of-the-secret-000');
    secrets.addVersion(PROJECT, 'executor-token', TOKEN);
    secrets.addVersion(PROJECT, 'executor-token', 'pending-token-not-yet-in-sourcegraph');
    await setAliases({ current: 2, pending: 3 });

    // Act
    const run = await runBash(GCP_SNIPPET, dir, env);

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
    expect(await modeOf(envFile)).toBe(0o600);
    expect(await leftovers(dir)).toEqual([]);
    expect(accessed).toEqual([`/v1/${SECRET}/versions/current:access`]);
    expect(metadataCalls).toEqual([
      { path: '/computeMetadata/v1/instance/service-accounts/default/token', flavor: 'Google' },
    ]);
    expect(run.output).toContain(`from ${SECRET}/versions/2 to ${envFile}`);
    for (const secret of [TOKEN, OLD_TOKEN, ACCESS_TOKEN]) {
      expect(run.output).not.toContain(secret);
    }
  });

  it('reads latest while the secret has no current alias (fleetplane has not rotated it yet)', async () => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', 'first-token-of-the-secret-000');
    secrets.addVersion(PROJECT, 'executor-token', TOKEN);

    // Act
    const run = await runBash(GCP_SNIPPET, dir, env);

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
    expect(accessed).toEqual([`/v1/${SECRET}/versions/current:access`, `/v1/${SECRET}/versions/latest:access`]);
    expect(run.output).toMatch(/has no version alias current .*reading latest/);
  });

  it("finds a bare secret id in the VM's project and adds the line to an env file that has none", async () => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', TOKEN);
    await writeFile(envFile, 'EXECUTOR_QUEUE_NAME="batches"\nEXECUTOR_FRONTEND_URL="https://sg.example.com"');

    // Act
    const run = await runBash(GCP_SNIPPET, dir, { ...env, FLEETPLANE_SECRET: 'executor-token' });

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(
      `EXECUTOR_QUEUE_NAME="batches"\nEXECUTOR_FRONTEND_URL="https://sg.example.com"\nEXECUTOR_FRONTEND_PASSWORD="${TOKEN}"\n`,
    );
    expect(metadataCalls.map((call) => call.path)).toContain('/computeMetadata/v1/project/project-id');
  });

  it('creates the env file when none exists yet', async () => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', TOKEN);
    const fresh = join(dir, 'etc');
    await mkdir(fresh);

    // Act
    const run = await runBash(GCP_SNIPPET, dir, { ...env, FLEETPLANE_ENV_FILE: join(fresh, 'executor.env') });

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(join(fresh, 'executor.env'), 'utf8')).toBe(`EXECUTOR_FRONTEND_PASSWORD="${TOKEN}"\n`);
    expect(await modeOf(join(fresh, 'executor.env'))).toBe(0o600);
  });

  it('retries while Secret Manager fails at boot, then writes the token', async () => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', TOKEN);
    secrets.emulator.injectFault({ kind: 'error', status: 503, operation: 'accessSecretVersion', times: 4 });

    // Act
    const run = await runBash(GCP_SNIPPET, dir, env);

    // Assess: each failed attempt tried current, got 503, and stopped there
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
    expect(run.output).toMatch(/attempt 4 of 6: Secret Manager answered HTTP 503 UNAVAILABLE/);
    expect(accessed).toHaveLength(6);
  });

  it('gives up non-zero with the file untouched, naming the missing scope and no secret', async () => {
    // Prepare: what a VM gets under the module's logging.write + monitoring.write scopes
    secrets.createSecret(PROJECT, 'executor-token', TOKEN);
    refusal = {
      status: 403,
      body: {
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          status: 'PERMISSION_DENIED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' }],
        },
      },
    };

    // Act
    const run = await runBash(GCP_SNIPPET, dir, { ...env, FLEETPLANE_ATTEMPTS: '3' });

    // Assess
    expect(run.code).toBe(1);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
    expect(await modeOf(envFile)).toBe(0o644);
    expect(await leftovers(dir)).toEqual([]);
    expect(accessed).toHaveLength(3);
    expect(run.output).toMatch(/giving up after 3 attempts: Secret Manager answered HTTP 403 PERMISSION_DENIED/);
    expect(run.output).toContain('https://www.googleapis.com/auth/cloud-platform');
    for (const secret of [TOKEN, OLD_TOKEN, ACCESS_TOKEN]) {
      expect(run.output).not.toContain(secret);
    }
  });

  it('gives up when the metadata server does not answer', async () => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', TOKEN);
    metadataDown = true;

    // Act
    const run = await runBash(GCP_SNIPPET, dir, { ...env, FLEETPLANE_ATTEMPTS: '2' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/giving up after 2 attempts: the metadata server did not answer/);
    expect(accessed).toEqual([]);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
  });

  it.each([
    ['command substitution', `$(touch pwned)${'a'.repeat(20)}`],
    ['backticks', `\`touch pwned\`${'a'.repeat(20)}`],
    ['a newline', `${'a'.repeat(20)}\ntouch pwned`],
    ['too short', 'hunter2'],
  ])('refuses a payload with %s without running it or retrying', async (_, value) => {
    // Prepare
    secrets.createSecret(PROJECT, 'executor-token', value);

    // Act
    const run = await runBash(GCP_SNIPPET, dir, env);

    // Assess
    expect(run.code).toBe(1);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
    expect(await leftovers(dir)).toEqual([]);
    expect(accessed).toHaveLength(2);
    expect(run.output).not.toContain(value);
    expect(run.output).toMatch(/is unchanged/);
  });

  it('writes a token full of shell metacharacters verbatim and runs none of it', async () => {
    // Prepare
    const value = `${'a'.repeat(20)};touch>pwned|(id)&*?#~!%[x]{y}<z>`;
    secrets.createSecret(PROJECT, 'executor-token', value);

    // Act
    const run = await runBash(GCP_SNIPPET, dir, env);

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(value));
    expect(await leftovers(dir)).toEqual([]);
    expect(run.output).not.toContain(value);
  });
});

describe('aws-executor-token.sh with a recording fake aws CLI', () => {
  let bin: string;
  let calls: string;

  beforeEach(async () => {
    bin = join(dir, 'bin');
    calls = join(dir, 'calls');
    await mkdir(bin);
    await mkdir(calls);
    // Records each call's argv, fails the first FAKE_AWS_FAILURES calls as a not-yet-usable role does, then prints
    // FAKE_AWS_VALUE the way `--output text` prints a SecretString.
    const fake = [
      '#!/usr/bin/env bash',
      'n=$(ls "$FAKE_AWS_CALLS" | wc -l)',
      'printf "%s\\n" "$@" > "$FAKE_AWS_CALLS/$n"',
      'if (( n < FAKE_AWS_FAILURES )); then',
      '  echo "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: not authorized" >&2',
      '  exit 254',
      'fi',
      'printf "%s\\n" "$FAKE_AWS_VALUE"',
      '',
    ].join('\n');
    await writeFile(join(bin, 'aws'), fake, { mode: 0o755 });
  });

  const env = (extra: Record<string, string> = {}) => ({
    PATH: `${bin}:/usr/bin:/bin`,
    FAKE_AWS_CALLS: calls,
    FAKE_AWS_VALUE: TOKEN,
    FAKE_AWS_FAILURES: '0',
    FLEETPLANE_SECRET_ID: ARN,
    FLEETPLANE_ENV_FILE: envFile,
    FLEETPLANE_BACKOFF_SECONDS: '0',
    ...extra,
  });
  const argvOf = async () => {
    const files = (await readdir(calls)).sort((a, b) => Number(a) - Number(b));
    return Promise.all(files.map(async (file) => (await readFile(join(calls, file), 'utf8')).trimEnd().split('\n')));
  };
  const others = async () => (await leftovers(dir)).filter((name) => name !== 'bin' && name !== 'calls');

  it("asks for AWSCURRENT in the ARN's region with nothing secret on the command line, and writes the token", async () => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, env());

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await argvOf()).toEqual([
      [
        'secretsmanager',
        'get-secret-value',
        '--secret-id',
        ARN,
        '--version-stage',
        'AWSCURRENT',
        '--query',
        'SecretString',
        '--output',
        'text',
        '--region',
        'eu-west-1',
        '--cli-connect-timeout',
        '5',
        '--cli-read-timeout',
        '10',
      ],
    ]);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
    expect(await modeOf(envFile)).toBe(0o600);
    expect(await others()).toEqual([]);
    expect(run.output).not.toContain(TOKEN);
    expect(run.output).not.toContain(OLD_TOKEN);
  });

  it('takes the region from FLEETPLANE_REGION for a secret given by name, and refuses to guess one', async () => {
    // Act
    const named = await runBash(
      AWS_SNIPPET,
      dir,
      env({ FLEETPLANE_SECRET_ID: 'executor-token', FLEETPLANE_REGION: 'us-east-2' }),
    );
    const unplaced = await runBash(AWS_SNIPPET, dir, env({ FLEETPLANE_SECRET_ID: 'executor-token' }));

    // Assess
    expect(named.code, named.output).toBe(0);
    expect((await argvOf())[0]).toEqual(
      expect.arrayContaining(['--secret-id', 'executor-token', '--region', 'us-east-2']),
    );
    expect(unplaced.code).toBe(1);
    expect(unplaced.output).toMatch(/no region/);
    expect(await argvOf()).toHaveLength(1);
  });

  it('retries while the instance role is not usable yet', async () => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, env({ FAKE_AWS_FAILURES: '2' }));

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await argvOf()).toHaveLength(3);
    expect(run.output).toMatch(/attempt 2 of 6: aws secretsmanager get-secret-value failed: .*AccessDeniedException/);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
  });

  it('gives up non-zero after its attempts and leaves the file as the module wrote it', async () => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, env({ FAKE_AWS_FAILURES: '99', FLEETPLANE_ATTEMPTS: '3' }));

    // Assess
    expect(run.code).toBe(1);
    expect(await argvOf()).toHaveLength(3);
    expect(run.output).toMatch(/giving up after 3 attempts: .*AccessDeniedException.*the executor will not start/);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
    expect(await modeOf(envFile)).toBe(0o644);
    expect(await others()).toEqual([]);
  });

  it.each([
    ['None (a binary secret)', 'None'],
    ['command substitution', `$(touch pwned)${'a'.repeat(20)}`],
    ['backticks', `\`touch pwned\`${'a'.repeat(20)}`],
    ['a space', `${'a'.repeat(20)} ; touch pwned`],
  ])('refuses a value with %s without running it or retrying', async (_, value) => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, env({ FAKE_AWS_VALUE: value }));

    // Assess
    expect(run.code).toBe(1);
    expect(await argvOf()).toHaveLength(1);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
    expect(await others()).toEqual([]);
    expect(run.output).not.toContain(value);
  });

  it('says so when the aws CLI is not installed', async () => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, env({ PATH: '/usr/bin:/bin' }));

    // Assess
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/the aws CLI is not installed/);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
  });
});

const hasAwsCli = spawnSync('aws', ['--version'], { env: isolatedEnv(), stdio: 'ignore' }).status === 0;

describe.runIf(hasAwsCli)('aws-executor-token.sh with the real aws CLI against the Secrets Manager emulator', () => {
  let emulator: Awaited<ReturnType<typeof startSecretsManagerEmulator>>;
  let env: Record<string, string>;

  beforeEach(async () => {
    emulator = await startSecretsManagerEmulator({ region: 'eu-west-1' });
    env = {
      AWS_ENDPOINT_URL: emulator.emulator.url,
      AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      // A CLI too old to read AWS_ENDPOINT_URL would call the real endpoint: send anything not loopback to a closed
      // loopback port instead (NO_PROXY keeps the emulator direct).
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      FLEETPLANE_ENV_FILE: envFile,
      FLEETPLANE_BACKOFF_SECONDS: '0',
    };
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('reads AWSCURRENT, not the pending version of a rotation under way', async () => {
    // Prepare
    const { arn } = emulator.createSecret('fleetplane/executor-token', TOKEN);
    const client = new SecretsManagerClient({ ...awsClientConfig(emulator.emulator, 'eu-west-1'), maxAttempts: 1 });
    await client.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: 'pending-token-not-yet-in-sourcegraph',
        VersionStages: ['AWSPENDING'],
      }),
    );
    client.destroy();

    // Act
    const run = await runBash(AWS_SNIPPET, dir, { ...env, FLEETPLANE_SECRET_ID: arn });

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(withPassword(TOKEN));
    expect(run.output).not.toContain(TOKEN);
  });

  it('gives up on a secret that does not exist', async () => {
    // Act
    const run = await runBash(AWS_SNIPPET, dir, {
      ...env,
      FLEETPLANE_SECRET_ID: 'missing-secret',
      FLEETPLANE_REGION: 'eu-west-1',
      FLEETPLANE_ATTEMPTS: '2',
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/giving up after 2 attempts: .*ResourceNotFoundException/);
    expect(await readFile(envFile, 'utf8')).toBe(MODULE_ENV);
  });
});
