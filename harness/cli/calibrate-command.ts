/**
 * `ha-chaos calibrate`: the lab's baseline on this host. Runs the healthy power cut N times
 * (each a full certification run with its own report), and stores the median and spread of the
 * outage and of each failover phase for this lab config on this host
 * (.state/calibration/<lab>.json). An emulated lab then holds scenarios with a relative SLO to
 * a multiple of that median, and every verdict says which SLO applied.
 */
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomInt } from 'node:crypto';
import { rootLogger } from '../core/log.ts';
import { Lab } from '../lab/lab.ts';
import { DEFAULT_LAB_CONFIG, loadLabConfig, type LabConfig } from '../cluster/lab-config.ts';
import { readManifestWithLines, readResults, recordedLab } from '../report/run-dir.ts';
import { runScenario } from '../run/run-scenario.ts';
import { SCENARIOS } from '../scenario/catalog.ts';
import { BASELINE_SCENARIO, configHash, saveBaseline, spread, type Baseline } from '../calibrate/baseline.ts';
import { measureHost } from '../observe/host-load.ts';
import { summarize } from './certify-command.ts';
import { oneLine } from '../core/terminal-text.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { checkPathArgument } from './flags.ts';
import { interruptSignal } from './interrupt.ts';

/** The baseline of a set of calibration runs. Pure; throws when too few runs measured an outage. */
export function baselineOf(runs: Baseline['runs'], phases: Record<string, number>[], meta: Omit<Baseline, 'runs' | 'outage' | 'phases' | 'schemaVersion'>): Baseline {
  const outages = runs.map((r) => r.outageSeconds).filter((o): o is number => typeof o === 'number' && o > 0);
  const outage = spread(outages);
  if (!outage || outages.length < Math.ceil(runs.length / 2)) throw new Error(`only ${outages.length} of ${runs.length} calibration runs measured an outage: no baseline`);
  const names = [...new Set(phases.flatMap((p) => Object.keys(p)))];
  const perPhase = Object.fromEntries(names.flatMap((n) => {
    const s = spread(phases.map((p) => p[n]).filter((v): v is number => typeof v === 'number'));
    return s ? [[n, s]] : [];
  }));
  return { schemaVersion: 1, ...meta, runs, outage, phases: perPhase };
}

export function calibrateCommand(): Command {
  return new Command('calibrate')
    .description(`measure the lab's baseline on this host: ${BASELINE_SCENARIO} n times; relative SLOs are held to it`)
    .option('--runs <n>', 'how many runs (3-20)', '5')
    .option('--seed <n>', 'first seed (default: random)')
    .option('--config <file>', 'lab config', DEFAULT_LAB_CONFIG)
    .option('--reports <dir>', 'where run directories go', 'reports')
    .option('--from <run-dirs...>', `make the baseline from recorded ${BASELINE_SCENARIO} runs of this lab config instead of new ones (e.g. a certify --repeat)`)
    .action(async (flags: { runs: string; seed?: string; config: string; reports: string; from?: string[] }) => {
      if (flags.from) return fromRecorded(flags.from, loadLabConfig(flags.config));
      const n = Number(flags.runs);
      if (!Number.isInteger(n) || n < 3 || n > 20) throw new CliError(`--runs: "${flags.runs}" is not a whole number from 3 to 20`, ExitCode.USAGE);
      const first = flags.seed === undefined ? randomInt(0, 2 ** 31) : Number(flags.seed);
      if (!/^\d{1,10}$/.test(flags.seed ?? '0') || !Number.isSafeInteger(first) || first > 2 ** 32 - 1 - n) throw new CliError(`--seed: "${flags.seed}" is not a whole number from 0 to ${2 ** 32 - 1 - n}`, ExitCode.USAGE);
      const config = loadLabConfig(flags.config);
      const log = rootLogger();
      const lab = new Lab(config, log);
      const scenario = SCENARIOS[BASELINE_SCENARIO]!;
      const runs: Baseline['runs'] = [];
      const phases: Record<string, number>[] = [];
      let accel = 'unknown';
      for (let i = 0; i < n; i++) {
        log.info(`calibration run ${i + 1} of ${n}`);
        const { dir, results } = await runScenario({ target: lab, scenario, seed: first + i, reportsRoot: flags.reports, log, signal: interruptSignal() });
        process.stdout.write(`${summarize(results, dir)}\n`);
        accel = String(results.environment?.accel ?? accel);
        runs.push({ runId: results.runId, seed: results.seed, outageSeconds: (results.metrics?.outageSeconds as number | null | undefined) ?? null, valid: results.valid });
        phases.push((results.metrics?.phasesSecondsAfterFault ?? {}) as Record<string, number>);
      }
      writeBaseline(runs, phases, config, accel);
      const failed = runs.filter((r) => r.valid !== true);
      if (failed.length) throw new CliError(`${failed.length} of ${n} calibration run(s) did not pass (${failed.map((r) => r.runId).join(', ')}); the baseline is written, but read those reports first`, ExitCode.VERDICT_FAILED);
    });
}

