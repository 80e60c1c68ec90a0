import fc from 'fast-check';
import { type ParseError, parse, parseTree } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { ExecutorTokenError, executorTokenFrom } from '../../../shared/domain/executor-token.ts';
import {
  EXECUTOR_TOKEN_KEY,
  executorTokenOf,
  type SiteConfigProblem,
  SiteConfigTextError,
  withExecutorToken,
} from '../../../shared/sourcegraph/site-config-edit.ts';

const TOKEN = 'Zq3_-k9PfLx0aWb7cR2dYt5uVn8mJh1gE4sT6oIe';
const OTHER_TOKEN = 'abcdefghijklmnopqrstuvwxyz0123456789-_AB';

/** Lines joined with `eol`: keeps the expected texts readable. */
const lines = (eol: string, ...text: string[]) => text.join(eol);

describe('withExecutorToken on a config that has the key', () => {
  it('replaces only the value of the redacted token, keeping comments and other redacted secrets', () => {
    // Prepare
    const contents = lines(
      '\n',
      '// Site configuration for sourcegraph.example.com',
      '{',
      '  // The externally accessible URL for Sourcegraph.',
      '  "externalURL": "https://sourcegraph.example.com",',
      '  "auth.providers": [',
      '    { "type": "builtin" },',
      '    { "type": "github", "clientID": "abc", "clientSecret": "REDACTED" },',
      '  ],',
      '  "email.smtp": { "username": "REDACTED", "password": "REDACTED-DATA-CHUNK-f434ecc765" },',
      '  /* executors */ "executors.accessToken": /* before */ "REDACTED" /* after */, // rotated by fleetplane',
      '  "executors.frontendURL": "http://sourcegraph-frontend:30080",',
      '}',
      '',
    );

    // Act
    const edited = withExecutorToken(contents, TOKEN);

    // Assess
    expect(edited).toBe(contents.replace('/* before */ "REDACTED"', `/* before */ "${TOKEN}"`));
    expect(executorTokenOf(edited)).toBe(TOKEN);
  });

  it.each([
    ['CRLF line endings and tabs', '{\r\n\t"a": 1,\r\n\t"executors.accessToken": "REDACTED",\r\n}\r\n'],
    ['the key last, without a trailing comma', '{\n    "a": [1, 2],\n    "executors.accessToken": "REDACTED"\n}'],
    ['the key first, on one line', '{"executors.accessToken":"REDACTED","a":{"b":null}}'],
    ['the key spelled with an escape', '{ "executors\\u002eaccessToken": "REDACTED" }'],
    ['a value that is not a string', '{ "executors.accessToken": null }'],
    ['a value that is an object', '{ "executors.accessToken": { "nested": ["x"] } }'],
    ['unicode around it', '{ "名前": "値 🔑", /* ✓ */ "executors.accessToken": "RÉDACTÉ😀😀" /* 😀 */, "z": "ß" }'],
  ])('replaces the value span alone with %s', (_name, contents) => {
    // Prepare
    const value = valueSpan(contents);

    // Act
    const edited = withExecutorToken(contents, TOKEN);

    // Assess
    expect(edited).toBe(`${contents.slice(0, value.start)}"${TOKEN}"${contents.slice(value.end)}`);
    expect(executorTokenOf(edited)).toBe(TOKEN);
  });

  it('replaces a token it set before', () => {
    // Prepare
    const contents = '{\n  "executors.accessToken": "REDACTED",\n}\n';

    // Act
    const edited = withExecutorToken(withExecutorToken(contents, TOKEN), OTHER_TOKEN);

    // Assess
    expect(edited).toBe(`{\n  "executors.accessToken": "${OTHER_TOKEN}",\n}\n`);
  });
});

