#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatSummary, runLocalDemo } from '../local/demo.ts';
import { RotationError } from '../shared/app/rotation.ts';
import { ConfigError } from '../shared/config/index.ts';
import { isRecord } from '../shared/domain/guards.ts';
import { SecretSourceError } from '../shared/ports/errors.ts';
import { GENERATORS } from '../simulator/generators.ts';
import { POLICY_NAMES } from '../simulator/policies/index.ts';
import { runLocalCommand } from './local.ts';
import { runPlanCommand } from './plan.ts';
import { registerPrometheusConfigCommand } from './prometheus-config.ts';
import { runRotateCommand } from './rotate.ts';
import { runSimulateCommand } from './simulate.ts';

/** Errors a user can fix from the message alone: printed without a stack trace. */
const USER_ERRORS = new Set([
  'ConfigError',
  'DeployPlanError',
  'UsageError',
  'DemoFailedError',
  'TraceError',
  'ScenarioError',
  'PolicyOptionsError',
]);

const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = isRecord(manifest) && typeof manifest.version === 'string' ? manifest.version : 'unknown';

function minutesOf(value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > 24 * 60) {
    throw new InvalidArgumentError('must be a number of minutes from 0 to 1440');
  }
  return minutes;
}

export function buildCli(): Command {
  const program = new Command('fleetplane')
    .description('Control plane for Sourcegraph executor fleets')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('rotate')
    .description("rotate the executors' shared secret: store a new token, write it into Sourcegraph, check, promote")
    .requiredOption('-c, --config <file>', 'fleetplane config document naming executorSecret (YAML or JSON)')
    .option('--rotation <id>', 'resume this rotation (its id); default: the one under way, else a new one')
    .option(
      '--wait <minutes>',
      "follow the fleets' rolls this long before reporting (0: start them and report at once)",
      minutesOf,
      60,
    )
    .option('--json', 'print the report as JSON', false)
    .action(async (options: { config: string; rotation?: string; wait: number; json: boolean }) => {
      await runRotateCommand(options, process.env, (text) => process.stdout.write(text));
    });

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

  registerPrometheusConfigCommand(program);

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

  program
    .command('simulate')
    .description(
      'replay a day of executor jobs against fleetplane and the scalers it replaces, on simulated time, ' +
        'and compare job wait, instance-minutes, scale actions and interrupted jobs',
    )
    .option('--trace <file>', 'CSV trace with header arrival_s,queue,duration_s')
    .option('--generator <name>', `synthetic day instead: ${Object.keys(GENERATORS).join(', ')}`)
    .option('--seed <n>', 'seed for the generator and for which instances a scale-in removes', seed, 1)
    .option('--policies <list>', 'comma-separated policies to compare', POLICY_NAMES.join(','))
    .option('--boot <seconds>', 'seconds from launch until an executor takes jobs', wholeNumber)
    .option('--slots <n>', 'jobs one executor runs at once (EXECUTOR_MAXIMUM_NUM_JOBS)', positiveInteger)
    .option('--jobs-per-instance <n>', 'scaling ratio every policy sizes by (default: --slots)', positiveInteger)
    .option('--min <n>', 'minimum instances', wholeNumber)
    .option('--max <n>', 'maximum instances', positiveInteger)
    .option('--tail <seconds>', 'seconds simulated after the trace ends', wholeNumber)
    .option('--window <seconds>', "fleetplane's scale-in stabilization window", positiveInteger)
    .option('--poll <seconds>', "fleetplane's seconds between cycles", positiveInteger)
    .option('--invocation <seconds>', 'seconds one fleetplane invocation keeps polling', positiveInteger)
    .option(
      '--scale-in <mode>',
      "fleetplane's scale-in: resize (the cloud picks), busy-signal (idle instances only) or attrition (none removed)",
    )
    .option('--retire-after-jobs <n>', 'executors exit after this many jobs (EXECUTOR_NUM_TOTAL_JOBS)', positiveInteger)
    .option(
      '--retire-after <seconds>',
      'executors exit after this long in service (EXECUTOR_MAX_ACTIVE_TIME)',
      positiveInteger,
    )
    .option('--json', 'print the full report, timelines included, as JSON', false)
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .option('--save-trace <file>', 'write the trace replayed (e.g. a generated one) as CSV')
    .action(async (options: SimulateFlags) => {
      await runSimulateCommand(simulateOptions(options), (text) => process.stdout.write(text));
    });

  return program;
}

interface SimulateFlags {
  trace?: string;
  generator?: string;
  seed: number;
  policies: string;
  boot?: number;
  slots?: number;
  jobsPerInstance?: number;
  min?: number;
  max?: number;
  tail?: number;
  window?: number;
  poll?: number;
  invocation?: number;
  scaleIn?: string;
  retireAfterJobs?: number;
  retireAfter?: number;
  json: boolean;
  html?: string;
  saveTrace?: string;
}

function simulateOptions(flags: SimulateFlags) {
  const defined = <T extends object>(values: T) =>
    Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
  return {
    ...defined({ trace: flags.trace, generator: flags.generator, html: flags.html, saveTrace: flags.saveTrace }),
    seed: flags.seed,
    policies: flags.policies,
    json: flags.json,
    scenario: defined({
      bootSeconds: flags.boot,
      maxJobsPerInstance: flags.slots,
      // Sizing by the executor's slots unless told otherwise: one instance per slots' worth of jobs.
      jobsPerInstance: flags.jobsPerInstance ?? flags.slots,
      minInstances: flags.min,
      maxInstances: flags.max,
      tailSeconds: flags.tail,
      retireAfterJobs: flags.retireAfterJobs,
      retireAfterSeconds: flags.retireAfter,
    }),
    fleetplane: {
      fleet: defined({
        scaleInWindowSeconds: flags.window,
        scaleIn: flags.scaleIn === undefined ? undefined : { mode: flags.scaleIn },
      }),
      config: defined({ pollIntervalSeconds: flags.poll, invocationSeconds: flags.invocation }),
    },
  };
}

/** The generators' random source keeps 32 bits: a larger seed would silently repeat a smaller one's trace. */
function seed(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0xffff_ffff) {
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295');
  }
  return parsed;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a whole number');
  }
  return parsed;
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
    if (error instanceof RotationError) {
      // A rotation that stopped says where, and whether running it again can get further.
      const again = error.retryable ? ' (run again to resume it)' : '';
      process.stderr.write(`fleetplane: rotation stopped at ${error.message}${again}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
