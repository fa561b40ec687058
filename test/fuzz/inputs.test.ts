/**
 * Fuzz test of everything the harness reads (issue 8): seeded, bounded, generated from the valid
 * fixtures (fixtures/scenarios/*.yaml, vagrant/lab.json, fixtures/bmc/node1.json and the recorded
 * run in fixtures/runs/). Each malformed input must either load, or be refused with exit-code-2
 * semantics: the project's own error (ValidationError, or CliError with USAGE), a message that
 * names the file and the field or line, and no stack trace. No case may crash, hang (each is
 * timed) or grow memory without bound. The run directory goes through the CLI's own `report` and
 * `report --rejudge` (in-process) and through everything `replay` checks before it would start
 * the lab (replayPlan); nothing here can reach a lab.
 *
 * HA_CHAOS_FUZZ_SEED and HA_CHAOS_FUZZ_CASES (per input kind) change the seed and the size.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadBmcConfig } from '../../harness/bmc/bmc-config.ts';
import { rejudge, replayPlan } from '../../harness/cli/certify-command.ts';
import { CliError, ExitCode } from '../../harness/cli/exit-codes.ts';
import { exitCodeFor, program } from '../../harness/cli/main.ts';
import { INPUT_LIMITS } from '../../harness/core/input-file.ts';
import { SeededRandom } from '../../harness/core/random.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { DEFAULT_LAB_CONFIG, loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { readResults } from '../../harness/report/run-dir.ts';
import { loadScenarioFile } from '../../harness/scenario/scenario-file.ts';
import { tempDir } from '../helpers.ts';
import { mutant, mutantLines, type Json } from './mutate.ts';

const SEED = Number(process.env.HA_CHAOS_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.HA_CHAOS_FUZZ_CASES ?? 400);
/** A single case taking longer than this is a hang in the making (each takes well under 50 ms). */
const CASE_LIMIT_MS = 2000;
/** Memory the whole fuzz run may add (the resident set, sampled). */
const MEMORY_LIMIT_BYTES = 400 * 1024 * 1024;

const RUN_FIXTURE = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';
const BMC_FIXTURE = 'fixtures/bmc/node1.json';
const BMC_PASSWORD = 'Fixture-Pw-71';

/** What a problem line may start with: a line, a JSON pointer, a field name, or a reason for not reading the file. */
const NAMES_WHERE = /^(line \d+|\/|\(top level\)|"|[A-Za-z$_][\w$.-]*(, [A-Za-z$_][\w$-]*)*: |cannot read this |not valid JSON: line \d+|history line \d+|YAML)/;
const STACK_TRACE = /\n\s+at .+(:\d+:\d+\)?|\(native\))$/m;

interface Stats {
  cases: number;
  loaded: number;
  rejected: number;
  slowestMs: number;
  failures: string[];
}

const newStats = (): Stats => ({ cases: 0, loaded: 0, rejected: 0, slowestMs: 0, failures: [] });

/** Runs one case and checks its outcome. `where` must appear in a refusal's message (the file or run directory). */
function check(stats: Stats, label: string, where: string, action: () => unknown): void {
  stats.cases += 1;
  const started = performance.now();
  let error: unknown;
  try {
    action();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  const fail = (why: string) => stats.failures.push(`${label}: ${why}`);
  if (ms > CASE_LIMIT_MS) fail(`took ${ms.toFixed(0)} ms`);
  if (error === undefined) {
    stats.loaded += 1;
    return;
  }
  if (error instanceof CliError && error.exitCode === ExitCode.VERDICT_FAILED) {
    // The run directory was read and judged: a verdict, not bad input.
    stats.loaded += 1;
    return;
  }
  stats.rejected += 1;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ValidationError || (error instanceof CliError && error.exitCode === ExitCode.USAGE))) {
    return void fail(`${error instanceof Error ? error.name : typeof error} (exit ${exitCodeFor(error)}), not a ValidationError or usage error: ${message.slice(0, 300)}`);
  }
  if (exitCodeFor(error) !== 2) fail(`exit code ${exitCodeFor(error)}`);
  if (!message.includes(where)) fail(`the message does not name ${where}: ${message.slice(0, 300)}`);
  if (error instanceof ValidationError) {
    const vague = error.problems.filter((p) => !NAMES_WHERE.test(p));
    if (vague.length) fail(`a problem names no field or line: ${vague[0]!.slice(0, 200)}`);
  }
  if (STACK_TRACE.test(message)) fail(`a stack trace in the message: ${message.slice(0, 300)}`);
  if (message.length > 20_000) fail(`a ${message.length}-character message`);
  if (message.includes(BMC_PASSWORD)) fail('the BMC password is printed');
}