describe('withExecutorToken on a config without the key', () => {
  it.each([
    [
      'two-space indentation, no trailing comma',
      lines('\n', '{', '  "a": 1,', '  "b": { "c": 2 }', '}', ''),
      lines('\n', '{', '  "a": 1,', '  "b": { "c": 2 },', `  "executors.accessToken": "${TOKEN}"`, '}', ''),
    ],
    [
      'tabs and CRLF line endings',
      lines('\r\n', '{', '\t"a": 1', '}', ''),
      lines('\r\n', '{', '\t"a": 1,', `\t"executors.accessToken": "${TOKEN}"`, '}', ''),
    ],
    [
      'four spaces, nested lines indented deeper',
      lines('\n', '{', '    "a": {', '        "b": 1', '    }', '}'),
      lines('\n', '{', '    "a": {', '        "b": 1', '    },', `    "executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'a trailing comma, kept as the style',
      lines('\n', '{', '  "a": 1,', '}'),
      lines('\n', '{', '  "a": 1,', `  "executors.accessToken": "${TOKEN}",`, '}'),
    ],
    [
      'a comment after the last value: the comma goes before it',
      lines('\n', '{', '  "a": 1 // one', '}'),
      lines('\n', '{', '  "a": 1, // one', `  "executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'comments before the closing brace: the new line comes after them',
      lines('\n', '{', '  "a": 1,', '  // "executors.accessToken": "commented out",', '  /* end */', '}'),
      lines(
        '\n',
        '{',
        '  "a": 1,',
        '  // "executors.accessToken": "commented out",',
        '  /* end */',
        `  "executors.accessToken": "${TOKEN}",`,
        '}',
      ),
    ],
    [
      'comments outside the root object',
      lines('\n', '// head', '{', '  "a": 1', '} // tail', '/* end */'),
      lines('\n', '// head', '{', '  "a": 1,', `  "executors.accessToken": "${TOKEN}"`, '} // tail', '/* end */'),
    ],
    [
      'the closing brace on the last property line',
      lines('\n', '{', '  "a": 1 }'),
      lines('\n', '{', '  "a": 1,', `  "executors.accessToken": "${TOKEN}"`, ' }'),
    ],
    [
      'an empty object over two lines',
      lines('\n', '{', '}'),
      lines('\n', '{', `  "executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'an empty object holding a tab-indented comment',
      lines('\n', '{', '\t// nothing yet', '}'),
      lines('\n', '{', '\t// nothing yet', `\t"executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'compact key spacing',
      lines('\n', '{', ' "a":1', '}'),
      lines('\n', '{', ' "a":1,', ` "executors.accessToken":"${TOKEN}"`, '}'),
    ],
    [
      'properties at the left margin',
      lines('\n', '{', '"a": 1', '}'),
      lines('\n', '{', '"a": 1,', `"executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'an executors object, which is not where Sourcegraph keeps the token',
      lines('\n', '{', '  "executors": { "accessToken": "REDACTED" }', '}'),
      lines('\n', '{', '  "executors": { "accessToken": "REDACTED" },', `  "executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'unicode elsewhere',
      lines('\n', '{', '  // 設定 🔑', '  "naïve": "😀😀",', '  "𝒳": "ß"', '}'),
      lines(
        '\n',
        '{',
        '  // 設定 🔑',
        '  "naïve": "😀😀",',
        '  "𝒳": "ß",',
        `  "executors.accessToken": "${TOKEN}"`,
        '}',
      ),
    ],
    [
      'only nested lines indented: the default two spaces, not the nested depth',
      lines('\n', '{"a": [', '\t\t// inner', '\t\t1]', '}'),
      lines('\n', '{"a": [', '\t\t// inner', '\t\t1],', `  "executors.accessToken": "${TOKEN}"`, '}'),
    ],
    [
      'the spacing of the first property without a comment between key and value',
      lines('\n', '{', '  "a" /* c */ : 1,', '  "b" :  2', '}'),
      lines('\n', '{', '  "a" /* c */ : 1,', '  "b" :  2,', `  "executors.accessToken" :  "${TOKEN}"`, '}'),
    ],
    ['a one-line object', '{"a":1}', `{"a":1, "executors.accessToken":"${TOKEN}"}`],
    ['a one-line object with a trailing comma', '{ "a": 1, }', `{ "a": 1, "executors.accessToken": "${TOKEN}", }`],
    ['an empty one-line object', '{}', `{"executors.accessToken": "${TOKEN}"}`],
  ])('adds it as the last property with %s', (_name, contents, expected) => {
    // Act
    const edited = withExecutorToken(contents, TOKEN);

    // Assess
    expect(edited).toBe(expected);
    expect(executorTokenOf(edited)).toBe(TOKEN);
  });
});

describe('withExecutorToken refusals', () => {
  const SECRET = 'sgp_0123456789abcdef0123456789abcdef01234567';

  it.each<[string, string, SiteConfigProblem, RegExp]>([
    ['an empty text', '', 'invalid-jsonc', /not valid JSONC: ValueExpected at line 1, column 1/],
    ['only a comment', '// nothing', 'invalid-jsonc', /not valid JSONC: ValueExpected/],
    ['a missing comma', `{\n  "a": "${SECRET}"\n  "b": 2\n}`, 'invalid-jsonc', /CommaExpected at line 3, column 3/],
    [
      'an unterminated string',
      `{\r\n  "a": "${SECRET}\r\n}`,
      'invalid-jsonc',
      /UnexpectedEndOfString at line 2, column/,
    ],
    ['two documents', '{} {}', 'invalid-jsonc', /EndOfFileExpected at line 1, column 4/],
    [
      'many errors',
      '{ "a": 1 "b": 2 "c": 3 "d": 4 "e": 5 }',
      'invalid-jsonc',
      /CommaExpected at line 1, column 10; CommaExpected at line 1, column 17; .* \(and 1 more\)$/,
    ],
    ['an array', '[{ "executors.accessToken": "REDACTED" }]', 'not-an-object', /top level, found array/],
    ['a string', `"${SECRET}"`, 'not-an-object', /top level, found string/],
    [
      'the key twice',
      `{ "executors.accessToken": "${SECRET}", "executors.accessToken": "REDACTED" }`,
      'duplicate-key',
      /sets executors\.accessToken 2 times/,
    ],
    [
      'the key twice, once escaped',
      `{ "executors.accessToken": "REDACTED", "executors\\u002eaccessToken": "${SECRET}" }`,
      'duplicate-key',
      /2 times/,
    ],
  ])('refuses %s, naming the problem but not the text', (_name, contents, problem, message) => {
    // Act
    const error = editError(() => withExecutorToken(contents, TOKEN));

    // Assess
    expect(error).toBeInstanceOf(SiteConfigTextError);
    expect(error.name).toBe('SiteConfigTextError');
    expect(error.problem).toBe(problem);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error.cause ?? null)).not.toContain(SECRET);
    expect(() => executorTokenOf(contents)).toThrow(SiteConfigTextError);
  });

  it('keeps the parse errors, codes and offsets only, as the cause', () => {
    // Act
    const error = editError(() => withExecutorToken('{ "a": 1 "b": 2 }', TOKEN));

    // Assess
    expect(error.cause).toEqual([{ error: 6, offset: 9, length: 3 }]);
  });

  it.each([
    ['the redaction marker', 'REDACTED'],
    ['the hashed redaction marker', 'REDACTED-DATA-CHUNK-f434ecc765'],
    ['a short token', 'too-short'],
    ['a token with a quote', 'abcdefghij"klmnopqrstu'],
  ])('refuses %s as the new token, before looking at the text', (_name, token) => {
    // Act
    const edit = () => withExecutorToken('not even JSON', token);

    // Assess
    expect(edit).toThrow(ExecutorTokenError);
  });
});

describe('executorTokenOf', () => {
  it.each([
    ['the redacted token', '{ "executors.accessToken": "REDACTED" }', 'REDACTED'],
    [
      'the hashed form',
      '{ "executors.accessToken": "REDACTED-DATA-CHUNK-f434ecc765" }',
      'REDACTED-DATA-CHUNK-f434ecc765',
    ],
    ['an escaped value, unescaped', '{ "executors.accessToken": "\\u0052EDACTED" }', 'REDACTED'],
    ['nothing when the key is absent', '{ "executors": { "accessToken": "x" } }', undefined],
    ['nothing when the key is commented out', '{\n  // "executors.accessToken": "x"\n}', undefined],
  ])('reads %s', (_name, contents, expected) => {
    // Act
    const token = executorTokenOf(contents);

    // Assess
    expect(token).toBe(expected);
  });

  it('refuses a value that is not a string', () => {
    // Act
    const error = editError(() => executorTokenOf('{ "executors.accessToken": 42 }'));

    // Assess
    expect(error.problem).toBe('not-a-string');
    expect(error.message).toBe('site configuration executors.accessToken must be a string, found number');
  });
});

// ----- Properties over generated JSONC documents -----

interface Layout {
  readonly multiline: boolean;
  readonly eol: string;
  readonly indent: string;
  readonly separator: string;
  readonly trailingComma: boolean;
}

interface Entry {
  readonly key: string;
  readonly value: string;
  readonly before?: string | undefined;
  readonly inside?: string | undefined;
  readonly after?: string | undefined;
  readonly lineComment?: string | undefined;
}

interface Document {
  readonly text: string;
  readonly layout: Layout;
  readonly hasToken: boolean;
  /** Whether some property has nothing but the layout's spacing between key and value, for an insert to copy. */
  readonly plainProperty: boolean;
  /** Whether some line directly inside the root object starts with the layout's indentation. */
  readonly indented: boolean;
}

const commentText = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .filter((text) => !/[\r\n]/.test(text) && !text.includes('*/'));
const blockComment = commentText.map((text) => `/* ${text} */`);
const optionalComment = fc.option(blockComment, { nil: undefined, freq: 3 });
const key = fc
  .string({ unit: 'grapheme', maxLength: 10 })
  .filter((text) => text !== EXECUTOR_TOKEN_KEY && text !== '__proto__');
const valueText = fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value));
const entry = fc.record({
  key,
  value: valueText,
  before: optionalComment,
  inside: optionalComment,
  after: optionalComment,
  lineComment: fc.option(commentText, { nil: undefined, freq: 3 }),
});
const existingToken = fc.oneof(
  fc.constantFrom('"REDACTED"', '"REDACTED-DATA-CHUNK-f434ecc765"', 'null'),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((text) => JSON.stringify(text)),
);
const layout = fc.record({
  multiline: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  indent: fc.constantFrom('  ', '    ', '\t', ' ', ''),
  separator: fc.constantFrom(': ', ':', ' : '),
  trailingComma: fc.boolean(),
});

