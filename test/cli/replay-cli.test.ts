import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';

const labConfig = JSON.parse(readFileSync('vagrant/lab.json', 'utf8')) as Record<string, unknown>;

function runDir(manifest: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ha-chaos-replay-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ runId: 'r1', name: 'x', seed: 5, phase: 'results', startedAt: '2026-11-25T00:00:00.000Z', ...manifest }));
  return dir;
}

test('replay refuses a directory that is not a run', async (t) => {
  const r = await run('./bin/ha-chaos', ['replay', tmpdir()], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /not a run directory \(no run\.json\)/);
});

test('replay checks the recorded scenario and lab config before touching the lab, naming the field', async (t) => {
  const broken = runDir({ scenario: { ...SCENARIOS['power-cut-active'], fault: 'meteor-strike' }, lab: labConfig });
  const r = await run('./bin/ha-chaos', ['replay', broken], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /run\.json is invalid:\n {2}- line 1: \/scenario\/fault: must be one of/);
  const badLab = runDir({ scenario: SCENARIOS['power-cut-active'], lab: { ...labConfig, name: 'Bad Name' } });
  const l = await run('./bin/ha-chaos', ['replay', badLab], { timeoutMs: 60_000, reject: false });
  t.is(l.exitCode, 2);
  t.regex(l.stderr, /run\.json is invalid:\n {2}- line 1: \/lab\/name: must be 1-12 lowercase letters and digits/);
});

test('report exits 1 for a run that did not pass, 0 for one that did', async (t) => {
  const results = { schemaVersion: 1, runId: 'r1', name: 'power-cut-active', seed: 1, startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:01:00.000Z', checks: {} };
  const unknown = runDir({});
  writeFileSync(join(unknown, 'results.json'), JSON.stringify({ ...results, valid: 'unknown', summary: 'interrupted' }));
  const r = await run('./bin/ha-chaos', ['report', unknown], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 1);
  t.regex(r.stdout, /^UNKNOWN power-cut-active/);
  t.regex(r.stderr, /run r1 did not pass \(verdict: unknown\)/);
  const pass = runDir({});
  writeFileSync(join(pass, 'results.json'), JSON.stringify({ ...results, valid: true, summary: 'all 5 checks passed' }));
  const p = await run('./bin/ha-chaos', ['report', pass], { timeoutMs: 60_000, reject: false });
  t.is(p.exitCode, 0);
});
