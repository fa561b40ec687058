/**
 * JSON-schema validation (ajv) for everything the harness reads or writes: results, configs,
 * scenario files. Schemas live in `schemas/` at the repository root. Errors name the field by its
 * path (`/bmcs/0/port`) and say what was wrong with it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS; under ESM interop its plugin may arrive wrapped in `default`.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

/** Problems quote names from the input (unknown keys, YAML tags): a hostile one must not flood the terminal. */
const MAX_PROBLEM_CHARS = 2000;
/** The most problems one error lists: a 27,000-key file gets the first ones and a count, not 27,000 lines. */
export const MAX_PROBLEMS = 20;
function clip(problem: string): string {
  return problem.length > MAX_PROBLEM_CHARS ? `${problem.slice(0, MAX_PROBLEM_CHARS)}... (${problem.length - MAX_PROBLEM_CHARS} more characters)` : problem;
}

/**
 * A name taken from an input file (an unknown key, a duplicate key), as an error may show it:
 * only a short identifier-like name (a field misspelt) is quoted. Anything else could be the
 * content of a file that was never meant as input (a `--scenario /etc/shadow` parses as keys
 * holding password hashes), so it is described, never quoted.
 */
export function safeExcerpt(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/.test(name) ? name : `(a name of ${name.length} characters, not shown)`;
}

/** Input that does not match its schema. `problems` lists each bad field (at most {@link MAX_PROBLEMS}, then a count). */
export class ValidationError extends Error {
  readonly problems: string[];
  readonly paths: string[];
  /** How many more problems there were than are listed. */
  readonly omitted: number;
  constructor(
    readonly source: string,
    problems: string[],
    /** The JSON pointer of each problem's field (parallel to `problems`), where known. */
    paths: string[] = [],
    omitted = 0,
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    const more = omitted + problems.length - shown.length;
    const lines = shown.map((p) => `  - ${clip(p)}`);
    if (more > 0) lines.push(`  - ... and ${more} more problem${more === 1 ? '' : 's'} (not listed)`);
    super(`${source} is invalid:\n${lines.join('\n')}`);
    this.problems = shown;
    this.paths = paths.slice(0, MAX_PROBLEMS);
    this.omitted = more;
    this.name = 'ValidationError';
  }
}

// verbose: errors carry their schema, so a pattern can be explained by its `patternMessage`.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, discriminator: true, useDefaults: false, verbose: true });
addFormats(ajv);
/** Annotation: what a `pattern` means, in words, said instead of the raw regular expression. */
ajv.addKeyword({ keyword: 'patternMessage', schemaType: 'string' });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schemaName: string): ValidateFunction {
  let validate = compiled.get(schemaName);
  if (!validate) {
    const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${schemaName}.schema.json`, 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(schemaName, validate);
  }
  return validate;
}

/**
 * Turns one ajv error into a sentence naming the field. `base` is the pointer of the validated
 * value inside its file (`/scenario` for the scenario recorded in run.json).
 */
export function describeProblem(error: ErrorObject, base = ''): string {
  const field = base + error.instancePath || '(top level)';
  switch (error.keyword) {
    case 'required':
      return `${field === '(top level)' ? '' : `${field}/`}${String(error.params.missingProperty)}: is required but missing`;
    case 'additionalProperties':
      return `${field === '(top level)' ? '' : `${field}/`}${safeExcerpt(String(error.params.additionalProperty))}: is not a known field (check its spelling)`;
    case 'enum':
      return `${field}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern': {
      const words = (error.parentSchema as { patternMessage?: string } | undefined)?.patternMessage;
      return `${field}: ${words ?? error.message ?? 'is invalid'}`;
    }
    default:
      return `${field}: ${error.message ?? 'is invalid'}`;
  }
}

/** The JSON pointer of the field an error is about (the missing or unknown property included), under `base`. */
export function fieldPath(error: ErrorObject, base = ''): string {
  if (error.keyword === 'required') return `${base}${error.instancePath}/${String(error.params.missingProperty)}`;
  if (error.keyword === 'additionalProperties') return `${base}${error.instancePath}/${String(error.params.additionalProperty)}`;
  return base + error.instancePath;
}

/** The same error with each problem prefixed by the line of its field (`line 7: /port: ...`), where known. */
export function withLines(error: ValidationError, lineOf: (pointer: string) => number | undefined): ValidationError {
  const problems = error.problems.map((p, i) => {
    if (/^line \d+/.test(p)) return p;
    const line = lineOf(error.paths[i] ?? '');
    return `${line ? `line ${line}: ` : ''}${p}`;
  });
  return new ValidationError(error.source, problems, error.paths, error.omitted);
}

/**
 * Validates `data` against `schemas/<schemaName>.schema.json`; throws {@link ValidationError}
 * naming each bad field. `base` is where `data` sits in its file (fields are named `/base/...`).
 */
export function validate<T>(schemaName: string, data: unknown, source: string, base = ''): T {
  const check = validatorFor(schemaName);
  if (!check(data)) {
    const seen = new Map<string, string>();
    const errors = check.errors ?? [];
    for (const error of errors) {
      const problem = describeProblem(error, base);
      if (!seen.has(problem)) seen.set(problem, fieldPath(error, base));
      // Enough to act on: the rest is counted, not described (a 100,000-item file missing one field each).
      if (seen.size > MAX_PROBLEMS) break;
    }
    throw new ValidationError(source, [...seen.keys()], [...seen.values()], errors.length - Math.min(errors.length, seen.size));
  }
  return data as T;
}
