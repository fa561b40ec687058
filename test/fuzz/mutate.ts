/**
 * Seeded mutations of valid inputs, for the fuzz test: the same seed gives the same cases. Tree
 * mutations (a key deleted, renamed or added, a value of the wrong type, a huge, negative or
 * non-finite number, a long string, control characters, deep nesting) on the parsed fixture,
 * then text mutations (truncation, a duplicated key, inserted bytes, YAML aliases, CRLF, a BOM)
 * on its serialized form.
 */
import { stringify } from 'yaml';
import type { SeededRandom } from '../../harness/core/random.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Format = 'json' | 'yaml';

/** A value written as-is into the text (NaN, Infinity and the like have no JSON or YAML value). */
const raw = (token: string) => `@@RAW:${token}@@`;

function deep(levels: number): Json {
  let v: Json = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** Values that have broken loaders before, and their neighbours. */
export function hostileValues(format: Format): Json[] {
  return [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e-7,
    -1e308,
    1e308,
    2 ** 31,
    2 ** 32 + 5,
    2 ** 53 + 1,
    '',
    '5',
    '0x1F',
    'yes',
    'x'.repeat(100_000),
    '\u0000\u0007\u001b[2J',
    'S3cret"\\',
    '../../victim',
    '0.0.0.0',
    '::',
    '172.16.5',
    'ünïcødé-ß',
    [],
    {},
    [1, 'two', null],
    { unexpected: { deeper: true } },
    deep(70),
    format === 'json' ? raw('NaN') : raw('.nan'),
    format === 'json' ? raw('1e999') : raw('.inf'),
    format === 'json' ? raw('-Infinity') : raw('-.inf'),
  ];
}

type Path = (string | number)[];

function allPaths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) allPaths(v, [...prefix, k], out);
  return out;
}

function parentOf(root: Json, path: Path): Json {
  let node = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, Json>)[key]!;
  return node;
}

const pick = <T>(random: SeededRandom, items: readonly T[]): T => items[random.int(items.length)]!;

