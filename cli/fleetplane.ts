#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatSummary, runLocalDemo } from '../local/demo.ts';
import { ConfigError } from '../shared/config/index.ts';
import { isRecord } from '../shared/domain/guards.ts';
import { SecretSourceError } from '../shared/ports/errors.ts';
import { runLocalCommand } from './local.ts';
import { runPlanCommand } from './plan.ts';

/** Errors a user can fix from the message alone: printed without a stack trace. */
const USER_ERRORS = new Set(['ConfigError', 'DeployPlanError', 'UsageError', 'DemoFailedError']);

const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = isRecord(manifest) && typeof manifest.version === 'string' ? manifest.version : 'unknown';

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

  program
    .command('start')
    .description(
      'run the real scale function in direct mode against the local stack with a burst-then-lull workload, ' +
        'showing a live view, then a summary (what `npm start` runs)',
    )
    .option('--duration <seconds>', 'how long the run lasts', positiveInteger, 130)
    .option('--poll <seconds>', 'seconds between scaling cycles', positiveInteger, 2)
    .option('--boot <seconds>', 'seconds an instance takes to boot', positiveInteger, 6)
    .option('--window <seconds>', 'scale-in stabilization window, 60 or more', positiveInteger, 60)
    .option('--seed <n>', 'seed for job durations', positiveInteger, 1)
    .option('--no-live', 'print progress lines instead of redrawing the view')
    .action(
      async (options: {
        duration: number;
        poll: number;
        boot: number;
        window: number;
        seed: number;
        live: boolean;
      }) => {
        const summary = await runLocalDemo({
          durationSeconds: options.duration,
          pollIntervalSeconds: options.poll,
          bootDelaySeconds: options.boot,
          scaleInWindowSeconds: options.window,
          seed: options.seed,
          interactive: options.live && process.stdout.isTTY === true,
          write: (text) => process.stdout.write(text),
        });
        process.stdout.write(formatSummary(summary));
      },
    );

  program
    .command('local')
    .description('start the local stack alone and print its endpoints and a ready-to-use config')
    .option('--workload', 'also feed it the burst-then-lull workload', false)
    .option('--seed <n>', 'seed for job durations', positiveInteger, 1)
    .action((options: { workload: boolean; seed: number }) =>
      runLocalCommand(options, (text) => process.stdout.write(text)),
    );

  return program;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a whole number above 0');
  }
  return parsed;
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
    if (
      error instanceof ConfigError ||
      error instanceof SecretSourceError ||
      (error instanceof Error && USER_ERRORS.has(error.name))
    ) {
      process.stderr.write(`fleetplane: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