const document: fc.Arbitrary<Document> = fc
  .record({
    layout,
    entries: fc.uniqueArray(entry, { selector: (generated) => generated.key, maxLength: 6 }),
    token: fc.option(fc.record({ value: existingToken, at: fc.nat() }), { nil: undefined }),
    head: optionalComment,
    afterOpen: optionalComment,
    beforeClose: optionalComment,
    tail: optionalComment,
  })
  .map(({ layout, entries, token, head, afterOpen, beforeClose, tail }) => {
    const all: Entry[] = [...entries];
    if (token !== undefined) {
      all.splice(token.at % (entries.length + 1), 0, { key: EXECUTOR_TOKEN_KEY, value: token.value });
    }
    return {
      text: render(layout, all, { head, afterOpen, beforeClose, tail }),
      layout,
      hasToken: token !== undefined,
      plainProperty: all.some((item) => item.inside === undefined),
      indented: layout.multiline && (all.length > 0 || afterOpen !== undefined || beforeClose !== undefined),
    };
  });

function render(
  layout: Layout,
  entries: readonly Entry[],
  around: {
    head?: string | undefined;
    afterOpen?: string | undefined;
    beforeClose?: string | undefined;
    tail?: string;
  },
): string {
  const { eol, indent, separator, multiline, trailingComma } = layout;
  const property = (item: Entry, index: number) => {
    const comma = index < entries.length - 1 || trailingComma ? ',' : '';
    const inside = item.inside === undefined ? '' : `${item.inside} `;
    const after = item.after === undefined ? '' : ` ${item.after}`;
    const text = `${JSON.stringify(item.key)}${separator}${inside}${item.value}${after}${comma}`;
    if (!multiline) {
      return `${item.before ?? ''}${text}`;
    }
    const before = item.before === undefined ? '' : `${indent}${item.before}${eol}`;
    const lineComment = item.lineComment === undefined ? '' : ` // ${item.lineComment}`;
    return `${before}${indent}${text}${lineComment}`;
  };
  const head = around.head === undefined ? '' : `${around.head}${eol}`;
  const tail = around.tail === undefined ? eol : ` ${around.tail}${eol}`;
  if (!multiline) {
    const body = entries.map(property).join(' ');
    return `${head}{${around.afterOpen ?? ''}${body}${around.beforeClose ?? ''}}${tail}`;
  }
  const body = [
    ...(around.afterOpen === undefined ? [] : [`${indent}${around.afterOpen}`]),
    ...entries.map(property),
    ...(around.beforeClose === undefined ? [] : [`${indent}${around.beforeClose}`]),
  ];
  return `${head}{${eol}${body.map((line) => `${line}${eol}`).join('')}}${tail}`;
}

