/** `ha-chaos certify` (bring the lab up, run scenarios, exit non-zero on any failed verdict) and `ha-chaos report <run-dir>`. */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { Command } from 'commander';
import { rootLogger } from '../core/log.ts';
import { Lab } from '../lab/lab.ts';
import { DEFAULT_LAB_CONFIG, loadLabConfig, type LabConfig } from '../cluster/lab-config.ts';
import { ContainerLane, DEFAULT_LANE_CONFIG } from '../lane/container-lane.ts';
import { ExistingCluster } from '../existing/existing-cluster.ts';
import type { Target } from '../session/target.ts';
import { createInterface } from 'node:readline/promises';
import { MAX_SEED } from '../core/random.ts';
import { hasRunFile, readHistory, readManifest, readManifestWithLines, readObservations, readResults, recordedLab, recordedScenario, RUN_FILES } from '../report/run-dir.ts';
import { toJUnit, type NotApplicable } from '../report/junit.ts';
import type { CertificationRecord } from '../report/certification.ts';
import { historyRowOf, RunHistory } from '../report/run-history.ts';
import { overloadReasons } from '../check/overload.ts';
import { notApplicable } from '../faults/catalog.ts';
import type { RunResults } from '../report/results.ts';
import { judge, runScenario } from '../run/run-scenario.ts';
import { ensureReportsDir } from '../report/run-store.ts';
import { SCENARIOS } from '../scenario/catalog.ts';
import { loadScenarioFile } from '../scenario/scenario-file.ts';
import type { Scenario } from '../scenario/scenario.ts';
import { parseShard, scenariosOfShard, shardFromEnv, type Shard } from '../scenario/shard.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { spread } from '../calibrate/baseline.ts';
import { oneLine, terminalSafe } from '../core/terminal-text.ts';
import { writePrivateFile } from '../core/host-files.ts';
import { checkPathArgument, decimalFlag, pathFlag } from './flags.ts';
import { interruptSignal } from './interrupt.ts';

/** The most runs one command may ask for (`--repeat`). */
export const MAX_REPEAT = 1000;
const seedFlag = decimalFlag('seed', { min: 0, max: MAX_SEED, what: 'a seed' });
const repeatFlag = decimalFlag('repeat', { min: 1, max: MAX_REPEAT, what: 'a number of runs' });

/** Per scenario run more than once: how many passed and the outage's median and spread. Pure. */
export function outageSpreads(judged: RunResults[]): string[] {
  const names = [...new Set(judged.map((r) => r.name))];
  return names.flatMap((name) => {
    const runs = judged.filter((r) => r.name === name);
    if (runs.length < 2) return [];
    const outages = runs.map((r) => r.metrics?.outageSeconds).filter((o): o is number => typeof o === 'number');
    const s = spread(outages);
    const passed = runs.filter((r) => r.valid === true).length;
    return [`${name}: ${passed} of ${runs.length} passed; outage ${s ? `median ${s.median} s, spread ${s.min}-${s.max} s (MAD ${s.mad} s, ${s.n} measured)` : 'not measured'}`];
  });
}

