/**
 * `ha-chaos history import <dirs...>` loads runs made before, or on other hosts, into the run
 * history; `ha-chaos trend` writes the trend page from it.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { hasRunFile, readManifest, readResults, RUN_FILES } from '../report/run-dir.ts';
import { historyRowOf, RunHistory, type HistoryRow } from '../report/run-history.ts';
import { renderTrendPage } from '../report/trend.ts';
import { ensureReportsDir } from '../report/run-store.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { checkPathArgument, decimalFlag, pathFlag } from './flags.ts';

/** The history every command uses unless told otherwise. */
export const DEFAULT_HISTORY = 'reports/history.db';

/** The phases in the order they happen, for the chart's legend (a seam's own phase sorts in by time). */
const PHASES = ['detected', 'fence-requested', 'fence-confirmed', 'drbd-promoted', 'fs-mounted', 'ip-up', 'service-answering'];

/** Run directories in `dir`: itself when it is one, else its subdirectories that are. */
function runDirsIn(dir: string): string[] {
  if (hasRunFile(dir, RUN_FILES.results)) return [dir];
  return readdirSync(dir)
    .filter((name) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() && hasRunFile(path, RUN_FILES.results))
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
    .action(async (flags: { history: string; out: string; window: number }) => {
      if (!statSync(flags.history, { throwIfNoEntry: false })?.isFile()) throw new CliError(`trend: no history at ${flags.history}; run certify, or ha-chaos history import <reports dirs>`, ExitCode.USAGE);
      const db = await RunHistory.open(flags.history);
      try {
        const out = resolve(flags.out);
        ensureReportsDir(dirname(out));
        const runs = db.runs().map((r) => ({ ...r, href: relative(dirname(out), join(r.dir, 'timeline.html')) }));
        writeFileSync(out, renderTrendPage(runs, PHASES, flags.window));
        process.stdout.write(`${terminalSafe(out)}: ${runs.length} run(s)\n`);
      } finally {
        db.close();
      }
    });
}
