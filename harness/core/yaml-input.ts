/**
 * YAML input files (scenario files, target files): parsed with line positions and validated
 * against a schema; every error names the file, the line and the field, and says what is wrong.
 * Hostile YAML is bad input like any other (exit code 2, with file and line): aliases that expand
 * too far (a "billion laughs" document), an alias without its anchor, duplicate keys, and flow
 * brackets nested deep enough to exhaust the parser.
 */
import { isNode, isScalar, LineCounter, parseDocument, visit, type Document, type ErrorCode } from 'yaml';
import { validate, ValidationError, withLines } from './schema.ts';

/** The most alias expansions a document may make (yaml's own guard against exponential expansion). */
export const MAX_YAML_ALIASES = 100;
/** Deeper flow nesting than any scenario needs; far deeper input crashes the YAML parser (measured: 20,000 `[`). */
export const MAX_YAML_FLOW_DEPTH = 64;

/**
 * What each of the YAML parser's errors means, in words. The parser's own messages quote the
 * input (a tag, an escape, a block header), and the input may be a file that was never meant
 * as input: only these words are shown, with the line.
 */
const YAML_PROBLEMS: Record<ErrorCode, string> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or a tag',
  BAD_ALIAS: 'a malformed alias',
  BAD_DIRECTIVE: 'a malformed % directive',
  BAD_DQ_ESCAPE: 'an invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'the indentation is wrong',
  BAD_PROP_ORDER: 'anchors and tags must come after the indicator',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote the value)',
  BLOCK_AS_IMPLICIT_KEY: 'a block value cannot be a key',
  BLOCK_IN_FLOW: 'a block value inside [ ] or { }',
  DUPLICATE_KEY: 'a key appears twice in the same mapping',
  IMPOSSIBLE: 'the parser reached a state it cannot handle',
  KEY_OVER_1024_CHARS: 'an implicit key longer than 1024 characters',
  MISSING_CHAR: 'a missing character (a comma, a colon, a space after a colon, or a closing quote or bracket)',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines (a missing colon or quote?)',
  MULTIPLE_ANCHORS: 'a value has two anchors',
  MULTIPLE_DOCS: 'more than one document (a second ---)',
  MULTIPLE_TAGS: 'a value has two tags',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'the document expands to too much data',
  TAB_AS_INDENT: 'a tab used for indentation (use spaces)',
  TAG_RESOLVE_FAILED: 'an unknown tag (a value starting with !)',
  UNEXPECTED_TOKEN: 'unexpected text here',
  BAD_COLLECTION_TYPE: 'a tag that does not fit its collection',
};

/** The line of the node at a JSON pointer, or of its nearest existing parent. */
function lineOf(doc: Document, counter: LineCounter, pointer: string): number | undefined {
  const keys = pointer.split('/').filter(Boolean);
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * The line of the first key that appears twice in one mapping. yaml's own check (uniqueKeys)
 * compares every key with every other: a 27,000-key file took over 30 s. This one uses a set.
 */
function duplicateKeyLine(doc: Document, counter: LineCounter): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          found = isNode(pair.key) && pair.key.range ? counter.linePos(pair.key.range[0]).line : 0;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/** The first line whose flow brackets (`[`, `{`) open deeper than the limit, if any. */
function tooDeepLine(text: string): number | undefined {
  let depth = 0;
  let line = 1;
  for (const c of text) {
    if (c === '\n') line += 1;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth > MAX_YAML_FLOW_DEPTH) return line;
    } else if ((c === ']' || c === '}') && depth > 0) depth -= 1;
  }
  return undefined;
}

/** What went wrong turning the YAML into data (aliases), with the line of the alias at fault. */
function aliasProblem(doc: Document, counter: LineCounter, error: Error): string {
  let unresolved: number | undefined;
  let first: number | undefined;
  visit(doc, {
    Alias(_, node) {
      const line = node.range ? counter.linePos(node.range[0]).line : undefined;
      first ??= line;
      if (unresolved === undefined && node.resolve(doc) === undefined) unresolved = line ?? 0;
    },
  });
  if (unresolved !== undefined) {
    return `${unresolved ? `line ${unresolved}: ` : ''}YAML: an alias refers to an anchor that is not defined before it (write &name before *name)`;
  }
  if (/alias/i.test(error.message)) {
    return `${first ? `line ${first}: ` : ''}YAML: the aliases expand to too much data (more than ${MAX_YAML_ALIASES} alias expansions; a "billion laughs" document?)`;
  }
  return `YAML: cannot turn the document into data (${error.name})`;
}

/** Parses YAML text and validates it against `schemas/<schemaName>.schema.json`. `source` names it in errors. */
export function parseYamlInput<T>(text: string, source: string, schemaName: string): { value: T; lineOf: (pointer: string) => number | undefined } {
  const deep = tooDeepLine(text);
  if (deep !== undefined) throw new ValidationError(source, [`line ${deep}: YAML: brackets nested more than ${MAX_YAML_FLOW_DEPTH} levels deep`]);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      source,
      doc.errors.map((e) => `line ${counter.linePos(e.pos[0]).line}: YAML syntax: ${YAML_PROBLEMS[e.code] ?? 'invalid YAML'}`),
    );
  }
  const duplicate = duplicateKeyLine(doc, counter);
  if (duplicate !== undefined) throw new ValidationError(source, [`${duplicate ? `line ${duplicate}: ` : ''}YAML syntax: ${YAML_PROBLEMS.DUPLICATE_KEY}`]);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    throw new ValidationError(source, [aliasProblem(doc, counter, error as Error)]);
  }
  const lines = (pointer: string) => lineOf(doc, counter, pointer);
  try {
    return { value: validate<T>(schemaName, data, source), lineOf: lines };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw withLines(error, lines);
  }
}