/** Now and then the file is not a file at all: a directory, a FIFO, /dev/zero, missing, or over its limit. */
function oddFile(random: SeededRandom, file: string, limit: number): string | undefined {
  const kind = random.int(40);
  rmSync(file, { recursive: true, force: true });
  if (kind === 0) mkdirSync(file);
  else if (kind === 1) spawnSync('mkfifo', [file]);
  else if (kind === 2) symlinkSync('/dev/zero', file);
  else if (kind === 3) return 'a missing file';
  else if (kind === 4) writeFileSync(file, `# ${'x'.repeat(limit)}\n`);
  else return undefined;
  return ['a directory', 'a FIFO', 'a link to /dev/zero', 'a missing file', 'an oversized file'][kind];
}

let rssPeak = 0;
const sampleMemory = () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss));
const rssStart = process.memoryUsage().rss;

function report(t: ExecutionContext, kind: string, stats: Stats, ms: number): void {
  sampleMemory();
  t.log(
    `${kind}: ${stats.cases} cases in ${ms.toFixed(0)} ms (seed ${SEED}): ${stats.loaded} loaded, ${stats.rejected} refused with exit code 2; ` +
      `slowest case ${stats.slowestMs.toFixed(1)} ms; resident memory +${((rssPeak - rssStart) / 2 ** 20).toFixed(0)} MiB so far`,
  );
  t.deepEqual(stats.failures.slice(0, 5), [], `${stats.failures.length} failing ${kind} case(s)`);
  t.true(rssPeak - rssStart < MEMORY_LIMIT_BYTES, `memory grew by ${((rssPeak - rssStart) / 2 ** 20).toFixed(0)} MiB`);
}

test.serial('scenario files', (t) => {
  const random = new SeededRandom(SEED).fork('scenario');
  const fixtures = readdirSync('fixtures/scenarios').filter((f) => f.endsWith('.yaml')).map((f) => parse(readFileSync(join('fixtures/scenarios', f), 'utf8')) as Json);
  const dir = tempDir('ha-chaos-fuzz-scenario-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stats = newStats();
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const file = join(dir, `case-${i}.yaml`);
    const odd = oddFile(random, file, INPUT_LIMITS.scenario);
    const { text, what } = mutant(random, fixtures[random.int(fixtures.length)]!, 'yaml');
    if (odd === undefined) writeFileSync(file, text);
    check(stats, `scenario case ${i} (${odd ?? what.join('; ')})`, file, () => loadScenarioFile(file));
    rmSync(file, { recursive: true, force: true });
    if (i % 50 === 0) sampleMemory();
  }
  report(t, 'scenario files', stats, performance.now() - started);
});

test.serial('lab configs', (t) => {
  const random = new SeededRandom(SEED).fork('lab');
  const fixture = JSON.parse(readFileSync(DEFAULT_LAB_CONFIG, 'utf8')) as Json;
  const dir = tempDir('ha-chaos-fuzz-lab-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stats = newStats();
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const file = join(dir, `lab-${i}.json`);
    const odd = oddFile(random, file, INPUT_LIMITS.labConfig);
    const { text, what } = mutant(random, fixture, 'json');
    if (odd === undefined) writeFileSync(file, text);
    check(stats, `lab case ${i} (${odd ?? what.join('; ')})`, file, () => loadLabConfig(file));
    rmSync(file, { recursive: true, force: true });
    if (i % 50 === 0) sampleMemory();
  }
  report(t, 'lab configs', stats, performance.now() - started);
});

