/**
 * The CLI on broken run directories and bad run flags: exit 2 naming the file and field or the
 * flag, before any lab is touched. (No case here is valid input: none may reach the lab.)
 */
import test from 'ava';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { CliError } from '../../harness/cli/exit-codes.ts';
import { exitCodeFor, program } from '../../harness/cli/main.ts';
import { checkSeedRange } from '../../harness/cli/certify-command.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';
const haChaos = (args: string[]) => run('./bin/ha-chaos', args, { timeoutMs: 60_000, reject: false });

function brokenRun(change: (dir: string) => void): string {
  const dir = join(tempDir('ha-chaos-cli-run-'), 'run');
  cpSync(RUN, dir, { recursive: true });
  change(dir);
  return dir;
}

test('report, report --rejudge and replay on damaged files: exit 2 naming the file and field, no stack trace', async (t) => {
  const garbage = brokenRun((d) => {
    writeFileSync(join(d, 'run.json'), 'garbage');
    writeFileSync(join(d, 'results.json'), 'null');
  });
  const report = await haChaos(['report', garbage]);
  t.is(report.exitCode, 2);
  t.is(report.stderr, `ha-chaos: ${join(garbage, 'results.json')} is invalid:\n  - line 1: (top level): must be object`);
  const replay = await haChaos(['replay', garbage]);
  t.is(replay.exitCode, 2);
  t.regex(replay.stderr, /run\.json is invalid:\n {2}- not valid JSON: line 1, column 1: expected a value/);
  const yes = brokenRun((d) => {
    const o = JSON.parse(readFileSync(join(d, 'observations.json'), 'utf8')) as { convergence: { ok: unknown } };
    o.convergence.ok = 'yes';
    writeFileSync(join(d, 'observations.json'), JSON.stringify(o, null, 2));
  });
  const rejudge = await haChaos(['report', yes, '--rejudge']);
  t.is(rejudge.exitCode, 2);
  t.regex(rejudge.stderr, /observations\.json is invalid:\n {2}- line \d+: \/convergence\/ok: must be boolean$/);
  for (const r of [report, replay, rejudge]) t.notRegex(r.stderr, /\n\s+at .*:\d+:\d+/);
});

test('replay of a run with seed 2^32+5 is refused (it would replay as seed 5)', async (t) => {
  const dir = brokenRun((d) => {
    const m = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as { seed: number };
    m.seed = 2 ** 32 + 5;
    writeFileSync(join(d, 'run.json'), JSON.stringify(m, null, 2));
  });
  const r = await haChaos(['replay', dir]);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /run\.json is invalid:\n {2}- line \d+: \/seed: must be <= 4294967295/);
});

test("--seed '', 0x1F, 1.5, 2^32 and --repeat 0 are usage errors (parsed in-process: no lab is reached)", async (t) => {
  const cases: [string[], RegExp][] = [
    [['certify', '--seed', ''], /^--seed: "" is not a seed: a decimal integer from 0 to 4294967295$/],
    [['certify', '--seed', '0x1F'], /^--seed: "0x1F" is not a seed/],
    [['run', 'x.yaml', '--seed', '1.5'], /^--seed: "1\.5" is not a seed/],
    [['certify', '--seed', '-1'], /^--seed: "-1" is not a seed/],
    [['certify', '--seed', '4294967296'], /^--seed: "4294967296" is out of range; it must be a seed: a decimal integer from 0 to 4294967295$/],
    [['certify', '--repeat', '0'], /^--repeat: "0" is out of range; it must be a number of runs: a decimal integer from 1 to 1000$/],
    [['replay', RUN, '--repeat', '0'], /^--repeat: "0" is out of range/],
  ];
  for (const [args, message] of cases) {
    const error = await t.throwsAsync(program().parseAsync(['node', 'ha-chaos', ...args]), { instanceOf: CliError }, args.join(' '));
    t.is(exitCodeFor(error), 2);
    t.regex(error!.message, message, args.join(' '));
  }
  t.throws(() => checkSeedRange(4294967295, 2), { instanceOf: CliError, message: /the last run's seed would be 4294967296, over the largest seed 4294967295/ });
  t.notThrows(() => checkSeedRange(4294967294, 2));
  const r = await haChaos(['certify', '--repeat', '0']);
  t.is(r.exitCode, 2, 'and the same through the real CLI');
  t.regex(r.stderr, /^ha-chaos: --repeat: "0" is out of range/);
});