/** The longest outage a calibration accepts (s): a recorded one beyond it is a damaged file, not a baseline. */
export const MAX_BASELINE_OUTAGE_S = 3600;

/**
 * The baseline from recorded runs: each must be a passed run of the baseline scenario, recorded
 * with this lab config, named once (the same run directory twice would count one run twice), and
 * with a finite outage within {@link MAX_BASELINE_OUTAGE_S}: a baseline of 1e300 s would switch
 * every relative SLO off.
 */
function fromRecorded(dirs: string[], config: LabConfig): void {
  const runs: Baseline['runs'] = [];
  const phases: Record<string, number>[] = [];
  const seen = new Map<string, string>();
  let accel = 'unknown';
  for (const dir of dirs) {
    checkPathArgument('from', dir, 'a run directory');
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      throw new CliError(`--from ${dir}: it does not exist`, ExitCode.USAGE);
    }
    if (seen.has(real)) throw new CliError(`--from ${dir}: the same run directory as ${seen.get(real)}; each run counts once`, ExitCode.USAGE);
    seen.set(real, dir);
    const results = readResults(dir);
    const lab = recordedLab(readManifestWithLines(dir), 'to calibrate from it');
    if (results.name !== BASELINE_SCENARIO) throw new CliError(`--from ${dir}: a ${oneLine(String(results.name))} run; calibration uses ${BASELINE_SCENARIO} runs`, ExitCode.USAGE);
    if (configHash(lab) !== configHash(config)) throw new CliError(`--from ${dir}: recorded with another lab config than ${config.name}'s current one`, ExitCode.USAGE);
    if (results.valid !== true) throw new CliError(`--from ${dir}: the run did not pass (verdict ${oneLine(String(results.valid))}); a baseline is made of passed runs`, ExitCode.USAGE);
    const outage = results.metrics?.outageSeconds;
    if (typeof outage !== 'number' || !Number.isFinite(outage) || outage <= 0 || outage > MAX_BASELINE_OUTAGE_S) {
      throw new CliError(`--from ${dir}: metrics.outageSeconds is not an outage from 0 to ${MAX_BASELINE_OUTAGE_S} s`, ExitCode.USAGE);
    }
    const runPhases = (results.metrics?.phasesSecondsAfterFault ?? {}) as Record<string, unknown>;
    const badPhase = Object.entries(runPhases).find(([, v]) => typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_BASELINE_OUTAGE_S);
    if (badPhase) throw new CliError(`--from ${dir}: metrics.phasesSecondsAfterFault holds a phase that is not a time from 0 to ${MAX_BASELINE_OUTAGE_S} s`, ExitCode.USAGE);
    accel = String(results.environment?.accel ?? accel);
    runs.push({ runId: results.runId, seed: results.seed, outageSeconds: outage, valid: results.valid });
    phases.push(runPhases as Record<string, number>);
  }
  if (runs.length < 3) throw new CliError(`--from: ${runs.length} run(s); a baseline needs at least 3`, ExitCode.USAGE);
  writeBaseline(runs, phases, config, accel);
}

function writeBaseline(runs: Baseline['runs'], phases: Record<string, number>[], config: LabConfig, accel: string): void {
  const host = measureHost();
  const baseline = baselineOf(runs, phases, {
    lab: config.name,
    configHash: configHash(config),
    host: { name: hostname(), cores: host.cores, model: host.model, sha256MBps: host.sha256MBps, accel },
    scenario: BASELINE_SCENARIO,
    calibratedAt: new Date().toISOString(),
  });
  const file = saveBaseline(baseline);
  const o = baseline.outage;
  process.stdout.write(`baseline (${BASELINE_SCENARIO}, ${o.n} runs): outage median ${o.median} s, spread ${o.min}-${o.max} s (MAD ${o.mad} s); host speed ${host.sha256MBps} MB/s; written to ${file}\n`);
}