test.serial('BMC configs, password files included', (t) => {
  const random = new SeededRandom(SEED).fork('bmc');
  const fixture = JSON.parse(readFileSync(BMC_FIXTURE, 'utf8')) as Record<string, Json>;
  const dir = tempDir('ha-chaos-fuzz-bmc-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stats = newStats();
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const file = join(dir, `bmc-${i}.json`);
    let base: Json = fixture;
    // A quarter of the cases take the password from a file, itself perhaps hostile.
    if (random.int(4) === 0) {
      const pwFile = join(dir, `pw-${i}`);
      const odd = oddFile(random, pwFile, INPUT_LIMITS.password);
      if (odd === undefined) writeFileSync(pwFile, [`${BMC_PASSWORD}\n`, 'has spaces in it\n', '\u0007bell-pw\n', 'x'.repeat(30), '', 'pw'][random.int(6)]!);
      const { password: _password, ...rest } = fixture;
      base = { ...rest, passwordFile: pwFile };
    }
    const odd = oddFile(random, file, INPUT_LIMITS.bmcConfig);
    const { text, what } = mutant(random, base, 'json');
    if (odd === undefined) writeFileSync(file, text);
    check(stats, `BMC case ${i} (${odd ?? what.join('; ')})`, file, () => loadBmcConfig(file));
    rmSync(file, { recursive: true, force: true });
    if (i % 50 === 0) sampleMemory();
  }
  report(t, 'BMC configs', stats, performance.now() - started);
});

test.serial('run directories through report, report --rejudge and replay', async (t) => {
  const random = new SeededRandom(SEED).fork('run-dir');
  const root = tempDir('ha-chaos-fuzz-run-');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'run');
  cpSync(RUN_FIXTURE, dir, { recursive: true });
  const originals = Object.fromEntries(['run.json', 'results.json', 'observations.json', 'history.jsonl'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  const limits: Record<string, number> = { 'run.json': INPUT_LIMITS.manifest, 'results.json': INPUT_LIMITS.results, 'observations.json': INPUT_LIMITS.observations, 'history.jsonl': 4096 };
  const stats = newStats();
  const cli = (args: string[]) => async () => program().parseAsync(['node', 'ha-chaos', ...args]);
  // The CLI prints a summary for a run it could read: keep the test's output for the counts.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const started = performance.now();
  try {
    const cases = Math.ceil(CASES / 2);
    for (let i = 0; i < cases; i++) {
      const target = ['run.json', 'results.json', 'observations.json', 'history.jsonl'][random.int(4)]!;
      const file = join(dir, target);
      let what: string;
      const odd = target === 'history.jsonl' && random.int(4) === 0 ? undefined : oddFile(random, file, limits[target]!);
      if (odd !== undefined) what = odd || 'a missing file';
      else if (target === 'history.jsonl') {
        const m = mutantLines(random, originals[target]!);
        writeFileSync(file, m.text);
        what = m.what.join('; ');
      } else {
        const m = mutant(random, JSON.parse(originals[target]!) as Json, 'json');
        writeFileSync(file, m.text);
        what = m.what.join('; ');
      }
      const label = `run-dir case ${i} (${target}: ${what})`;
      for (const [name, action] of [
        ['report', cli(['report', dir])],
        ['report --rejudge', cli(['report', dir, '--rejudge'])],
      ] as const) {
        // The CLI is async; time it and check it like the synchronous loaders.
        let error: unknown;
        const t0 = performance.now();
        await action().catch((e: unknown) => (error = e));
        const ms = performance.now() - t0;
        check(stats, `${label}, ${name}${ms > CASE_LIMIT_MS ? ` took ${ms.toFixed(0)} ms` : ''}`, dir, () => {
          if (ms > CASE_LIMIT_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
          if (error !== undefined) throw error;
        });
      }
      check(stats, `${label}, replay`, dir, () => replayPlan(dir));
      check(stats, `${label}, rejudge`, dir, () => rejudge(dir, readResults(dir)));
      rmSync(file, { recursive: true, force: true });
      writeFileSync(file, originals[target]!);
      if (i % 25 === 0) sampleMemory();
    }
  } finally {
    process.stdout.write = write;
  }
  report(t, 'run directories', stats, performance.now() - started);
});
