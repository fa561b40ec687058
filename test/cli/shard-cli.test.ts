/** certify --shard: this host's share of the scenarios, the same on every host; bad input is exit 2 before anything starts. */
import test from 'ava';
import { run } from '../../harness/core/exec.ts';
import { shardOf } from '../../harness/cli/certify-command.ts';
import { CliError, ExitCode } from '../../harness/cli/exit-codes.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';

const ALL = Object.values(SCENARIOS);

test('four shards split the catalogue, each scenario once; the environment gives the shard when the flag does not', (t) => {
  const parts = [1, 2, 3, 4].map((index) => shardOf(ALL, { index, total: 4 }, {}).scenarios.map((s) => s.name));
  t.deepEqual(parts.flat().sort(), ALL.map((s) => s.name).sort());
  t.deepEqual(shardOf(ALL, undefined, { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }).scenarios.map((s) => s.name), parts[1]);
  t.deepEqual(shardOf(ALL, { index: 3, total: 4 }, { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }).scenarios.map((s) => s.name), parts[2], 'the flag wins');
  t.deepEqual(shardOf(ALL, undefined, {}), { scenarios: ALL }, 'not sharded: all');
  const error = t.throws(() => shardOf(ALL, undefined, { CI_NODE_TOTAL: '4' }), { instanceOf: CliError });
  t.is(error.exitCode, ExitCode.USAGE);
  t.regex(error.message, /only CI_NODE_TOTAL is set\); or give --shard i\/n/);
});

test('certify --shard 5/4 is a usage error (exit 2) naming the flag, before any lab is touched', async (t) => {
  const r = await run('./bin/ha-chaos', ['certify', '--shard', '5/4'], { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /--shard: shard 5 of 4: the index runs from 1 to 4/);
});

test('recorded wall times balance the shards: the long scenarios spread, each scenario still once', (t) => {
  const names = ALL.map((s) => s.name);
  // The two longest (15 min each) on different shards, whatever their catalogue order.
  const durations = Object.fromEntries(names.map((n) => [n, n === 'power-cut-bmc-dead-active' || n === 'replication-loss-then-power-cut-active' ? 900 : 200]));
  const parts = [1, 2].map((index) => shardOf(ALL, { index, total: 2 }, {}, durations).scenarios.map((s) => s.name));
  t.deepEqual(parts.flat().sort(), [...names].sort());
  t.true(parts.every((p) => p.includes('power-cut-bmc-dead-active') !== p.includes('replication-loss-then-power-cut-active')), JSON.stringify(parts));
  const load = parts.map((p) => p.reduce((sum, n) => sum + durations[n]!, 0));
  t.true(Math.abs(load[0]! - load[1]!) <= 200, `loads ${load.join(' and ')}`);
});

test('certify --scenario given twice is a usage error naming it and --repeat', async (t) => {
  const r = await run('./bin/ha-chaos', ['certify', '--scenario', 'freeze-active', '--scenario', 'freeze-active'], { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /--scenario: freeze-active given twice \(use --repeat/);
});
