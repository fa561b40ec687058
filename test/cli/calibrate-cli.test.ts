/**
 * `calibrate` refuses what it cannot make a baseline of, before any lab is touched: bad flags, and
 * recorded runs of another scenario (exit 2, naming the run and why).
 */
import test from 'ava';
import { run } from '../../harness/core/exec.ts';

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