/** One line per check, for the console. */
export function summarize(results: RunResults, dir?: string): string {
  const verdict = results.valid === true ? 'PASS' : results.valid === false ? 'FAIL' : 'UNKNOWN';
  const lines = [`${verdict} ${results.name} (run ${results.runId}, seed ${results.seed})`];
  if (results.schedule) lines.push(`  fault: ${results.schedule.fault} on ${results.schedule.node}, ${results.schedule.injectAfterSeconds} s after the workload started`);
  const expectation = (results.environment as { expectation?: { because?: unknown; weakness?: unknown } } | undefined)?.expectation;
  if (typeof expectation?.weakness === 'string') lines.push(`  expected: ${String(expectation.because)}; the architecture's weakness: ${expectation.weakness}`);
  for (const [name, r] of Object.entries(results.checks)) {
    lines.push(`  ${r.valid === true ? 'ok     ' : r.valid === false ? 'FAILED ' : 'UNKNOWN'} ${name}: ${r.summary}`);
    if (r.valid !== true && r.evidence) lines.push(`          evidence: ${r.evidence}`);
  }
  const phases = (results.metrics?.phasesSecondsAfterFault ?? {}) as Record<string, number>;
  if (Object.keys(phases).length) {
    lines.push(`  phases (s after the fault): ${Object.entries(phases).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (dir) lines.push(`  report: ${dir}/timeline.html`);
  return lines.join('\n');
}

interface CertifyFlags {
  scenario?: string[];
  history?: string;
  shard?: Shard;
  target?: string;
  lane?: string;
  yes?: boolean;
  verifyFencing?: boolean;
  seed?: number;
  repeat: number;
  config: string;
  reports: string;
}

/** A scenario by built-in name, or from a YAML file. */
function resolveScenario(value: string): Scenario {
  if (Object.hasOwn(SCENARIOS, value)) return SCENARIOS[value]!;
  if (/\.ya?ml$/.test(value) || existsSync(value)) return loadScenarioFile(value);
  throw new CliError(`--scenario: no scenario named "${value}" and no such file (built in: ${Object.keys(SCENARIOS).join(', ')})`, ExitCode.USAGE);
}

/** Runs with seeds seed, seed+1, ... seed+repeat-1 must all be seeds (at most 2^32-1): a usage error otherwise. */
export function checkSeedRange(seed: number, repeat: number): void {
  if (seed + repeat - 1 > MAX_SEED) {
    throw new CliError(`--seed ${seed} with --repeat ${repeat}: the last run's seed would be ${seed + repeat - 1}, over the largest seed ${MAX_SEED}`, ExitCode.USAGE);
  }
}

/** The target of a certification: an existing cluster (`--target`), the container lane (`--lane containers`), or the lab of `config`. */
function targetOf(flags: { target?: string; yes?: boolean; verifyFencing?: boolean; lane?: string; config?: string; reports?: string }, config: LabConfig | (() => LabConfig)): Target {
  // Where the results go is checked before anything is read or started: a bad --reports is a usage error, said first.
  if (flags.reports !== undefined) ensureReportsDir(flags.reports);
  const log = rootLogger();
  const lane = flags.lane ?? 'lab';
  if (lane !== 'lab' && lane !== 'containers') throw new CliError(`--lane: "${lane}" is not a lane (lab: the VMs; containers: the container lane)`, ExitCode.USAGE);
  if (flags.target && lane === 'containers') throw new CliError('--target and --lane containers: a certification has one target (an existing cluster, or the container lane)', ExitCode.USAGE);
  if (flags.target) return ExistingCluster.fromFile(flags.target, log, { yes: flags.yes, verifyFencing: flags.verifyFencing, confirm: askToConfirm });
  if (lane === 'containers') return new ContainerLane(loadLabConfig(!flags.config || flags.config === DEFAULT_LAB_CONFIG ? DEFAULT_LANE_CONFIG : flags.config), log);
  return new Lab(typeof config === 'function' ? config() : config, log);
}

/** Asks for the cluster's name on the terminal (the plan was just logged); without a terminal, there is no one to ask. */
async function askToConfirm(plan: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const name = /^cluster (\S+)/.exec(plan)?.[1] ?? '';
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`type the cluster's name (${name}) to inject faults into it, anything else to stop: `);
    return answer.trim() === name;
  } finally {
    rl.close();
  }
}

/** Runs scenarios on the target; throws VERDICT_FAILED if any run did not pass. */
async function certify(scenarios: Scenario[], flags: Omit<CertifyFlags, 'config' | 'target' | 'yes'> & { sameSeed?: boolean }, target: Target): Promise<void> {
  ensureReportsDir(flags.reports);
  try {
    await certifyOn(scenarios, flags, target);
  } finally {
    await target.release();
  }
}

