/**
 * Structure checks on infra/gcp without terraform (which cannot be installed here). `blocksIn` is not an HCL parser:
 * it splits `terraform fmt`-formatted text into blocks by counting braces outside strings, comments and heredocs,
 * which is enough to look up one block's attributes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const INFRA = join(REPO_ROOT, 'infra', 'gcp');

export interface Block {
  readonly type: string;
  readonly labels: readonly string[];
  readonly body: string;
  /** The .tf file the block is in. */
  readonly file: string;
}

const OPENER = /^\s*([A-Za-z_][\w-]*)((?:\s+"[^"]*")*)\s*\{\s*$/;
const HEREDOC = /<<-?([A-Za-z_]\w*)\s*$/;

function braceDelta(line: string): number {
  const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/#.*$/, '');
  return (code.match(/\{/g)?.length ?? 0) - (code.match(/\}/g)?.length ?? 0);
}

/** The blocks at the outermost level of `text` (call again on a body for nested blocks). */
export function blocksIn(text: string, file = ''): Block[] {
  const blocks: Block[] = [];
  let depth = 0;
  let heredocEnd: string | undefined;
  let open: { type: string; labels: string[]; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (heredocEnd !== undefined) {
      open?.lines.push(line);
      heredocEnd = line.trim() === heredocEnd ? undefined : heredocEnd;
      continue;
    }
    const opener = depth === 0 ? OPENER.exec(line) : null;
    if (opener) {
      const labels = [...(opener[2] ?? '').matchAll(/"([^"]*)"/g)].map((match) => match[1] ?? '');
      open = { type: opener[1] ?? '', labels, lines: [] };
      depth = 1;
      continue;
    }
    depth += braceDelta(line);
    heredocEnd = HEREDOC.exec(line)?.[1];
    if (open && depth === 0) {
      blocks.push({ type: open.type, labels: open.labels, body: open.lines.join('\n'), file });
      open = undefined;
    } else {
      open?.lines.push(line);
    }
  }
  return blocks;
}

/** The expression text of a one-line attribute at the outermost level of a body. */
export function attribute(body: string, name: string): string | undefined {
  const outer = blocksIn(body).reduce((rest, block) => rest.replace(block.body, ''), body);
  return new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*(#.*)?$`, 'm').exec(outer)?.[1];
}

export function child(block: Block, type: string, label?: string): Block {
  const found = blocksIn(block.body).find(
    (candidate) => candidate.type === type && (label === undefined || candidate.labels[0] === label),
  );
  if (found === undefined) {
    throw new Error(`no ${type}${label ? ` "${label}"` : ''} block in ${block.type} ${block.labels.join(' ')}`);
  }
  return found;
}

export function children(block: Block, type: string): Block[] {
  return blocksIn(block.body).filter((candidate) => candidate.type === type);
}

/** Every .tf file of infra/gcp, as one list of top-level blocks and as text. */
export async function readInfra(): Promise<{ blocks: Block[]; allText: string }> {
  const files = (await readdir(INFRA)).filter((name) => name.endsWith('.tf')).sort();
  const texts = await Promise.all(files.map((name) => readFile(join(INFRA, name), 'utf8')));
  return {
    blocks: texts.flatMap((text, index) => blocksIn(text, files[index])),
    allText: texts.join('\n'),
  };
}

/** Finds top-level blocks by type and leading labels. */
export function finder(blocks: readonly Block[]) {
  return (type: string, ...labels: string[]): Block => {
    const found = blocks.find(
      (block) => block.type === type && labels.every((label, index) => block.labels[index] === label),
    );
    if (found === undefined) {
      throw new Error(`no ${type} ${labels.join(' ')} in infra/gcp`);
    }
    return found;
  };
}

/** Every IAM grant (member, binding or policy resource). */
export function iamGrants(blocks: readonly Block[]): Block[] {
  return blocks.filter(
    (block) => block.type === 'resource' && /_iam_(member|binding|policy)$/.test(block.labels[0] ?? ''),
  );
}
