#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../shared/config/index.ts';
import { isRecord } from '../shared/domain/guards.ts';
import { runPlanCommand } from './plan.ts';

/** Errors a user can fix from the message alone: printed without a stack trace. */
const USER_ERRORS = new Set(['ConfigError', 'AwsConfigSourceError', 'DeployPlanError', 'UsageError']);

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildCli(): Command {
  const program = new Command('fleetplane')
    .description('Control plane for Sourcegraph executor fleets')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('plan')
    .description('run one read-only cycle: depth, current and desired size, and the reason, per fleet')
    .requiredOption('-c, --config <file>', 'fleetplane config document (YAML or JSON)')
    .option('--publish', 'also write the queue-size metric (nothing else is changed)', false)
    .option('--json', 'print the full cycle report as JSON', false)
    .action(async (options: { config: string; publish: boolean; json: boolean }) => {
      const report = await runPlanCommand(options, process.env, (text) => process.stdout.write(text));
      if (report.allFailed) {
        process.exitCode = 1;
      }
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildCli().parseAsync([...argv], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message and the help.
      return error.exitCode;
    }
    if (error instanceof Error && (USER_ERRORS.has(error.name) || error instanceof ConfigError)) {
      process.stderr.write(`fleetplane: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