async function certifyOn(scenarios: Scenario[], flags: Omit<CertifyFlags, 'config' | 'target' | 'yes'> & { sameSeed?: boolean }, target: Target): Promise<void> {
  const seed = flags.seed ?? randomInt(0, 2 ** 31);
  if (!flags.sameSeed) checkSeedRange(seed, flags.repeat);
  const log = rootLogger();
  let failed = 0;
  // One JUnit file for the whole certification (a suite per run), rewritten after each run so an
  // interrupted certification still leaves what it judged; CI points its JUnit reader at it.
  const startedAt = new Date().toISOString();
  const stamp = `certify-${startedAt.replace(/[:.]/g, '-')}${flags.shard ? `-shard-${flags.shard.index}-of-${flags.shard.total}` : ''}`;
  const junit = join(flags.reports, `${stamp}.junit.xml`);
  const judged: RunResults[] = [];
  const runDirs: string[] = [];
  // A scenario whose fault has no meaning for this architecture (a replication link on shared
  // storage, a VM pause on real machines) is listed with the reason, never run and never faked.
  const skipped: NotApplicable[] = scenarios.flatMap((s) => {
    const reason = notApplicable(s.fault, target.traits);
    return reason ? [{ scenario: s.name, reason }] : [];
  });
  for (const na of skipped) process.stdout.write(`N/A  ${na.scenario}: not applicable to ${target.traits.describe}: ${na.reason}\n`);
  const applicable = scenarios.filter((s) => !skipped.some((na) => na.scenario === s.name));
  if (!applicable.length) throw new CliError(`no scenario applies to ${target.traits.describe}: ${skipped.map((na) => `${na.scenario} (${na.reason})`).join('; ')}`, ExitCode.USAGE);
  for (let i = 0; i < flags.repeat; i++) {
    for (const scenario of applicable) {
      const { dir, results } = await runScenario({ target, scenario, seed: flags.sameSeed ? seed : seed + i, reportsRoot: flags.reports, log, signal: interruptSignal() });
      process.stdout.write(`${summarize(results, dir)}\n`);
      if (results.valid !== true) failed += 1;
      judged.push(results);
      runDirs.push(basename(dir));
      mkdirSync(flags.reports, { recursive: true });
      writeFileSync(junit, toJUnit(judged, skipped));
      // Beside the JUnit file: what merge-reports puts back together from many hosts' shards.
      const record: CertificationRecord = { schemaVersion: 1, startedAt, ...(flags.shard ? { shard: flags.shard } : {}), assigned: scenarios.map((sc) => sc.name), notApplicable: skipped, runs: runDirs };
      writePrivateFile(join(flags.reports, `${stamp}.json`), `${JSON.stringify(record, null, 2)}\n`, 0o644);
      await recordInHistory(flags.history ?? join(flags.reports, 'history.db'), dir, results, log);
    }
  }
  process.stdout.write(`${judged.length - failed} of ${judged.length} run(s) passed${skipped.length ? `, ${skipped.length} scenario(s) not applicable` : ''}; JUnit: ${junit}\n`);
  for (const line of outageSpreads(judged)) process.stdout.write(`${line}\n`);
  if (failed) throw new CliError(`${failed} run(s) did not pass`, ExitCode.VERDICT_FAILED);
}

/**
 * Records a finished run in the reports directory's history (for `ha-chaos trend`). A history
 * that cannot be written costs no verdict: it is said, and `history import` can load the run later.
 */
async function recordInHistory(file: string, dir: string, results: RunResults, log: ReturnType<typeof rootLogger>): Promise<void> {
  try {
    const history = await RunHistory.open(file);
    try {
      history.record([historyRowOf(resolve(dir), results, readManifest(dir))]);
      history.save();
    } finally {
      history.close();
    }
  } catch (error) {
    log.error(`the run is not in the history ${file} (${(error as Error).message.split('\n')[0]}); load it later with: ha-chaos history import ${dir}`);
  }
}

