/**
 * `ha-chaos merge-reports <dirs...>`: the shards of a certification (one reports directory per CI
 * host, collected as artifacts) put back together: one JUnit file (a suite per run, a skipped one
 * per scenario not applicable) and one summary page linking each run's timeline. A shard missing
 * or given twice, or a run given twice, is named, and fails the merge (exit 1), as a failed run does.
 */
import { statSync } from 'node:fs';
import { writePrivateFile } from '../core/host-files.ts';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { mergeCertifications, readCertifications, renderSummary, type FoundCertification } from '../report/certification.ts';
import { toJUnit } from '../report/junit.ts';
import { ensureReportsDir } from '../report/run-store.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { checkPathArgument, pathFlag } from './flags.ts';

export function mergeReportsCommand(): Command {
  return new Command('merge-reports')
    .description("put a sharded certification's reports directories back together: one JUnit file and one summary page; a missing or doubled shard is named (exit 1)")
    .argument('<dirs...>', 'the reports directories of the shards (each holds certify-*.json and its run directories)')
    .option('--out <dir>', 'where the merged JUnit file and summary page go', pathFlag('out', 'a directory for the merged report'), 'reports-merged')
    .action((dirs: string[], flags: { out: string }) => {
      const found: FoundCertification[] = [];
      const runDirOf = new Map<string, string>();
      for (const dir of dirs) {
        checkPathArgument('dir', dir, 'a reports directory');
        if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`merge-reports: ${dir} is not a directory`, ExitCode.USAGE);
        const certifications = readCertifications(dir);
        if (!certifications.length) throw new CliError(`merge-reports: no certification record (certify-*.json) in ${dir}: is it a reports directory of certify?`, ExitCode.USAGE);
        for (const c of certifications) for (const [i, r] of c.results.entries()) runDirOf.set(r.runId, join(dir, c.record.runs[i]!));
        found.push(...certifications);
      }
      const merged = mergeCertifications(found);
      const out = ensureReportsDir(flags.out);
      writePrivateFile(join(out, 'merged.junit.xml'), toJUnit(merged.runs, merged.notApplicable), 0o644);
      writePrivateFile(join(out, 'summary.html'), renderSummary(merged, (r) => relative(out, join(runDirOf.get(r.runId) ?? '.', 'timeline.html'))), 0o644);
      const passed = merged.runs.filter((r) => r.valid === true).length;
      process.stdout.write(`${passed} of ${merged.runs.length} run(s) passed (${merged.coverage}); ${join(out, 'merged.junit.xml')}, ${join(out, 'summary.html')}\n`);
      for (const p of merged.problems) process.stdout.write(`INCOMPLETE: ${terminalSafe(p)}\n`);
      if (merged.problems.length || passed < merged.runs.length) throw new CliError(merged.problems.length ? `the certification is incomplete: ${merged.problems.length} problem(s)` : `${merged.runs.length - passed} run(s) did not pass`, ExitCode.VERDICT_FAILED);
    });
}
