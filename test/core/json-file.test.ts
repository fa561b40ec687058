/** Strict JSON with lines: duplicate keys, no quoted input in errors, bounded depth. */
import test from 'ava';
import { MAX_JSON_DEPTH, parseJson, validateJson } from '../../harness/core/json-file.ts';
import { ValidationError } from '../../harness/core/schema.ts';

function problems(text: string): string[] {
  try {
    parseJson(text, 'lab.json');
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
}

test('valid JSON parses like JSON.parse, "__proto__" included as an own key', (t) => {
  const text = '{"a": [1, -2.5e3, true, false, null, "x\\u0041\\n"], "b": {}, "__proto__": {"polluted": 1}}';
  const { value } = parseJson(text, 'x.json');
  t.deepEqual(value, JSON.parse(text));
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.true(Object.hasOwn(value as object, '__proto__'));
});

test('the line of every value is known, for schema errors', (t) => {
  const parsed = parseJson('{\n  "name": "lab",\n  "nodes": {\n    "cpus": 99\n  }\n}\n', 'lab.json');
  t.is(parsed.lineOf('/nodes/cpus'), 4);
  t.is(parsed.lineOf('/nodes/missing'), 3, 'a missing field: its parent');
  t.is(parsed.lineOf(''), 1);
  const error = t.throws(() => validateJson('bmc', parseJson('{\n "name": "node1",\n "port": 70000\n}', 'b.json'), 'b.json'), { instanceOf: ValidationError });
  t.true(error!.problems.includes('line 3: /port: must be <= 65535'));
});

test('a duplicate key is named with both lines (JSON.parse keeps the last silently)', (t) => {
  t.deepEqual(problems('{\n  "name": "lab",\n  "nodes": {"cpus": 1,\n   "cpus": 8}\n}'), [
    'not valid JSON: line 4, column 4: duplicate key cpus in the object at line 3 (first at line 3); JSON readers would silently keep only the last',
  ]);
  t.regex(problems('{"name": "a", "name": "b"}')[0]!, /duplicate key name in the top-level object/);
});

test('syntax errors give line and column and never quote the input (an unquoted password stays unprinted)', (t) => {
  const p = problems('{\n  "username": "admin",\n  "password": S3cretPw77\n}');
  t.deepEqual(p, ['not valid JSON: line 3, column 15: expected a value (a string, number, object, array, true, false or null), found an unquoted word (strings need double quotes)']);
  t.false(p.join().includes('S3cret'));
  t.deepEqual(problems(''), ['not valid JSON: line 1, column 1: the file holds no JSON value (it is empty)']);
  t.deepEqual(problems('{"a": 1'), ['not valid JSON: line 1, column 8: expected "," or "}" in the object at the top level, found the end of the file']);
  t.deepEqual(problems('{"a": "S3cretPw77'), ['not valid JSON: line 1, column 7: a string is not closed (missing ")']);
  t.deepEqual(problems('{"a": "x\u0007y"}'), ['not valid JSON: line 1, column 9: a control character (U+0007) inside a string: write it as an escape such as \\u0007']);
  t.deepEqual(problems('{"a": 1}}'), ['not valid JSON: line 1, column 9: unexpected "}" after the end of the JSON value']);
  t.deepEqual(problems("{'a': 1}"), ['not valid JSON: line 1, column 2: expected a key in double quotes, found a single quote (JSON strings need double quotes)']);
  for (const bad of ['{"a": 0x1F}', '{"a": 01}', '{"a": +1}', '{"a": .5}', '{"a": 1.}']) t.regex(problems(bad)[0]!, /a malformed number|expected a value/, bad);
  t.regex(problems('{"a": NaN}')[0]!, /found NaN, which JSON has no way to write/);
  t.regex(problems('{"a": 1e999}')[0]!, /overflows to Infinity/);
});

test(`nesting deeper than ${MAX_JSON_DEPTH} levels is refused without exhausting the stack`, (t) => {
  t.notThrows(() => parseJson(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`, 'x'));
  t.regex(problems(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)[0]!, /^not valid JSON: line 1, column 65: nested more than 64 levels deep$/);
});