function withRunOptions(command: Command): Command {
  return command
    .option('--seed <n>', `seed, a decimal integer from 0 to ${MAX_SEED} (recorded in every report; default: random)`, seedFlag)
    .option('--repeat <n>', `run each scenario n times, 1 to ${MAX_REPEAT} (seeds n, n+1, ...)`, repeatFlag, 1)
    .option('--config <file>', 'lab config', pathFlag('config', 'a lab config file'), DEFAULT_LAB_CONFIG)
    .option('--target <file>', 'certify an existing cluster described by this target file (YAML, see schemas/target.schema.json) instead of the lab', pathFlag('target', 'a target file'))
    .option('--yes', 'inject faults into the --target cluster without asking (CI); the safety checks still apply')
    .option('--verify-fencing', 'before the first fault, fence each node of the --target cluster once through the cluster and check that only it lost power (for fence devices that cannot tell which machine they power, such as PDU outlets)')
    .option('--lane <lab|containers>', 'lab: the VM lab (default); containers: the same cluster in two containers on this host (config default containers/lane.json), made for this certification and removed after it', 'lab')
    .option('--reports <dir>', 'where run directories go', pathFlag('reports', 'a directory for the run directories'), 'reports');
}

/** `--scenario`, repeatable: each value checked as a path or name, collected in order. */
function scenarioFlag(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), pathFlag('scenario', 'a scenario name or file')(value)];
}

/** Each scenario's recent wall time on `config` from the history, when there is one; none when it cannot be read (said). */
async function recordedDurations(file: string, config: string): Promise<Record<string, number>> {
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return {};
  try {
    const history = await RunHistory.open(file);
    try {
      return history.durations(config);
    } finally {
      history.close();
    }
  } catch (error) {
    rootLogger().warn(`the history ${file} could not be read (${oneLine((error as Error).message).slice(0, 200)}): shards assigned by catalogue order`);
    return {};
  }
}

/** `--shard i/n`, or a usage error naming the flag and the fix. */
function shardFlag(value: string): Shard {
  const shard = parseShard(value);
  if (typeof shard === 'string') throw new CliError(`--shard: ${shard}`, ExitCode.USAGE);
  return shard;
}

/**
 * This host's share of `scenarios` when the certification is sharded (`--shard`, else GitLab's
 * CI_NODE_INDEX/CI_NODE_TOTAL): assigned over the whole list, before any is found not applicable
 * here, so every host assigns alike. All of them when not sharded.
 */
export function shardOf(scenarios: Scenario[], flag: Shard | undefined, env: Record<string, string | undefined>, durations: Readonly<Record<string, number>> = {}): { scenarios: Scenario[]; shard?: Shard } {
  const fromEnv = flag ? undefined : shardFromEnv(env);
  if (typeof fromEnv === 'string') throw new CliError(`${fromEnv}; or give --shard i/n`, ExitCode.USAGE);
  const shard = flag ?? fromEnv;
  if (!shard || shard.total === 1) return { scenarios };
  const mine = new Set(scenariosOfShard(scenarios.map((s) => s.name), shard, durations));
  return { scenarios: scenarios.filter((s) => mine.has(s.name)), shard };
}

export function certifyCommand(): Command {
  return withRunOptions(
    new Command('certify')
      .description('bring the lab up if needed, run the certification scenarios under real mail load, judge each; exit 1 on any failed or unknown verdict')
      .option('--scenario <name|file>', `a scenario: a built-in name (${Object.keys(SCENARIOS).join(', ')}) or a YAML file; repeatable; default: all built-in`, scenarioFlag)
      .option('--shard <i/n>', "run this host's share of the scenarios, the i-th of n (default: GitLab's CI_NODE_INDEX/CI_NODE_TOTAL when set); every host assigns alike", shardFlag)
      .option('--history <file>', 'the run history each run is recorded in, and a sharded certification balances by (each scenario\'s recent wall time on this configuration); give every shard the same one (default: <reports>/history.db)', pathFlag('history', 'a history database file')),
  ).action(async (flags: CertifyFlags) => {
    const all = flags.scenario?.length ? flags.scenario.map(resolveScenario) : Object.values(SCENARIOS);
    const names = all.map((s) => s.name);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length) throw new CliError(`--scenario: ${[...new Set(twice)].join(', ')} given twice (use --repeat to run a scenario more than once)`, ExitCode.USAGE);
    const target = targetOf(flags, () => loadLabConfig(flags.config));
    const history = flags.history ?? join(flags.reports, 'history.db');
    const durations = flags.shard || process.env.CI_NODE_TOTAL ? await recordedDurations(history, target.name) : {};
    const { scenarios, shard } = shardOf(all, flags.shard, process.env, durations);
    if (shard) {
      const basis = Object.keys(durations).length ? `balanced by the wall times recorded in ${history} for ${target.name} (${Object.keys(durations).length} scenario(s); the rest by catalogue order)` : `by catalogue order (no wall times recorded in ${history} for ${target.name})`;
      process.stdout.write(`shard ${shard.index}/${shard.total}, ${basis}: ${scenarios.map((s) => s.name).join(', ') || 'no scenario'}\n`);
    }
    if (!scenarios.length) return;
    await certify(scenarios, { ...flags, shard }, target);
  });
}

