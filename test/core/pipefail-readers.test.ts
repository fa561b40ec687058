/**
 * No early-exit reader on a pipe (issue 22): under `set -o pipefail`, `grep -q`, `grep -m` or
 * `head` exits at its first match, the writer may die of SIGPIPE, and the pipeline fails although
 * the match was there ("static addresses did not come up" in 1 lane bring-up of 6). Every node and
 * host script the harness ships is scanned; read the whole input instead (`grep ... >/dev/null`).
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const EARLY_EXIT = /\|\s*(grep\s+(-[A-Za-z]*[qm][A-Za-z0-9]*(\s|$)|--quiet|--max-count)|head\b|sed\s+-n\s+['"]?\d*q)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return /\.(ts|sh|py|mjs)$|^[a-z-]+$/.test(name) ? [path] : [];
  });
}

test('no script of the harness pipes into an early-exit reader', (t) => {
  const offenders: string[] = [];
  for (const file of [...files('harness'), ...files('vagrant'), ...files('containers'), ...files('scripts')]) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (EARLY_EXIT.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
  }
  t.deepEqual(offenders, []);
});

test('the scan finds the pattern it is meant to find', (t) => {
  t.true(EARLY_EXIT.test("ip -4 -o addr show | grep -q ' 10.0.0.1/'"));
  t.true(EARLY_EXIT.test('crm_mon -1 | head -n 3'));
  t.true(EARLY_EXIT.test('x | grep -m1 y'));
  t.false(EARLY_EXIT.test("ip -4 -o addr show | grep -F ' 10.0.0.1/' >/dev/null"));
});
