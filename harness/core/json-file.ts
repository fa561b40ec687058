/**
 * Strict JSON for the files the harness reads (lab and BMC configs, run directories): a small
 * parser that keeps the line of every value, so a schema error says `line 12: /network/prefix`,
 * and refuses what JSON.parse lets through or words badly:
 * - a duplicate key (JSON.parse silently keeps the last one): named, with both lines;
 * - a number that overflows to Infinity;
 * - nesting deeper than {@link MAX_JSON_DEPTH};
 * - any syntax error, said with line and column and *without quoting the input*: Node's own
 *   messages quote it, and a config whose password lost its quotes would print the password.
 */
import { readInputFile, type ReadInputOptions } from './input-file.ts';
import { safeExcerpt, validate, ValidationError, withLines } from './schema.ts';

/** Deeper nesting than any config needs; a guard against stack exhaustion. */
export const MAX_JSON_DEPTH = 64;

/** A parsed JSON document and where each value started. */
export interface ParsedJson {
  value: unknown;
  /** The line (from 1) of the value at a JSON pointer, or of its nearest existing parent. */
  lineOf(pointer: string): number | undefined;
}

class JsonSyntaxError extends Error {}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (/[A-Za-z_]/.test(c)) return 'an unquoted word (strings need double quotes)';
  if (/[0-9-]/.test(c)) return 'a number';
  if (c === "'") return "a single quote (JSON strings need double quotes)";
  if (c < ' ' || c === '\u007f') return `a control character (U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
  if (/[{}[\]:,"]/.test(c)) return `"${c}"`;
  return 'a character that cannot start a JSON value';
}

class Parser {
  private pos = 0;
  private line = 1;
  readonly lines = new Map<string, number>();

  constructor(private readonly text: string) {}

  private fail(message: string, at = this.pos): never {
    // Recompute line and column of `at` (it may be behind the cursor).
    let line = 1;
    let start = 0;
    for (let i = 0; i < at; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line += 1;
        start = i + 1;
      }
    }
    throw new JsonSyntaxError(`line ${line}, column ${at - start + 1}: ${message}`);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos += 1;
      else if (c === '\n') {
        this.pos += 1;
        this.line += 1;
      } else return;
    }
  }

  parseDocument(): unknown {
    this.skipWhitespace();
    if (this.pos >= this.text.length) this.fail('the file holds no JSON value (it is empty)');
    const value = this.parseValue('', 1);
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail(`unexpected ${describeChar(this.text[this.pos])} after the end of the JSON value`);
    return value;
  }

  private parseValue(pointer: string, depth: number): unknown {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested more than ${MAX_JSON_DEPTH} levels deep`);
    this.lines.set(pointer, this.line);
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(pointer, depth);
    if (c === '[') return this.parseArray(pointer, depth);
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    if (c !== undefined && /[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z]+/.exec(this.text.slice(this.pos, this.pos + 16))![0];
      if (['NaN', 'Infinity'].includes(word)) this.fail(`expected a value, found ${word}, which JSON has no way to write`);
    }
    this.fail(`expected a value (a string, number, object, array, true, false or null), found ${describeChar(c)}`);
  }

  private parseObject(pointer: string, depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    const keyLines = new Map<string, number>();
    this.pos += 1;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos += 1;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail(`expected a key in double quotes, found ${describeChar(this.text[this.pos])}`);
      const keyLine = this.line;
      const keyStart = this.pos;
      const key = this.parseString();
      const first = keyLines.get(key);
      if (first !== undefined) {
        this.fail(`duplicate key ${safeExcerpt(key)} in ${pointer ? `the object at line ${this.lines.get(pointer) ?? '?'}` : 'the top-level object'} (first at line ${first}); JSON readers would silently keep only the last`, keyStart);
      }
      keyLines.set(key, keyLine);
      this.skipWhitespace();
      // The key is not named: when a value lost its key (a password, say), it is what reads as the key.
      if (this.text[this.pos] !== ':') this.fail(`expected ":" after a key, found ${describeChar(this.text[this.pos])}`);
      this.pos += 1;
      this.skipWhitespace();
      const value = this.parseValue(`${pointer}/${escapePointer(key)}`, depth + 1);
      // An own property even for "__proto__" (as JSON.parse does), never the prototype.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === '}') return object;
      if (next !== ',') this.fail(`expected "," or "}" in the object ${pointer || 'at the top level'}, found ${describeChar(next)}`, this.pos - 1);
    }
  }

  private parseArray(pointer: string, depth: number): unknown[] {
    const array: unknown[] = [];
    this.pos += 1;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos += 1;
      return array;
    }
    for (;;) {
      this.skipWhitespace();
      array.push(this.parseValue(`${pointer}/${array.length}`, depth + 1));
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === ']') return array;
      if (next !== ',') this.fail(`expected "," or "]" in the array ${pointer || 'at the top level'}, found ${describeChar(next)}`, this.pos - 1);
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos += 1;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('a string is not closed (missing ")', start);
      if (c === '"') break;
      if (c === '\n') this.fail('a string is not closed before the end of the line (missing ")', start);
      if (c < ' ') this.fail(`${describeChar(c)} inside a string: write it as an escape such as \\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('a \\u escape needs four hex digits');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('an unknown escape in a string (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        this.pos += 2;
        continue;
      }
      this.pos += 1;
    }
    this.pos += 1;
    // The token is valid JSON now: let the engine decode its escapes.
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private parseNumber(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m || m[0] === '-') this.fail('a malformed number (JSON numbers look like 12, -3.5 or 1e3; no leading zeros, "+", "." or hex)');
    const next = this.text[this.pos + m[0].length];
    if (next !== undefined && /[0-9A-Za-z.+_]/.test(next)) this.fail('a malformed number (JSON numbers look like 12, -3.5 or 1e3; no leading zeros, "+", "." or hex)');
    const value = Number(m[0]);
    if (!Number.isFinite(value)) this.fail('a number too large to represent (it overflows to Infinity)');
    this.pos += m[0].length;
    return value;
  }
}

function lineFinder(lines: Map<string, number>): (pointer: string) => number | undefined {
  return (pointer) => {
    const parts = pointer.split('/');
    for (let n = parts.length; n >= 1; n--) {
      const line = lines.get(parts.slice(0, n).join('/'));
      if (line !== undefined) return line;
    }
    return lines.get('');
  };
}

/** Parses JSON text strictly; `source` names it in errors ({@link ValidationError}, exit code 2). */
export function parseJson(text: string, source: string): ParsedJson {
  const parser = new Parser(text);
  try {
    const value = parser.parseDocument();
    return { value, lineOf: lineFinder(parser.lines) };
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new ValidationError(source, [`not valid JSON: ${error.message}`]);
    throw error;
  }
}

/** Reads a JSON file (a regular file within the size limit) and parses it strictly. */
export function readJsonFile(file: string, options: ReadInputOptions): ParsedJson {
  return parseJson(readInputFile(file, options), file);
}

/**
 * Validates parsed JSON against `schemas/<schemaName>.schema.json`; each problem is prefixed with
 * the line of its field (`line 7: /port: must be <= 65535`).
 */
export function validateJson<T>(schemaName: string, parsed: ParsedJson, source: string): T {
  try {
    return validate<T>(schemaName, parsed.value, source);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw withLines(error, parsed.lineOf);
  }
}