const generatedToken = fc
  .uint8Array({ minLength: 40, maxLength: 40 })
  .map((bytes) => executorTokenFrom(() => bytes, 40));

describe('withExecutorToken properties', () => {
  it('sets the token and changes nothing else the config says', () => {
    fc.assert(
      fc.property(document, generatedToken, (generated, token) => {
        // Act
        const edited = withExecutorToken(generated.text, token);

        // Assess
        expect(executorTokenOf(edited)).toBe(token);
        expect(withoutToken(parseOrFail(edited))).toEqual(withoutToken(parseOrFail(generated.text)));
      }),
    );
  });

  it('replaces an existing value and leaves every byte around it alone', () => {
    fc.assert(
      fc.property(
        document.filter((generated) => generated.hasToken),
        generatedToken,
        (generated, token) => {
          // Prepare
          const value = valueSpan(generated.text);

          // Act
          const edited = withExecutorToken(generated.text, token);

          // Assess
          const end = value.start + JSON.stringify(token).length;
          expect(edited.slice(0, value.start)).toBe(generated.text.slice(0, value.start));
          expect(edited.slice(value.start, end)).toBe(JSON.stringify(token));
          expect(edited.slice(end)).toBe(generated.text.slice(value.end));
        },
      ),
    );
  });

  it('adds a missing key by insertion only, in the text’s own layout', () => {
    fc.assert(
      fc.property(
        document.filter((generated) => !generated.hasToken),
        generatedToken,
        (generated, token) => {
          // Act
          const edited = withExecutorToken(generated.text, token);

          // Assess
          const { eol, indent, separator } = generated.layout;
          // The `key: value` spacing is copied from a property without a comment there; with none, it is `": "`.
          const spacing = generated.plainProperty ? separator : ': ';
          const property = `${JSON.stringify(EXECUTOR_TOKEN_KEY)}${spacing}${JSON.stringify(token)}`;
          // Nothing of the original is removed or changed: it is all still there, in order.
          expect(isSubsequence(generated.text, edited)).toBe(true);
          // What was added: the property, and at most two commas, a space, the indentation and two line breaks.
          const added = edited.length - generated.text.length;
          expect(added).toBeGreaterThanOrEqual(property.length);
          expect(added).toBeLessThanOrEqual(property.length + 3 + indent.length + 2 * eol.length);
          if (generated.indented) {
            expect(edited).toContain(`${eol}${indent}${property}`);
          }
          if (eol === '\r\n') {
            expect(edited.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
          }
        },
      ),
    );
  });

  it('gives the same text whether the key was there or was added by an earlier edit', () => {
    fc.assert(
      fc.property(document, generatedToken, generatedToken, (generated, first, second) => {
        // Act
        const twice = withExecutorToken(withExecutorToken(generated.text, first), second);

        // Assess
        expect(twice).toBe(withExecutorToken(generated.text, second));
      }),
    );
  });

  it('never puts a token or the config text in an error message', () => {
    const anyToken = fc.oneof(generatedToken, fc.string({ unit: 'binary', minLength: 20, maxLength: 60 }));
    const brokenDocument = fc.oneof(
      document.map((generated) => generated.text),
      document.map((generated) => generated.text.replace('{', '[')),
      document.map((generated) => generated.text.replace('}', '')),
      fc
        .tuple(document, generatedToken)
        .map(([generated, token]) =>
          generated.text.replace('{', `{"executors.accessToken": "${token}", "executors.accessToken": "x",`),
        ),
    );
    fc.assert(
      fc.property(brokenDocument, anyToken, (contents, token) => {
        // Act
        let message = '';
        try {
          withExecutorToken(contents, token);
        } catch (error) {
          message = error instanceof Error ? `${error.message} ${JSON.stringify(error.cause ?? null)}` : 'not an Error';
        }

        // Assess
        expect(message).not.toContain(token);
        expect(message).not.toContain('executors.accessToken": "');
        expect(message).not.toBe('not an Error');
      }),
    );
  });
});

/** The offsets of the token's value in `contents`, found by jsonc-parser rather than by the code under test. */
function valueSpan(contents: string): { start: number; end: number } {
  const root = parseTree(contents, [], { allowTrailingComma: true });
  const property = root?.children?.find((child) => child.children?.[0]?.value === EXECUTOR_TOKEN_KEY);
  const value = property?.children?.[1];
  if (value === undefined) {
    throw new Error('the test document has no executor token');
  }
  return { start: value.offset, end: value.offset + value.length };
}

function parseOrFail(contents: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(contents, errors, { allowTrailingComma: true });
  expect(errors).toEqual([]);
  return value;
}

function withoutToken(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) {
    return config;
  }
  return Object.fromEntries(Object.entries(config).filter(([name]) => name !== EXECUTOR_TOKEN_KEY));
}

/** Whether `small` is `big` with some characters left out (UTF-16 code units, compared in order). */
function isSubsequence(small: string, big: string): boolean {
  let matched = 0;
  for (let index = 0; index < big.length && matched < small.length; index += 1) {
    if (big[index] === small[matched]) {
      matched += 1;
    }
  }
  return matched === small.length;
}

function editError(action: () => unknown): SiteConfigTextError {
  try {
    action();
  } catch (error) {
    if (error instanceof SiteConfigTextError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a SiteConfigTextError');
}
