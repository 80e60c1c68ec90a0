import {
  applyEdits,
  createScanner,
  type Edit,
  findNodeAtLocation,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
  type SyntaxKind,
} from 'jsonc-parser';
import { checkExecutorToken } from '../domain/executor-token.ts';

/**
 * Edits the executor token in Sourcegraph's site configuration text (JSONC, from `effectiveContents`) and changes
 * nothing else: the text goes back whole through `updateSiteConfiguration`, so every comment, blank line, trailing
 * comma and other secret must survive byte for byte. Other secrets read back as `"REDACTED"`, and Sourcegraph puts
 * their stored values back on write only while they still say exactly that.
 */

/**
 * One top-level key that contains a dot, as Sourcegraph's site schema spells it (like `"auth.providers"`): never an
 * `executors` object with an `accessToken` inside. Such an object is not Sourcegraph's and is left alone.
 */
export const EXECUTOR_TOKEN_KEY = 'executors.accessToken';

export type SiteConfigProblem = 'invalid-jsonc' | 'not-an-object' | 'duplicate-key' | 'not-a-string';

/** The site configuration text cannot be edited safely. Messages say what is wrong and where, never the text. */
export class SiteConfigTextError extends Error {
  override readonly name: string = 'SiteConfigTextError';
  readonly problem: SiteConfigProblem;

  constructor(problem: SiteConfigProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.problem = problem;
  }
}

// What Sourcegraph's own JSONC parser accepts: comments and trailing commas, but not an empty document.
const PARSE_OPTIONS = { disallowComments: false, allowTrailingComma: true, allowEmptyContent: false } as const;
// Sourcegraph's default site configuration is indented with two spaces.
const DEFAULT_INDENT = '  ';
const DEFAULT_SEPARATOR = ': ';
const MAX_REPORTED_PARSE_ERRORS = 3;

// jsonc-parser's `SyntaxKind` is a const enum, which `isolatedModules` code cannot read at run time: the values it
// declares, checked against its type.
const Kind: {
  readonly OpenBrace: SyntaxKind.OpenBraceToken;
  readonly CloseBrace: SyntaxKind.CloseBraceToken;
  readonly OpenBracket: SyntaxKind.OpenBracketToken;
  readonly CloseBracket: SyntaxKind.CloseBracketToken;
  readonly Comma: SyntaxKind.CommaToken;
  readonly LineComment: SyntaxKind.LineCommentTrivia;
  readonly BlockComment: SyntaxKind.BlockCommentTrivia;
  readonly EOF: SyntaxKind.EOF;
} = {
  OpenBrace: 1,
  CloseBrace: 2,
  OpenBracket: 3,
  CloseBracket: 4,
  Comma: 5,
  LineComment: 12,
  BlockComment: 13,
  EOF: 17,
};

/**
 * `contents` with `executors.accessToken` set to `token` and every other byte as it was. An existing value is
 * replaced in place; a missing key is added as the root object's last property, with the text's own line ending,
 * indentation and `key: value` spacing (and a trailing comma when the last property has one).
 *
 * Throws `ExecutorTokenError` for a token Sourcegraph or an executor would not accept, and `SiteConfigTextError`
 * when the text is not JSONC, its root is not an object, or it holds the key twice.
 */
export function withExecutorToken(contents: string, token: string): string {
  checkExecutorToken(token);
  const root = rootObject(contents);
  const value = tokenValue(root);
  const edits: Edit[] =
    value === undefined
      ? insertion(contents, root, token)
      : [{ offset: value.offset, length: value.length, content: JSON.stringify(token) }];
  return applyEdits(contents, edits);
}

/**
 * The executor token as the text holds it (usually `"REDACTED"` in `effectiveContents`), or `undefined` when the key
 * is absent. Throws `SiteConfigTextError` as `withExecutorToken` does, and when the value is not a string.
 */
export function executorTokenOf(contents: string): string | undefined {
  const value = tokenValue(rootObject(contents));
  if (value === undefined) {
    return undefined;
  }
  if (value.type !== 'string' || typeof value.value !== 'string') {
    throw new SiteConfigTextError(
      'not-a-string',
      `site configuration ${EXECUTOR_TOKEN_KEY} must be a string, found ${value.type}`,
    );
  }
  return value.value;
}

function rootObject(contents: string): Node {
  const errors: ParseError[] = [];
  const root = parseTree(contents, errors, PARSE_OPTIONS);
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_PARSE_ERRORS).map((error) => {
      const { line, column } = positionOf(contents, error.offset);
      return `${printParseErrorCode(error.error)} at line ${line}, column ${column}`;
    });
    const more = errors.length > shown.length ? ` (and ${errors.length - shown.length} more)` : '';
    const message = `site configuration is not valid JSONC: ${shown.join('; ')}${more}`;
    // The cause carries only codes and offsets, so it is as safe to log as the message.
    throw new SiteConfigTextError('invalid-jsonc', message, { cause: errors });
  }
  if (root?.type !== 'object') {
    throw new SiteConfigTextError(
      'not-an-object',
      `site configuration must be a JSON object at the top level, found ${root?.type ?? 'nothing'}`,
    );
  }
  return root;
}

/** The value node of the one `executors.accessToken` property, if any. */
function tokenValue(root: Node): Node | undefined {
  const count = (root.children ?? []).filter((property) => property.children?.[0]?.value === EXECUTOR_TOKEN_KEY).length;
  if (count > 1) {
    // Which copy wins differs between parsers; editing one could leave the other in force.
    throw new SiteConfigTextError('duplicate-key', `site configuration sets ${EXECUTOR_TOKEN_KEY} ${count} times`);
  }
  return findNodeAtLocation(root, [EXECUTOR_TOKEN_KEY]);
}

