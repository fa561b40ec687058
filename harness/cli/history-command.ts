/**
 * `ha-chaos history import <dirs...>` loads runs made before, or on other hosts, into the run
 * history; `ha-chaos trend` writes the trend page from it.
 */
import { readdirSync, statSync } from 'node:fs';
import { writePrivateFile } from '../core/host-files.ts';
import { dirname, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { hasRunFile, readManifest, readResults, RUN_FILES } from '../report/run-dir.ts';
import { historyRowOf, RunHistory, type HistoryRow } from '../report/run-history.ts';
import { CHART_RUNS, filterRuns, renderTrendPage } from '../report/trend.ts';
import { ensureReportsDir } from '../report/run-store.ts';
import { oneLine, terminalSafe } from '../core/terminal-text.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { checkPathArgument, decimalFlag, pathFlag } from './flags.ts';

/** `--config <name>`: a configuration's name as the history records it. */
function configFlag(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) throw new CliError(`--config: "${oneLine(value).slice(0, 80)}" is not a configuration name (letters, digits, . _ -)`, ExitCode.USAGE);
  return value;
}

/** `--cluster-version component=version`, repeatable: collected into one record. */
function versionFlag(value: string, previous: Record<string, string>): Record<string, string> {
  const m = /^([a-z][a-z0-9-]{0,31})=([\x21-\x7e]{1,64})$/.exec(value);
  if (!m) throw new CliError(`--cluster-version: "${oneLine(value).slice(0, 80)}" is not component=version (e.g. pacemaker=2.1.5; components: kernel, pacemaker, corosync, drbd, postfix, dovecot, axigen)`, ExitCode.USAGE);
  return { ...previous, [m[1]!]: m[2]! };
}

/** The history every command uses unless told otherwise. */
export const DEFAULT_HISTORY = 'reports/history.db';

/** The phases in the order they happen, for the chart's legend (a seam's own phase sorts in by time). */
const PHASES = ['detected', 'fence-requested', 'fence-confirmed', 'drbd-promoted', 'fs-mounted', 'ip-up', 'service-answering'];

/** Run directories in `dir`: itself when it is one, else its subdirectories that are (never through a link: `latest` is one). */
function runDirsIn(dir: string): string[] {
  if (hasRunFile(dir, RUN_FILES.results)) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .filter((path) => hasRunFile(path, RUN_FILES.results))
    .sort();
}

export function historyCommand(): Command {
  const history = new Command('history').description('the run history (SQLite, reports/history.db): every run with its verdicts, outage and phases');
  history
    .command('import')
    .description('load run directories (or reports directories holding them) into the history; a run imported again replaces its row')
    .argument('<dirs...>', 'run directories, or reports directories')
    .option('--history <file>', 'the history database', pathFlag('history', 'a history database file'), DEFAULT_HISTORY)
    .action(async (dirs: string[], flags: { history: string }) => {
      const rows: HistoryRow[] = [];
      for (const dir of dirs) {
        checkPathArgument('dir', dir, 'a run or reports directory');
        if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`history import: ${dir} is not a directory`, ExitCode.USAGE);
        for (const run of runDirsIn(dir)) rows.push(historyRowOf(resolve(run), readResults(run), readManifest(run)));
      }
      ensureReportsDir(dirname(flags.history));
      const db = await RunHistory.open(flags.history);
      try {
        const started = performance.now();
        db.record(rows);
        db.save();
        process.stdout.write(`${rows.length} run(s) imported into ${terminalSafe(flags.history)} in ${((performance.now() - started) / 1000).toFixed(2)} s; it holds ${db.runs().length}\n`);
      } finally {
        db.close();
      }
    });
  return history;
}

export function trendCommand(): Command {
  return new Command('trend')
    .description('write the trend page from the history: per scenario and configuration, the pass rate, outage p50/p95, last good and first failed, flaky marks, and each run\'s phases')
    .option('--history <file>', 'the history database', pathFlag('history', 'a history database file'), DEFAULT_HISTORY)
    .option('--out <file>', 'the page', pathFlag('out', 'an HTML file'), 'reports/trend.html')
    .option('--window <n>', 'the last runs the pass rate and percentiles count, 1 to 10000', decimalFlag('window', { min: 1, max: 10_000, what: 'a number of runs' }), 20)
    .option('--chart-runs <n>', `the newest runs each chart draws, 1 to 10000 (default ${CHART_RUNS})`, decimalFlag('chart-runs', { min: 1, max: 10_000, what: 'a number of runs' }), CHART_RUNS)
    .option('--config <name>', 'only runs on this lab configuration or target (e.g. lab, variants, containers)', configFlag)
    .option('--cluster-version <component=version>', 'only runs whose cluster ran this version of a component (e.g. pacemaker=2.1.5); repeatable', versionFlag, {})
    .action(async (flags: { history: string; out: string; window: number; chartRuns: number; config?: string; clusterVersion: Record<string, string> }) => {
      if (!statSync(flags.history, { throwIfNoEntry: false })?.isFile()) throw new CliError(`trend: no history at ${flags.history}; run certify, or ha-chaos history import <reports dirs>`, ExitCode.USAGE);
      const db = await RunHistory.open(flags.history);
      try {
        const out = resolve(flags.out);
        ensureReportsDir(dirname(out));
        const filter = { ...(flags.config ? { config: flags.config } : {}), versions: flags.clusterVersion };
        const all = db.runs();
        const runs = filterRuns(all, filter).map((r) => ({ ...r, href: relative(dirname(out), join(r.dir, 'timeline.html')) }));
        if (!runs.length && all.length) throw new CliError(`trend: none of the ${all.length} run(s) in ${flags.history} matches ${[flags.config ? `--config ${flags.config}` : '', ...Object.entries(flags.clusterVersion).map(([k, v]) => `--cluster-version ${k}=${v}`)].filter(Boolean).join(' ')}`, ExitCode.USAGE);
        writePrivateFile(out, renderTrendPage(runs, PHASES, flags.window, undefined, { chartRuns: flags.chartRuns, filter }), 0o644);
        process.stdout.write(`${terminalSafe(out)}: ${runs.length} run(s)${runs.length < all.length ? ` of ${all.length}` : ''}\n`);
      } finally {
        db.close();
      }
    });
}