export function runCommand(): Command {
  return withRunOptions(new Command('run').description('run one scenario file (YAML, see schemas/scenario.schema.json and fixtures/scenarios/)').argument('<file>', 'the scenario file')).action(
    async (file: string, flags: CertifyFlags) => {
      checkPathArgument('file', file, 'a scenario file');
      await certify([loadScenarioFile(file)], flags, targetOf(flags, () => loadLabConfig(flags.config)));
    },
  );
}

/** A run directory given on the command line: a directory, or a usage error. */
function checkRunDir(dir: string, needs: string): void {
  checkPathArgument('run-dir', dir, 'a run directory');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new CliError(`${dir}: not a run directory (${existsSync(dir) ? 'not a directory' : 'it does not exist'}; ${needs})`, ExitCode.USAGE);
}

export function reportCommand(): Command {
  return new Command('report')
    .description('print the summary of a run directory (reports/<run-id> or reports/latest)')
    .argument('[run-dir]', 'the run directory', 'reports/latest')
    .option('--rejudge', "judge the run again with this version's checkers, from its history and observations (the recorded results are kept)")
    .action((dir: string, flags: { rejudge?: boolean }) => {
      checkRunDir(dir, 'expected results.json or run.json in it');
      if (!hasRunFile(dir, RUN_FILES.results)) {
        if (hasRunFile(dir, RUN_FILES.manifest)) {
          const m = readManifest(dir);
          throw new CliError(`run ${oneLine(String(m.runId))} has no results: it stopped in phase "${oneLine(String(m.phase))}" (see ${dir}/run.log and history.jsonl)`, ExitCode.VERDICT_FAILED);
        }
        throw new CliError(`${dir}: not a run directory (no results.json or run.json)`, ExitCode.USAGE);
      }
      const recorded = readResults(dir);
      const results = flags.rejudge ? rejudge(dir, recorded) : recorded;
      if (flags.rejudge) process.stdout.write(`judged again by this version's checkers (recorded verdict: ${String(recorded.valid)})\n`);
      // Every string of a run's files is shown with its control characters escaped: a file cannot fake a line.
      const shown = terminalSafe(results);
      process.stdout.write(`${summarize(shown, dir)}\n`);
      if (results.valid !== true) throw new CliError(`run ${shown.runId} did not pass (verdict: ${String(results.valid)})`, ExitCode.VERDICT_FAILED);
    });
}

/**
 * A run judged again by this version's checkers, from what the run recorded (its scenario, history
 * and observations): after a checker is fixed, old runs can be re-read without re-running them.
 * Every file is validated first: a damaged one is a ValidationError naming it (exit code 2).
 */
