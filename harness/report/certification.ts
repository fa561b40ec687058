/**
 * A certification's own record, beside its JUnit file (`certify-<time>.json`): which shard it was,
 * the scenarios assigned to it, those not applicable here, and its runs' directories. It is what
 * `merge-reports` reads to put shards from many CI hosts back together, and to say which shard is
 * missing or came twice.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_LIMITS } from '../core/input-file.ts';
import { readJsonFile, validateJson } from '../core/json-file.ts';
import { xmlEscape, type NotApplicable } from './junit.ts';
import { readResults } from './run-dir.ts';
import type { RunResults } from './results.ts';

export interface CertificationRecord {
  schemaVersion: 1;
  startedAt: string;
  /** This host's shard, when the certification was spread over hosts. */
  shard?: { index: number; total: number };
  /** The scenarios this certification was to run (its shard's share). */
  assigned: string[];
  notApplicable: NotApplicable[];
  /** Its run directories' names, under the reports directory. */
  runs: string[];
}

/** One certification as merge-reports found it: its record, where, and its runs' results. */
export interface FoundCertification {
  /** The record's file, for messages. */
  file: string;
  record: CertificationRecord;
  results: RunResults[];
}

export interface MergedCertification {
  runs: RunResults[];
  notApplicable: NotApplicable[];
  /** Shards missing, given twice, or disagreeing, and runs given twice: each in words. */
  problems: string[];
  /** `2 of 4 shards` or `1 certification`. */
  coverage: string;
}

/** Puts certifications (one per shard) back together. Pure. */
export function mergeCertifications(found: readonly FoundCertification[]): MergedCertification {
  const problems: string[] = [];
  const sharded = found.filter((f) => f.record.shard);
  const totals = [...new Set(sharded.map((f) => f.record.shard!.total))];
  if (totals.length > 1) problems.push(`the shards disagree on how many there are (${totals.join(', ')}): ${sharded.map((f) => `${f.file} says ${f.record.shard!.index}/${f.record.shard!.total}`).join('; ')}`);
  if (sharded.length && sharded.length < found.length) problems.push(`sharded and unsharded certifications mixed: ${found.filter((f) => !f.record.shard).map((f) => f.file).join(', ')} had no shard`);
  const total = totals.length === 1 ? totals[0]! : undefined;
  if (total !== undefined) {
    for (let index = 1; index <= total; index++) {
      const of = sharded.filter((f) => f.record.shard!.index === index);
      if (!of.length) problems.push(`shard ${index}/${total} is missing`);
      if (of.length > 1) problems.push(`shard ${index}/${total} came ${of.length} times: ${of.map((f) => f.file).join(', ')}`);
    }
  }
  const assignedTo = new Map<string, string[]>();
  for (const f of found) for (const name of f.record.assigned) assignedTo.set(name, [...(assignedTo.get(name) ?? []), f.file]);
  for (const [name, files] of assignedTo) if (files.length > 1 && new Set(files).size === files.length) problems.push(`scenario ${name} was assigned to more than one certification: ${files.join(', ')}`);
  const seen = new Map<string, RunResults>();
  for (const f of found) {
    for (const r of f.results) {
      if (seen.has(r.runId)) problems.push(`run ${r.runId} given twice (${f.file})`);
      else seen.set(r.runId, r);
    }
  }
  const notApplicable = found.flatMap((f) => f.record.notApplicable).filter((na, i, all) => all.findIndex((x) => x.scenario === na.scenario) === i);
  const coverage = total !== undefined ? `${new Set(sharded.map((f) => f.record.shard!.index)).size} of ${total} shards` : `${found.length} certification${found.length === 1 ? '' : 's'}`;
  return { runs: [...seen.values()], notApplicable, problems, coverage };
}

/** The records of the certifications in a reports directory (`certify-*.json`), each validated, with its runs' results. */
export function readCertifications(dir: string): FoundCertification[] {
  const names = readdirSync(dir).filter((n) => /^certify-[A-Za-z0-9._-]+\.json$/.test(n)).sort();
  return names.map((name) => {
    const file = join(dir, name);
    const record = validateJson<CertificationRecord>('certification', readJsonFile(file, { maxBytes: INPUT_LIMITS.certification, what: 'certification record' }), file);
    return { file, record, results: record.runs.map((run) => readResults(join(dir, run))) };
  });
}

/** One page for the merged certification: coverage, problems, every run with its verdict and a link to its timeline. */
export function renderSummary(merged: MergedCertification, timelineOf: (run: RunResults) => string): string {
  const passed = merged.runs.filter((r) => r.valid === true).length;
  const rows = merged.runs
    .map((r) => `<tr><td>${xmlEscape(r.name)}</td><td class="${r.valid === true ? 'pass' : 'fail'}">${r.valid === true ? 'PASS' : r.valid === false ? 'FAIL' : 'UNKNOWN'}</td><td>${xmlEscape(r.summary)}</td><td><a href="${xmlEscape(timelineOf(r))}">${xmlEscape(r.runId)}</a></td></tr>`)
    .join('\n');
  const na = merged.notApplicable.map((n) => `<li>${xmlEscape(n.scenario)}: ${xmlEscape(n.reason)}</li>`).join('\n');
  const problems = merged.problems.map((p) => `<li>${xmlEscape(p)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ha-chaos certification</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.pass{color:#1b5e20}.fail{color:#b71c1c;font-weight:bold}.problem{color:#b71c1c}</style></head>
<body><h1>ha-chaos certification: ${passed} of ${merged.runs.length} run(s) passed (${xmlEscape(merged.coverage)})</h1>
${problems ? `<h2 class="problem">Incomplete</h2><ul class="problem">\n${problems}\n</ul>` : ''}
<table><thead><tr><th>scenario</th><th>verdict</th><th>summary</th><th>run</th></tr></thead><tbody>
${rows}
</tbody></table>
${na ? `<h2>Not applicable</h2><ul>\n${na}\n</ul>` : ''}
</body></html>
`;
}
