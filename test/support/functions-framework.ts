import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { isolatedEnv } from '../../local/child-env.ts';
import { runNode } from './run-node.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FRAMEWORK = join(ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');

/**
 * `npm run build`'s GCP package, built once for the test file into a temporary directory (removed after it) with the
 * repository's node_modules linked beside it: what Cloud Functions' install gives the package. Returns the package
 * directory, readable once the file's tests run.
 */
export function useBuiltGcpPackage(): () => string {
  let out: string | undefined;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fleetplane-gcp-package-'));
    const build = await runNode(join(ROOT, 'scripts/build.ts'), ['--out', out]);
    expect(build.code, build.stderr).toBe(0);
    await symlink(join(ROOT, 'node_modules'), join(out, 'gcp', 'node_modules'), 'dir');
  }, 180_000);
  afterAll(async () => {
    if (out !== undefined) {
      await rm(out, { recursive: true, force: true });
    }
  });
  return () => {
    if (out === undefined) {
      throw new Error('the GCP package is built in beforeAll: read it inside a test or hook');
    }
    return join(out, 'gcp');
  };
}

/** The real functions-framework serving one built function on a loopback port, its output collected. */
export interface FrameworkServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Everything the server printed so far, both streams. */
  log(): string;
  /**
   * Resolves once the log matches `pattern`, or after `timeoutMs` (the caller's assertion then says what is missing):
   * lines arrive through a pipe, after the HTTP answers may have.
   */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): void;
}

export interface FrameworkOptions {
  /** The built file (or directory whose package.json names it) holding the function. */
  readonly source: string;
  readonly target: string;
  readonly signature?: 'http' | 'cloudevent';
  /** The function's environment, on top of an isolated one. */
  readonly env: Readonly<Record<string, string>>;
}

/** Starts the server and waits for its banner: any HTTP request would run the function, so that is readiness. */
export async function startFunctionsFramework(options: FrameworkOptions): Promise<FrameworkServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      FRAMEWORK,
      `--target=${options.target}`,
      `--signature-type=${options.signature ?? 'http'}`,
      `--source=${options.source}`,
      `--port=${port}`,
    ],
    { env: isolatedEnv({ ...options.env }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  const server: FrameworkServer = {
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async waitForLog(pattern, timeoutMs = 5_000) {
      for (const until = Date.now() + timeoutMs; !pattern.test(log) && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => {
      child.kill('SIGKILL');
    },
  };
  await server.waitForLog(/URL: http/, 30_000);
  if (!/URL: http/.test(log)) {
    server.stop();
    throw new Error(`functions-framework did not start:\n${log}`);
  }
  return server;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') {
    throw new Error('no free port');
  }
  return address.port;
}
