/**
 * `calibrate` refuses what it cannot make a baseline of, before any lab is touched: bad flags, and
 * recorded runs of another scenario (exit 2, naming the run and why).
 */
import test from 'ava';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';
const haChaos = (args: string[]) => run('./bin/ha-chaos', args, { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });

test('calibrate --from a run of another scenario, or too few runs: exit 2 with the reason', async (t) => {
  const other = await haChaos(['calibrate', '--from', RUN, RUN, RUN]);
  t.is(other.exitCode, 2, other.stderr);
  t.regex(other.stderr, /a replication-loss-then-power-cut-active run; calibration uses power-cut-active runs/);
  t.notRegex(other.stderr, /\n\s+at /, 'no stack trace');
});

test('calibrate --runs out of range: exit 2 naming the flag', async (t) => {
  for (const runs of ['2', '21', 'x']) {
    const r = await haChaos(['calibrate', '--runs', runs]);
    t.is(r.exitCode, 2, `--runs ${runs}: ${r.stderr}`);
    t.regex(r.stderr, /--runs/);
  }
});

/** A copy of the recorded run, made into a power-cut-active run of the current lab config, with `edit` applied to its results. */
function baselineRun(dir: string, edit: (results: Record<string, unknown>) => void): string {
  cpSync(RUN, dir, { recursive: true });
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, unknown> & { metrics?: Record<string, unknown> };
  results.name = 'power-cut-active';
  results.valid = true;
  results.metrics = { ...results.metrics, outageSeconds: 61.5, phasesSecondsAfterFault: { 'fence-confirmed': 21.6 } };
  edit(results);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
  const manifest = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...manifest, name: 'power-cut-active', lab: loadLabConfig() }));
  return dir;
}

test('calibrate --from the same run three times, a failed run, or an outage of 1e300 s: exit 2, no baseline', async (t) => {
  const root = tempDir();
  const good = baselineRun(join(root, 'good'), () => {});
  const same = await haChaos(['calibrate', '--from', good, good, good]);
  t.is(same.exitCode, 2, same.stderr);
  t.regex(same.stderr, /the same run directory as .*good; each run counts once/);
  const failed = baselineRun(join(root, 'failed'), (r) => (r.valid = false));
  const r1 = await haChaos(['calibrate', '--from', good, failed, baselineRun(join(root, 'good2'), () => {})]);
  t.is(r1.exitCode, 2, r1.stderr);
  t.regex(r1.stderr, /failed: the run did not pass \(verdict false\)/);
  const huge = baselineRun(join(root, 'huge'), (r) => ((r.metrics as Record<string, unknown>).outageSeconds = 1e300));
  const r2 = await haChaos(['calibrate', '--from', good, huge, join(root, 'good2')]);
  t.is(r2.exitCode, 2, r2.stderr);
  t.regex(r2.stderr, /huge: metrics\.outageSeconds is not an outage from 0 to 3600 s/);
});
