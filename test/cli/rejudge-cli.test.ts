/**
 * `ha-chaos report --rejudge` on a real run directory (fixtures/runs/): its first verdict was
 * wrong (a promotion after the heal judged as a takeover); the fixed checkers pass it.
 */
import test from 'ava';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';

test('the recorded verdict stands without --rejudge: FAIL, exit 1', async (t) => {
  const r = await run('./bin/ha-chaos', ['report', RUN], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 1);
  t.regex(r.stdout, /^FAIL replication-loss-then-power-cut-active/);
  t.regex(r.stdout, /FAILED {2}fencing: node1 promoted although it must not take over/);
});

test('--rejudge judges the history and observations again with this version: PASS, exit 0, results.json untouched', async (t) => {
  const r = await run('./bin/ha-chaos', ['report', RUN, '--rejudge'], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^judged again by this version's checkers \(recorded verdict: false\)\nPASS replication-loss-then-power-cut-active/);
  t.regex(r.stdout, /ok {6}fencing: no takeover, as required; node2 fenced/);
  t.regex(r.stdout, /ok {6}mail-integrity: all 55 acknowledged messages read back exactly once/);
  const again = await run('./bin/ha-chaos', ['report', RUN], { timeoutMs: 60_000, reject: false });
  t.is(again.exitCode, 1, 'the recorded results are kept');
});

test('--rejudge without observations says what is missing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-chaos-rejudge-'));
  cpSync(RUN, dir, { recursive: true });
  rmSync(join(dir, 'observations.json'));
  const r = await run('./bin/ha-chaos', ['report', dir, '--rejudge'], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /no observations\.json to judge again from/);
});
