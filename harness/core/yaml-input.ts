/**
 * YAML input files (scenario files, target files): parsed with line positions and validated
 * against a schema; every error names the file, the line and the field, and says what is wrong.
 * Hostile YAML is bad input like any other (exit code 2, with file and line): aliases that expand
 * too far (a "billion laughs" document), an alias without its anchor, duplicate keys, and flow
 * brackets nested deep enough to exhaust the parser.
 */
import { isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { validate, ValidationError, withLines } from './schema.ts';

/** The most alias expansions a document may make (yaml's own guard against exponential expansion). */
export const MAX_YAML_ALIASES = 100;
/** Deeper flow nesting than any scenario needs; far deeper input crashes the YAML parser (measured: 20,000 `[`). */
export const MAX_YAML_FLOW_DEPTH = 64;

/** The line of the node at a JSON pointer, or of its nearest existing parent. */
function lineOf(doc: Document, counter: LineCounter, pointer: string): number | undefined {
  const keys = pointer.split('/').filter(Boolean);
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
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
  return `YAML: cannot turn the document into data: ${error.message.split('\n')[0]}`;
}

/** Parses YAML text and validates it against `schemas/<schemaName>.schema.json`. `source` names it in errors. */
export function parseYamlInput<T>(text: string, source: string, schemaName: string): { value: T; lineOf: (pointer: string) => number | undefined } {
  const deep = tooDeepLine(text);
  if (deep !== undefined) throw new ValidationError(source, [`line ${deep}: YAML: brackets nested more than ${MAX_YAML_FLOW_DEPTH} levels deep`]);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      source,
      doc.errors.map((e) => `line ${counter.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`),
    );
  }
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
