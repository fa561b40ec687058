/**
 * Broken run directories (report, replay, report --rejudge): every damaged file is a
 * ValidationError naming the file and the field, exit code 2, checked on the literal inputs of
 * the issue (an empty, garbage or null run.json, results.json without checks, a missing file,
 * convergence.ok "yes", seeds "5", 1.5, -1, 2^32+5 and a missing one).
 */
import test from 'ava';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../harness/cli/main.ts';
import { rejudge, replayPlan } from '../../harness/cli/certify-command.ts';
import { CliError } from '../../harness/cli/exit-codes.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { readManifest, readObservations, readResults } from '../../harness/report/run-dir.ts';
import type { RunResults } from '../../harness/report/results.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';

function copy(): string {
  const dir = join(tempDir('ha-chaos-rundir-'), 'run');
  cpSync(RUN, dir, { recursive: true });
  return dir;
}

function edit(dir: string, file: string, change: (v: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  change(value);
  writeFileSync(join(dir, file), JSON.stringify(value, null, 2));
}

function refusal(action: () => unknown): ValidationError | CliError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof CliError) {
      if (exitCodeFor(error) !== 2) throw new Error(`exit code ${exitCodeFor(error)}: ${error.message}`, { cause: error });
      return error;
    }
    throw error;
  }
  throw new Error('accepted');
}

test('the recorded fixture reads back whole', (t) => {
  t.is(readManifest(RUN).seed, 5);
  t.is(readResults(RUN).valid, false);
  t.is(readObservations(RUN).convergence!.ok, true);
  t.is(replayPlan(RUN).seed, 5);
});

test('an empty, garbage or null run.json names the file', (t) => {
  const dir = copy();
  const file = join(dir, 'run.json');
  for (const [content, problem] of [
    ['', 'not valid JSON: line 1, column 1: the file holds no JSON value (it is empty)'],
    ['garbage', 'not valid JSON: line 1, column 1: expected a value (a string, number, object, array, true, false or null), found an unquoted word (strings need double quotes)'],
    ['null', '(top level): must be object'],
  ]) {
    writeFileSync(file, content!);
    for (const action of [() => readManifest(dir), () => replayPlan(dir), () => rejudge(dir, readResults(dir))]) {
      const error = refusal(action) as ValidationError;
      t.is(error.source, file);
      t.true(error.problems.includes(problem!) || error.problems.includes(`line 1: ${problem}`), `${content}: ${error.message}`);
    }
  }
});

test('results.json without checks, or with a bad verdict, names the field and line', (t) => {
  const dir = copy();
  edit(dir, 'results.json', (r) => delete r.checks);
  const error = refusal(() => readResults(dir)) as ValidationError;
  t.is(error.message, `${join(dir, 'results.json')} is invalid:\n  - line 1: checks: is required but missing`);
  edit(dir, 'results.json', (r) => {
    r.checks = { fencing: { valid: 'maybe', summary: 'x' } };
  });
  t.regex(refusal(() => readResults(dir)).message, /line \d+: \/checks\/fencing\/valid: must be one of true, false, "unknown"/);
});

test('a missing history or observations file is named', (t) => {
  const dir = copy();
  rmSync(join(dir, 'history.jsonl'));
  const recorded = readResults(dir);
  t.is(refusal(() => rejudge(dir, recorded)).message, `${join(dir, 'history.jsonl')} is invalid:\n  - cannot read this history: it does not exist`);
  rmSync(join(dir, 'observations.json'));
  t.regex(refusal(() => rejudge(dir, recorded)).message, /no observations\.json to judge again from/);
});

test('convergence.ok "yes" does not re-judge as a pass: observations are validated on re-read', (t) => {
  const dir = copy();
  edit(dir, 'observations.json', (o) => {
    (o.convergence as Record<string, unknown>).ok = 'yes';
  });
  const error = refusal(() => rejudge(dir, readResults(dir) as RunResults)) as ValidationError;
  t.is(error.source, join(dir, 'observations.json'));
  t.regex(error.problems[0]!, /^line \d+: \/convergence\/ok: must be boolean$/);
  edit(dir, 'observations.json', (o) => {
    (o.convergence as Record<string, unknown>).ok = true;
    o.samples = 'none';
  });
  t.regex(refusal(() => rejudge(dir, readResults(dir))).message, /\/samples: must be array/);
});

test('replay checks the recorded seed: "5", 1.5, -1, 2^32+5 and a missing seed are refused before the lab', (t) => {
  const dir = copy();
  for (const [seed, problem] of [
    ['5', '/seed: must be integer'],
    [1.5, '/seed: must be integer'],
    [-1, '/seed: must be >= 0'],
    [2 ** 32 + 5, '/seed: must be <= 4294967295'],
    [undefined, 'seed: is required but missing'],
  ] as const) {
    edit(dir, 'run.json', (m) => {
      if (seed === undefined) delete m.seed;
      else m.seed = seed;
    });
    const error = refusal(() => replayPlan(dir)) as ValidationError;
    t.is(error.source, join(dir, 'run.json'));
    t.regex(error.problems.join('\n'), new RegExp(`^line \\d+: ${problem.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), String(seed));
  }
});

test('a run.json without its scenario or lab names the field', (t) => {
  const dir = copy();
  edit(dir, 'run.json', (m) => delete m.scenario);
  t.is(refusal(() => replayPlan(dir)).message, `${join(dir, 'run.json')} is invalid:\n  - scenario: is required but missing (the scenario to run again)`);
  const notDir = join(dir, 'run.json');
  t.regex(refusal(() => replayPlan(notDir)).message, /not a run directory \(not a directory; expected run\.json in it\)/);
});
