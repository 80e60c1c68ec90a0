import { spawn } from 'node:child_process';
import { isolatedEnv } from '../../local/child-env.ts';

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Node script in its own process with an isolated environment (plus `env`), collecting its output. */
export function runNode(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: isolatedEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Every structured log line a run wrote, on either stream: on Lambda, Powertools writes warnings and errors to stderr
 * (CloudWatch Logs collects both). Each stream keeps its own order.
 */
export function logLines(run: NodeRun): Record<string, unknown>[] {
  return [...jsonLines(run.stdout), ...jsonLines(run.stderr)];
}

/** The JSON lines of a structured log. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line): Record<string, unknown> => JSON.parse(line));
}
