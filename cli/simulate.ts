import { type FileHandle, open } from 'node:fs/promises';
import { GENERATORS, generateTrace, isGeneratorName } from '../simulator/generators.ts';
import type { Scenario, SimulationReport, Trace } from '../simulator/model.ts';
import { type FleetplaneOptions, POLICY_NAMES, type PolicyName, policiesNamed } from '../simulator/policies/index.ts';
import { renderHtml } from '../simulator/report/html.ts';
import { formatJson } from '../simulator/report/json.ts';
import { formatTable } from '../simulator/report/table.ts';
import { scenarioOf } from '../simulator/scenario.ts';
import { simulate } from '../simulator/simulate.ts';
import { formatTraceCsv, readTraceFile } from '../simulator/trace.ts';
import { UsageError } from './errors.ts';

export interface SimulateCommandOptions {
  readonly trace?: string;
  readonly generator?: string;
  readonly seed: number;
  readonly policies: string;
  readonly scenario: Partial<Scenario>;
  /** fleetplane's own config keys: the fleet's (`scaleInWindowSeconds`) and the document's (`pollIntervalSeconds`). */
  readonly fleetplane: Pick<FleetplaneOptions, 'fleet' | 'config'>;
  readonly json: boolean;
  readonly html?: string;
  readonly saveTrace?: string;
}

/** `fleetplane simulate`: the trace, the policies and the scenario from the command line; the report to stdout. */
export async function runSimulateCommand(
  options: SimulateCommandOptions,
  write: (text: string) => void,
): Promise<SimulationReport> {
  const trace = await traceFrom(options);
  const scenario = scenarioOf({ ...options.scenario, seed: options.seed });
  const policies = policiesNamed(policyNames(options.policies), { fleetplane: options.fleetplane });
  // Output files are opened before the simulation, so a bad path is reported at once, not after the run.
  const html = options.html === undefined ? undefined : await outputFile(options.html, '--html');
  if (options.saveTrace !== undefined) {
    const saved = await outputFile(options.saveTrace, '--save-trace');
    await writeAndClose(saved, formatTraceCsv(trace));
  }
  const report = await simulate(trace, scenario, policies);
  if (html !== undefined) {
    await writeAndClose(html, renderHtml(report));
  }
  write(options.json ? formatJson(report) : formatTable(report));
  if (!options.json && options.html !== undefined) {
    write(`report written to ${options.html}\n`);
  }
  return report;
}

async function outputFile(path: string, flag: string): Promise<FileHandle> {
  try {
    return await open(path, 'w');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`${flag} ${path}: cannot write there (${reason})`, { cause: error });
  }
}

async function writeAndClose(file: FileHandle, text: string): Promise<void> {
  try {
    await file.writeFile(text);
  } finally {
    await file.close();
  }
}

async function traceFrom(options: SimulateCommandOptions): Promise<Trace> {
  if ((options.trace === undefined) === (options.generator === undefined)) {
    throw new UsageError('give exactly one of --trace <file.csv> or --generator <name>');
  }
  if (options.trace !== undefined) {
    return readTraceFile(options.trace);
  }
  const name = options.generator ?? '';
  if (!isGeneratorName(name)) {
    throw new UsageError(`unknown generator "${name}"; choose one of ${Object.keys(GENERATORS).join(', ')}`);
  }
  return generateTrace(name, options.seed);
}

function policyNames(list: string): PolicyName[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(POLICY_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `unknown polic${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((name) => `"${name}"`).join(', ') || '(none given)'}; ` +
        `choose from ${POLICY_NAMES.join(', ')}`,
    );
  }
  return [...new Set(names)] as PolicyName[];
}