/** One tree mutation, in place (the root itself may be replaced: the new root is returned). */
function mutateTree(random: SeededRandom, root: Json, format: Format): { root: Json; what: string } {
  const paths = allPaths(root).filter((p) => p.length > 0);
  if (paths.length === 0) return { root: pick(random, hostileValues(format)), what: 'replaced the document' };
  const path = pick(random, paths);
  const parent = parentOf(root, path) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  const where = `/${path.join('/')}`;
  switch (random.int(5)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return { root, what: `deleted ${where}` };
    case 1: {
      if (Array.isArray(parent)) break;
      const value = parent[key]!;
      delete parent[key];
      parent[`${String(key)}${pick(random, ['x', 'S', '_', ' ', '\u0000'])}`] = value;
      return { root, what: `renamed ${where}` };
    }
    case 2:
      if (Array.isArray(parent)) break;
      // An own key even for "__proto__" (plain assignment would set the prototype instead).
      Object.defineProperty(parent, pick(random, ['extra', '__proto__', 'constructor', 'x'.repeat(5000), '$comment']), {
        value: pick(random, hostileValues(format)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { root, what: `added a key beside ${where}` };
    default:
      break;
  }
  const value = pick(random, hostileValues(format));
  parent[key] = value;
  return { root, what: `set ${where} to ${typeof value === 'string' ? `a ${value.length}-character string` : JSON.stringify(value)?.slice(0, 40)}` };
}

function serialize(value: Json, format: Format): string {
  const text = format === 'json' ? JSON.stringify(value, null, 2) : stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
  return (text ?? 'null').replace(/["']?@@RAW:(.*?)@@["']?/g, '$1');
}

const BILLION_LAUGHS = 'l0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nl1: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nl2: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nl3: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nl4: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';

/** One text mutation. */
function mutateText(random: SeededRandom, text: string, format: Format): { text: string; what: string } {
  const at = random.int(text.length + 1);
  const lines = text.split('\n');
  const line = random.int(lines.length);
  switch (random.int(format === 'yaml' ? 12 : 10)) {
    case 0:
      return { text: text.slice(0, at), what: `truncated at ${at}` };
    case 1: {
      const keyLines = lines.map((l, i) => [l, i] as const).filter(([l]) => (format === 'json' ? /^\s*"[^"]+":/ : /^\s*[\w$-]+:/).test(l));
      if (keyLines.length === 0) break;
      const [dup, i] = pick(random, keyLines);
      const copy = format === 'json' && !dup.trimEnd().endsWith(',') && !dup.trimEnd().endsWith('{') && !dup.trimEnd().endsWith('[') ? `${dup},` : dup;
      lines.splice(i, 0, copy);
      return { text: lines.join('\n'), what: `duplicated the key on line ${i + 1}` };
    }
    case 2:
      return { text: text.slice(0, at) + pick(random, ['\u0000', '\u0007', '\u001b', '\u007f', '\ufffd', '\r', '\t', '"', "'", '{', '[', '\\']) + text.slice(at), what: `inserted a character at ${at}` };
    case 3:
      return { text: text.slice(0, at) + text.slice(at + 1 + random.int(20)), what: `cut a few characters at ${at}` };
    case 4:
      return { text: lines.map((l, i) => (i === line ? `${l}${l}` : l)).join('\n'), what: `doubled line ${line + 1}` };
    case 5:
      return { text: text.replace(/\n/g, '\r\n'), what: 'CRLF line endings' };
    case 6:
      return { text: `\ufeff${text}`, what: 'a byte-order mark' };
    case 7:
      return { text: `${'['.repeat(20_000)}${text}`, what: 'opened 20,000 brackets' };
    case 8:
      return { text: pick(random, ['', ' ', 'null', '[]', '42', '"a string"', 'garbage', '{', '}', '\u0000\u0000']), what: 'replaced the whole file' };
    case 9:
      return { text: text.replace(/: ?"([^"]*)"/, ': $1'), what: 'unquoted the first string value' };
    case 10:
      return { text: `${text}\n${BILLION_LAUGHS}`, what: 'appended a billion-laughs document' };
    case 11:
      return { text: text.replace(/^(\s*[\w-]+): .+$/m, '$1: *undefined_anchor'), what: 'an unresolved alias' };
  }
  return { text: text.slice(0, at), what: `truncated at ${at}` };
}

/** A mutant of `value` (a parsed fixture): 1-3 tree mutations, then, half the time, 1-2 text mutations. */
export function mutant(random: SeededRandom, value: Json, format: Format): { text: string; what: string[] } {
  let root = structuredClone(value);
  const what: string[] = [];
  const treeMutations = random.int(4);
  for (let i = 0; i < treeMutations; i++) {
    const m = mutateTree(random, root, format);
    root = m.root;
    what.push(m.what);
  }
  let text = serialize(root, format);
  if (treeMutations === 0 || random.next() < 0.5) {
    for (let i = 0, n = 1 + random.int(2); i < n; i++) {
      const m = mutateText(random, text, format);
      text = m.text;
      what.push(m.what);
    }
  }
  return { text, what };
}

/** A mutant of JSON-lines text (a history): lines cut, doubled, dropped, garbled or given wrong types. */
export function mutantLines(random: SeededRandom, text: string): { text: string; what: string[] } {
  const lines = text.split('\n');
  const i = random.int(Math.max(1, lines.length - 1));
  switch (random.int(7)) {
    case 0:
      lines.splice(i, 1);
      return { text: lines.join('\n'), what: [`dropped history line ${i + 1}`] };
    case 1:
      lines.splice(i, 0, lines[i]!);
      return { text: lines.join('\n'), what: [`doubled history line ${i + 1}`] };
    case 2:
      lines[i] = lines[i]!.slice(0, random.int(lines[i]!.length));
      return { text: lines.join('\n'), what: [`cut history line ${i + 1}`] };
    case 3:
      lines[i] = lines[i]!.replace(/"time":[0-9.]+/, pick(random, ['"time":"soon"', '"time":1e999', '"time":null', '"time":-1']));
      return { text: lines.join('\n'), what: [`bad time on history line ${i + 1}`] };
    case 4:
      lines[i] = lines[i]!.replace(/"type":"\w+"/, pick(random, ['"type":"done"', '"type":7', '"type":"ok"', '"type":"invoke"']));
      return { text: lines.join('\n'), what: [`changed the type on history line ${i + 1}`] };
    case 5:
      lines[i] = pick(random, ['null', '[]', '{}', 'garbage', '\u0000', '{"time":1}']);
      return { text: lines.join('\n'), what: [`garbage history line ${i + 1}`] };
    default:
      return { text: text.slice(0, random.int(text.length)), what: ['truncated the history'] };
  }
}