export function rejudge(dir: string, recorded: RunResults): RunResults {
  if (!hasRunFile(dir, RUN_FILES.observations)) throw new CliError(`${dir}: no observations.json to judge again from`, ExitCode.USAGE);
  const parsed = readManifestWithLines(dir);
  const written = recordedScenario(parsed, 'the scenario the run judged');
  // The outcome the run expected of its cluster's fencing (a scenario's expectWithFencing), as recorded.
  const recordedExpect = (parsed.manifest as { expectation?: { expect?: unknown } }).expectation?.expect;
  const scenario = typeof recordedExpect === 'string' && ['failover', 'no-outage', 'recovery', 'no-takeover'].includes(recordedExpect) ? { ...written, expect: recordedExpect as Scenario['expect'] } : written;
  const observations = readObservations(dir);
  const history = readHistory(dir);
  // Whether the host was overloaded is this version's judgement too, from the recorded samples.
  const cores = (recorded.environment?.host as { cores?: number } | undefined)?.cores;
  if (parsed.manifest.lab && cores) {
    const reasons = overloadReasons({ observations, vcpus: recordedLab(parsed, 'the lab the run used').nodes.cpus, hostCores: cores });
    if (reasons.length) observations.overload = { reasons };
    else delete observations.overload;
  }
  const verdict = judge(scenario, history, observations);
  const was = String(recorded.valid);
  return { ...recorded, valid: verdict.valid, summary: `judged again: ${verdict.summary} (recorded: ${was})`, checks: verdict.results ?? {} };
}

/** What a replay needs from a run directory, all validated before the lab is touched. */
export interface ReplayPlan {
  runId: string;
  scenario: Scenario;
  config: LabConfig;
  /** The recorded seed: an integer from 0 to 2^32-1, never a fresh random one. */
  seed: number;
  schedule?: RunResults['schedule'];
  /** Where the run ran: the VM lab, or the container lane. */
  lane: 'lab' | 'containers';
}

/** Reads and checks what `replay` needs from `dir` (run.json's seed, scenario and lab config). */
export function replayPlan(dir: string): ReplayPlan {
  checkRunDir(dir, 'expected run.json in it');
  if (!hasRunFile(dir, RUN_FILES.manifest)) throw new CliError(`${dir}: not a run directory (no run.json)`, ExitCode.USAGE);
  const parsed = readManifestWithLines(dir);
  const { manifest } = parsed;
  const scenario = recordedScenario(parsed, 'the scenario to run again');
  const target = (manifest as { target?: { name?: string } }).target;
  if (!manifest.lab && target) {
    // A run on an existing cluster: the target file holds where its secrets are, which a run directory does not.
    throw new CliError(`${dir}: run ${manifest.runId} certified the existing cluster ${oneLine(String(target.name))}; replay it with: ha-chaos certify --target <its target file> --scenario ${scenario.name} --seed ${manifest.seed}`, ExitCode.USAGE);
  }
  const config = recordedLab(parsed, 'the lab config to run it on');
  const lane = (manifest as { lane?: string }).lane === 'containers' ? ('containers' as const) : ('lab' as const);
  return { runId: manifest.runId, scenario, config, seed: manifest.seed, schedule: manifest.schedule as RunResults['schedule'] | undefined, lane };
}

export function replayCommand(): Command {
  return new Command('replay')
    .description("run a recorded run again: its scenario, seed (so the same fault schedule and the same messages) and lab config, all read from the run's run.json")
    .argument('<run-dir>', 'a run directory (reports/<run-id>)')
    .option('--repeat <n>', `replay n times, 1 to ${MAX_REPEAT} (same seed each time)`, repeatFlag, 1)
    .option('--reports <dir>', 'where the new run directories go', pathFlag('reports', 'a directory for the run directories'), 'reports')
    .action(async (dir: string, flags: { repeat: number; reports: string }) => {
      const { runId, scenario, config, seed, schedule, lane } = terminalSafe(replayPlan(dir));
      rootLogger().info(
        `replaying ${runId}: ${scenario.name}, seed ${seed}` +
          (schedule ? `; the fault hits the active node (it was ${schedule.node}) ${schedule.injectAfterSeconds} s after the workload starts` : ''),
      );
      await certify([scenario], { seed, repeat: flags.repeat, reports: flags.reports, sameSeed: true }, lane === 'containers' ? new ContainerLane(config, rootLogger()) : new Lab(config, rootLogger()));
    });
}
