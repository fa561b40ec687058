/** The test command's count of AVA's output: a failed hook and the tests it stopped are failures. */
import test from 'ava';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain ES module of the test command (scripts/), no types
import { countAva } from '../../scripts/ava-count.mjs';

test("a tier whose before hook failed counts the hook and every test it stopped (captured from AVA 7)", (t) => {
  const output = readFileSync('fixtures/ava/before-hook-failed.txt', 'utf8');
  // One test passed, one failed by its own assertion; the hook failed and stopped three tests.
  t.deepEqual(countAva(output), { passed: 1, failed: 1 + 1 + 3 });
});

test('a clean summary counts the ✔ lines, and nothing failed', (t) => {
  t.deepEqual(countAva('  ✔ a › one\n  ✔ a › two\n  ─\n\n  2 tests passed\n'), { passed: 2, failed: 0 });
});
