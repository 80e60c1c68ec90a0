/**
 * `node scripts/hcl-format.ts --check infra/gcp`: checks that every `.tf` and `.tfvars` file under the given
 * directories is formatted, lists the ones that are not and exits 1. `--write` rewrites them instead.
 *
 * This is not terraform. Terraform cannot be installed here (it is in neither npm nor Debian, and downloads from
 * releases.hashicorp.com are blocked), so `terraform fmt -check` cannot run in CI. `terraform fmt` is built on the
 * `hclwrite` formatter of hashicorp/hcl, and `@cdktf/hcl-tools` is that Go formatter compiled to WebAssembly: same
 * spacing, alignment and indentation, offline. What it does not do:
 *
 * - `terraform fmt` also rewrites two legacy forms (an interpolation-only string `"${var.x}"` becomes `var.x`, a
 *   quoted type constraint `type = "string"` becomes `type = string`); this script reports those instead.
 * - hclwrite formats tokens without parsing the configuration, so a syntax error is not reported here; only
 *   `terraform validate` (where terraform is available) checks syntax and references.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { format } from '@cdktf/hcl-tools';

const HCL_EXTENSIONS = ['.tf', '.tfvars'];
/** Provider downloads and caches, never ours to format. */
const SKIPPED_DIRECTORIES = new Set(['.terraform', 'node_modules', '.build']);

type Mode = 'check' | 'write';

interface FileResult {
  readonly file: string;
  readonly formatted: boolean;
  readonly legacyForms: readonly string[];
}

/**
 * The rewrites `terraform fmt` applies on top of hclwrite, found line by line: an interpolation-only string anywhere,
 * a quoted `type` directly inside a `variable` block (braces inside strings are not counted; good enough for our
 * files, which `terraform validate` checks properly where it can run).
 */
const INTERPOLATION_ONLY = /=\s*"\$\{[^"{}]*\}"\s*(#.*)?$/;
const QUOTED_TYPE = /^\s*type\s*=\s*"/;
const VARIABLE_BLOCK = /^variable\s+"[^"]*"\s*\{/;

function braceDelta(line: string): number {
  const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/#.*$/, '');
  return (code.match(/\{/g)?.length ?? 0) - (code.match(/\}/g)?.length ?? 0);
}

function legacyFormsIn(text: string): string[] {
  const found: string[] = [];
  let depth = 0;
  let inVariable = false;
  text.split('\n').forEach((line, index) => {
    if (depth === 0) {
      inVariable = VARIABLE_BLOCK.test(line);
    }
    if (INTERPOLATION_ONLY.test(line)) {
      found.push(`line ${index + 1}: interpolation-only string ("\${x}" → x)`);
    }
    if (inVariable && depth === 1 && QUOTED_TYPE.test(line)) {
      found.push(`line ${index + 1}: quoted type constraint (type = "string" → type = string)`);
    }
    depth += braceDelta(line);
  });
  return found;
}

async function hclFilesUnder(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) {
    return [path];
  }
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        return SKIPPED_DIRECTORIES.has(entry.name) ? [] : hclFilesUnder(child);
      }
      return HCL_EXTENSIONS.some((extension) => entry.name.endsWith(extension)) ? [child] : [];
    }),
  );
  return nested.flat().sort();
}

async function formatFile(file: string, mode: Mode): Promise<FileResult> {
  const original = await readFile(file, 'utf8');
  const formattedText = await format(original);
  const formatted = formattedText === original;
  if (!formatted && mode === 'write') {
    await writeFile(file, formattedText);
  }
  return { file, formatted, legacyForms: legacyFormsIn(original) };
}

function parseArguments(argv: readonly string[]): { mode: Mode; paths: string[] } | undefined {
  const write = argv.includes('--write');
  const check = argv.includes('--check');
  const paths = argv.filter((argument) => !argument.startsWith('--'));
  const unknown = argv.filter(
    (argument) => argument.startsWith('--') && argument !== '--write' && argument !== '--check',
  );
  if (write === check || paths.length === 0 || unknown.length > 0) {
    return undefined;
  }
  return { mode: write ? 'write' : 'check', paths };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArguments(argv);
  if (parsed === undefined) {
    console.error('usage: node scripts/hcl-format.ts (--check | --write) <directory or file>...');
    return 2;
  }
  const files = (await Promise.all(parsed.paths.map(hclFilesUnder))).flat();
  if (files.length === 0) {
    console.error(`hcl-format: no .tf or .tfvars files under ${parsed.paths.join(', ')}`);
    return 2;
  }
  // One at a time: the WebAssembly formatter is a single Go instance.
  const results: FileResult[] = [];
  for (const file of files) {
    results.push(await formatFile(file, parsed.mode));
  }

  const cwd = process.cwd();
  const unformatted = results.filter((result) => !result.formatted);
  const legacy = results.filter((result) => result.legacyForms.length > 0);
  for (const result of unformatted) {
    console.log(parsed.mode === 'write' ? `formatted ${relative(cwd, result.file)}` : relative(cwd, result.file));
  }
  for (const result of legacy) {
    for (const form of result.legacyForms) {
      console.log(`${relative(cwd, result.file)}: ${form} (terraform fmt would rewrite it; fix by hand)`);
    }
  }
  if (parsed.mode === 'check' && unformatted.length > 0) {
    console.error(`hcl-format: ${unformatted.length} of ${results.length} files need formatting (run with --write)`);
  }
  const failed = (parsed.mode === 'check' && unformatted.length > 0) || legacy.length > 0;
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
