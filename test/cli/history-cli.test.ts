/** history import + trend, end to end on a captured run's directory copied as two runs. */
import test from 'ava';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
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
  t.regex(html, /<section data-scenario="replication-loss-then-power-cut-active" data-config="lab">/);
  t.regex(html, /<td class="runs">2<\/td><td class="pass-rate">0%<\/td>/);
  t.regex(html, /href="night-1\/timeline\.html"/);
});

test('trend without a history says how to make one (exit 2)', async (t) => {
  const r = await haChaos(['trend', '--history', join(tempDir(), 'none.db')]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /no history at .*none\.db; run certify, or ha-chaos history import <reports dirs>/);
});
