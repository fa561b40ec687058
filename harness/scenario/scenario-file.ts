/**
 * Scenario files (YAML, under fixtures/scenarios/ or anywhere): parsed with line positions and
 * validated against schemas/scenario.schema.json; every error names the file, the line and the
 * field, and says what is wrong.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { validate, ValidationError } from '../core/schema.ts';
import type { Scenario } from './scenario.ts';

/** The line of the node at a JSON pointer, or of its nearest existing parent. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, pointer: string): number | undefined {
  const keys = pointer.split('/').filter(Boolean);
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Parses and validates scenario text. `source` names it in errors. */
export function parseScenario(text: string, source: string): Scenario {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      source,
      doc.errors.map((e) => `line ${counter.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`),
    );
  }
  try {
    return validate<Scenario>('scenario', doc.toJS(), source);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const problems = error.problems.map((p, i) => {
      const line = lineOf(doc, counter, error.paths[i] ?? '');
      return `${line ? `line ${line}: ` : ''}${p}`;
    });
    throw new ValidationError(source, problems, error.paths);
  }
}

/** Reads and validates a scenario file. */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(file, [`cannot read it: ${(error as Error).message}`]);
  }
  return parseScenario(text, file);
}
