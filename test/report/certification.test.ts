import test from 'ava';
import { mergeCertifications, type FoundCertification } from '../../harness/report/certification.ts';
import type { RunResults } from '../../harness/report/results.ts';

const result = (runId: string, name: string, valid: RunResults['valid'] = true): RunResults => ({
  schemaVersion: 1,
  runId,
  name,
  seed: 1,
  startedAt: '2026-12-06T01:00:00.000Z',
  finishedAt: '2026-12-06T01:03:00.000Z',
  valid,
  summary: 's',
  checks: { 'failover-time': { valid, summary: 'x' } },
});

const shard = (index: number, total: number, runs: RunResults[], assigned = runs.map((r) => r.name), file = `s${index}/certify.json`): FoundCertification => ({
  file,
  record: { schemaVersion: 1, startedAt: '2026-12-06T01:00:00.000Z', shard: { index, total }, assigned, notApplicable: index === 1 ? [{ scenario: 'kernel-panic-active', reason: 'no kernel of its own' }] : [], runs: runs.map((r) => r.runId) },
  results: runs,
});

test('two shards merge into one set of runs, with the scenarios not applicable once', (t) => {
  const merged = mergeCertifications([shard(1, 2, [result('r1', 'power-cut-active')]), shard(2, 2, [result('r2', 'freeze-active', false)])]);
  t.deepEqual(merged.problems, []);
  t.deepEqual(merged.runs.map((r) => r.runId), ['r1', 'r2']);
  t.deepEqual(merged.notApplicable.map((n) => n.scenario), ['kernel-panic-active']);
  t.is(merged.coverage, '2 of 2 shards');
});

test('a missing shard, a shard given twice and a run given twice are each named', (t) => {
  const r1 = result('r1', 'power-cut-active');
  const merged = mergeCertifications([shard(1, 3, [r1]), shard(1, 3, [r1], ['power-cut-active'], 'again/certify.json')]);
  t.deepEqual(merged.problems, [
    'shard 1/3 came 2 times: s1/certify.json, again/certify.json',
    'shard 2/3 is missing',
    'shard 3/3 is missing',
    'scenario power-cut-active was assigned to more than one certification: s1/certify.json, again/certify.json',
    'run r1 given twice (again/certify.json)',
  ]);
  t.is(merged.runs.length, 1);
  t.is(merged.coverage, '1 of 3 shards');
});

test('shards that disagree on their number, or a certification without a shard among shards, are named', (t) => {
  const merged = mergeCertifications([shard(1, 2, [result('a', 'x')]), shard(2, 3, [result('b', 'y')]), { ...shard(9, 9, [result('c', 'z')]), record: { ...shard(9, 9, []).record, shard: undefined }, file: 'plain/certify.json' }]);
  t.regex(merged.problems[0]!, /^the shards disagree on how many there are \(2, 3\)/);
  t.regex(merged.problems[1]!, /^sharded and unsharded certifications mixed: plain\/certify.json had no shard/);
});
