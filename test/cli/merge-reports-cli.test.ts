/**
 * merge-reports on two shards' reports directories built from a real run's results (fixtures/runs):
 * one JUnit file and one summary page; a missing shard and a run given twice are named, exit 1.
 */
import test from 'ava';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { run } from '../../harness/core/exec.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';

/** A shard's reports directory: one run (the captured one, under `runId`) and its certification record. */
function shardDir(root: string, index: number, total: number, runId: string): string {
  const dir = join(root, `shard${index}`);
  mkdirSync(dir, { recursive: true });
  cpSync(RUN, join(dir, runId), { recursive: true });
  const results = JSON.parse(readFileSync(join(dir, runId, 'results.json'), 'utf8')) as { runId: string };
  writeFileSync(join(dir, runId, 'results.json'), JSON.stringify({ ...results, runId }));
  const record = { schemaVersion: 1, startedAt: '2026-12-06T01:00:00.000Z', shard: { index, total }, assigned: [`scenario-${index}`], notApplicable: index === 1 ? [{ scenario: 'kernel-panic-active', reason: 'no kernel of its own' }] : [], runs: [runId] };
  writeFileSync(join(dir, `certify-2026-12-06T01-00-00-000Z-shard-${index}-of-${total}.json`), JSON.stringify(record));
  return dir;
}

const haChaos = (args: string[]) => run('./bin/ha-chaos', args, { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });

test('two shards merge into one JUnit file (a suite per run, the not-applicable one skipped) and a summary linking each timeline', async (t) => {
  const root = tempDir();
  const a = shardDir(root, 1, 2, 'run-a');
  const b = shardDir(root, 2, 2, 'run-b');
  const out = join(root, 'merged');
  const r = await haChaos(['merge-reports', a, b, '--out', out]);
  // The captured run's verdict was not a pass: the merge says so and exits 1, complete.
  t.regex(r.stdout, /^0 of 2 run\(s\) passed \(2 of 2 shards\)/);
  t.notRegex(r.stdout, /INCOMPLETE/);
  t.is(r.exitCode, 1);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'property'].includes(n) }).parse(readFileSync(join(out, 'merged.junit.xml'), 'utf8')) as { testsuites: { tests: string; skipped: string; testsuite: Array<{ name: string; properties?: { property: Array<{ name: string; value: string }> } }> } };
  t.is(doc.testsuites.testsuite.length, 3);
  t.deepEqual(doc.testsuites.testsuite.flatMap((s) => s.properties?.property.filter((p) => p.name === 'runId').map((p) => p.value) ?? []), ['run-a', 'run-b']);
  t.is(doc.testsuites.skipped, '1');
  const summary = readFileSync(join(out, 'summary.html'), 'utf8');
  t.regex(summary, /href="\.\.\/shard1\/run-a\/timeline\.html"/);
  t.regex(summary, /href="\.\.\/shard2\/run-b\/timeline\.html"/);
  t.regex(summary, /kernel-panic-active: no kernel of its own/);
});

test('a missing shard and a run given twice are named, and the merge fails', async (t) => {
  const root = tempDir();
  const a = shardDir(root, 1, 3, 'run-a');
  const r = await haChaos(['merge-reports', a, a, '--out', join(root, 'merged')]);
  t.is(r.exitCode, 1);
  t.regex(r.stdout, /INCOMPLETE: shard 1\/3 came 2 times/);
  t.regex(r.stdout, /INCOMPLETE: shard 2\/3 is missing/);
  t.regex(r.stdout, /INCOMPLETE: run run-a given twice/);
  t.regex(readFileSync(join(root, 'merged', 'summary.html'), 'utf8'), /Incomplete/);
});

test('a directory without a certification record is a usage error naming it', async (t) => {
  const r = await haChaos(['merge-reports', tempDir()]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /no certification record \(certify-\*\.json\) in .*: is it a reports directory of certify\?/);
});
