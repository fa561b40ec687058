/**
 * A certification's own record, beside its JUnit file (`certify-<time>.json`): which shard it was,
 * the scenarios assigned to it, those not applicable here, and its runs' directories. It is what
 * `merge-reports` reads to put shards from many CI hosts back together, and to say which shard is
 * missing or came twice.
 */
import type { NotApplicable } from './junit.ts';
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
