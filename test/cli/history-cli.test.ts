/** history import + trend, end to end on a captured run's directory copied as two runs. */
import test from 'ava';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';
const haChaos = (args: string[]) => run('./bin/ha-chaos', args, { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });

test('runs imported from a reports directory (twice: replaced, not doubled); the trend page shows them', async (t) => {
  const reports = tempDir();
  for (const [id, day] of [['night-1', '01'], ['night-2', '02']] as const) {
    cpSync(RUN, join(reports, id), { recursive: true });
    const results = JSON.parse(readFileSync(join(reports, id, 'results.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(reports, id, 'results.json'), JSON.stringify({ ...results, runId: id, startedAt: `2026-12-${day}T02:00:00.000Z` }));
  }
  // A run store's `latest` link: the run it points to is imported once, not twice.
  symlinkSync('night-2', join(reports, 'latest'));
  const history = join(reports, 'history.db');
  const first = await haChaos(['history', 'import', reports, '--history', history]);
  t.is(first.exitCode, 0, first.stderr);
  t.regex(first.stdout, /^2 run\(s\) imported into .*history\.db in [\d.]+ s; it holds 2$/m);
  const again = await haChaos(['history', 'import', join(reports, 'night-2'), '--history', history]);
  t.regex(again.stdout, /^1 run\(s\) imported .*; it holds 2$/m);
  const page = join(reports, 'trend.html');
  const trend = await haChaos(['trend', '--history', history, '--out', page]);
  t.is(trend.exitCode, 0, trend.stderr);
  const html = readFileSync(page, 'utf8');
  // A run recorded before versions were read: its variant and versions unknown, said so.
  t.regex(html, /<section data-scenario="replication-loss-then-power-cut-active" data-config="lab" data-variant="unknown">/);
  t.regex(html, /<td class="versions">not recorded<\/td><td>2<\/td>/);
  t.regex(html, /<td class="runs">2<\/td><td class="pass-rate">0%<\/td>/);
  t.regex(html, /href="night-1\/timeline\.html"/);
});

test('trend without a history says how to make one (exit 2)', async (t) => {
  const r = await haChaos(['trend', '--history', join(tempDir(), 'none.db')]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /no history at .*none\.db; run certify, or ha-chaos history import <reports dirs>/);
});

test('trend narrowed by configuration or cluster version: a filter nothing matches is named (exit 2); a malformed one names the flag', async (t) => {
  const reports = tempDir();
  cpSync(RUN, join(reports, 'night-1'), { recursive: true });
  const history = join(reports, 'history.db');
  t.is((await haChaos(['history', 'import', reports, '--history', history])).exitCode, 0);
  const none = await haChaos(['trend', '--history', history, '--out', join(reports, 't.html'), '--config', 'variants', '--cluster-version', 'pacemaker=2.1.6']);
  t.is(none.exitCode, 2);
  t.regex(none.stderr, /none of the 1 run\(s\) in .*history\.db matches --config variants --cluster-version pacemaker=2\.1\.6/);
  const bad = await haChaos(['trend', '--history', history, '--cluster-version', 'pacemaker 2.1.6']);
  t.is(bad.exitCode, 2);
  t.regex(bad.stderr, /--cluster-version: "pacemaker 2\.1\.6" is not component=version/);
  const badConfig = await haChaos(['trend', '--history', history, '--config', '../x']);
  t.is(badConfig.exitCode, 2);
  t.regex(badConfig.stderr, /--config: "\.\.\/x" is not a configuration name/);
  const lab = await haChaos(['trend', '--history', history, '--out', join(reports, 'lab.html'), '--config', 'lab']);
  t.is(lab.exitCode, 0, lab.stderr);
  t.regex(readFileSync(join(reports, 'lab.html'), 'utf8'), /Only runs with configuration lab\./);
});