/**
 * Edits that add the property after the root's last one. `modify` from jsonc-parser is not used here: with formatting
 * options it reformats the neighbouring line, and without them it puts the property on the previous property's line.
 */
function insertion(contents: string, root: Node, token: string): Edit[] {
  const properties = root.children ?? [];
  const last = properties.at(-1);
  const afterLast = last === undefined ? root.offset + 1 : last.offset + last.length;
  const trailingComma = last === undefined ? undefined : commaAfter(contents, afterLast);
  const property = `${JSON.stringify(EXECUTOR_TOKEN_KEY)}${separatorOf(contents, properties)}${JSON.stringify(token)}`;
  const added = placement(contents, root, property, trailingComma);
  if (last === undefined || trailingComma !== undefined) {
    return [added];
  }
  // The last property gets the comma it lacked, right after its value so a comment behind it stays behind it.
  if (added.offset === afterLast) {
    return [{ ...added, content: `,${added.content}` }];
  }
  return [{ offset: afterLast, length: 0, content: ',' }, added];
}

/** Where the new property goes and how it is laid out; `trailingComma` is the offset of the last one's, if any. */
function placement(contents: string, root: Node, property: string, trailingComma: number | undefined): Edit {
  const close = root.offset + root.length - 1;
  const last = root.children?.at(-1);
  if (!/[\r\n]/.test(contents.slice(root.offset, close))) {
    // A one-line object stays on one line: `{"a": 1}` becomes `{"a": 1, "executors.accessToken": "…"}`.
    if (last === undefined) {
      return { offset: root.offset + 1, length: 0, content: property };
    }
    return trailingComma === undefined
      ? { offset: last.offset + last.length, length: 0, content: ` ${property}` }
      : { offset: trailingComma + 1, length: 0, content: ` ${property},` };
  }
  const eol = lineBreakOf(contents);
  const line = `${indentOf(contents, root)}${property}${trailingComma === undefined ? '' : ','}`;
  const closeLineStart = lineStartOf(contents, close);
  if (/^[ \t]*$/.test(contents.slice(closeLineStart, close))) {
    // The closing brace starts its own line: the new line goes just before it, after any trailing comments.
    return { offset: closeLineStart, length: 0, content: `${line}${eol}` };
  }
  // Something precedes the brace on its line (`"a": 1 }`): the new line goes before the spaces ahead of the brace, so
  // that no line is left ending in whitespace.
  const spacesBeforeClose = /[ \t]*$/.exec(contents.slice(closeLineStart, close))?.[0].length ?? 0;
  return { offset: close - spacesBeforeClose, length: 0, content: `${eol}${line}${eol}` };
}

/** The offset of the comma after the root's last property (a trailing comma), if there is one. */
function commaAfter(contents: string, offset: number): number | undefined {
  // This scanner skips comments as well as whitespace: the next token is the comma or the closing brace.
  const scanner = createScanner(contents, true);
  scanner.setPosition(offset);
  return scanner.scan() === Kind.Comma ? scanner.getTokenOffset() : undefined;
}

/** The text's first line ending, so a CRLF file gets no lone LF. */
function lineBreakOf(contents: string): string {
  return /\r\n|\r|\n/.exec(contents)?.[0] ?? '\n';
}

/**
 * The whitespace before the root's properties (tabs or spaces, of whatever width), or before a comment directly in
 * the root when it has no property starting a line.
 */
function indentOf(contents: string, root: Node): string {
  for (const property of root.children ?? []) {
    const indent = leadingWhitespace(contents, property.offset);
    if (indent !== undefined) {
      return indent;
    }
  }
  const scanner = createScanner(contents, false);
  scanner.setPosition(root.offset);
  let depth = 0;
  for (
    let kind = scanner.scan();
    kind !== Kind.EOF && scanner.getTokenOffset() < root.offset + root.length;
    kind = scanner.scan()
  ) {
    if (kind === Kind.CloseBrace || kind === Kind.CloseBracket) {
      depth -= 1;
    } else if (kind === Kind.OpenBrace || kind === Kind.OpenBracket) {
      depth += 1;
    } else if (depth === 1 && (kind === Kind.LineComment || kind === Kind.BlockComment)) {
      const indent = leadingWhitespace(contents, scanner.getTokenOffset());
      if (indent !== undefined) {
        return indent;
      }
    }
  }
  return DEFAULT_INDENT;
}

/** The spaces and tabs between the start of `offset`'s line and `offset`, if nothing else is there. */
function leadingWhitespace(contents: string, offset: number): string | undefined {
  const before = contents.slice(lineStartOf(contents, offset), offset);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

/** The offset where `offset`'s line starts: after the closest CR or LF before it. */
function lineStartOf(contents: string, offset: number): number {
  return Math.max(contents.lastIndexOf('\n', offset - 1), contents.lastIndexOf('\r', offset - 1)) + 1;
}

/** The `key: value` spacing the text already uses (`": "`, `":"`, `" : "`), taken from its first simple property. */
function separatorOf(contents: string, properties: readonly Node[]): string {
  for (const property of properties) {
    const [key, value] = property.children ?? [];
    if (key !== undefined && value !== undefined) {
      const between = contents.slice(key.offset + key.length, value.offset);
      if (/^[ \t]*:[ \t]*$/.test(between)) {
        return between;
      }
    }
  }
  return DEFAULT_SEPARATOR;
}

/** 1-based line and column of `offset`, counting CRLF, CR and LF as one line break each. */
function positionOf(contents: string, offset: number): { line: number; column: number } {
  const breaks = contents.slice(0, offset).match(/\r\n|\r|\n/g) ?? [];
  return { line: breaks.length + 1, column: offset - lineStartOf(contents, offset) + 1 };
}
