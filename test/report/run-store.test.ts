import test from 'ava';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../../harness/report/run-store.ts';
import { toJUnit } from '../../harness/report/junit.ts';
import { XMLParser } from 'fast-xml-parser';
import type { RunResults } from '../../harness/report/results.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { Logger, memorySink } from '../../harness/core/log.ts';
import { registerSecret } from '../../harness/core/secrets.ts';
import { tempDir } from '../helpers.ts';

function results(store: RunStore, overrides: Partial<RunResults> = {}): RunResults {
  return {
    schemaVersion: 1,
    runId: store.runId,
    name: 'unit',
    seed: store.seed,
    startedAt: store.startedAt,
    finishedAt: new Date().toISOString(),
    valid: false,
    summary: 'integrity: FAILED',
    checks: {
      integrity: { valid: false, summary: '1 acknowledged message lost', details: { lost: [17] } },
      fencing: { valid: 'unknown', summary: 'no BMC log' },
      'single-primary': { valid: true, summary: 'never two primaries' },
    },
    ...overrides,
  };
}

test('a run directory is written in phases, with the seed from the start', (t) => {
  const root = tempDir();
  const store = RunStore.create({ root, name: 'power cut/active', seed: 42, log: new Logger('t', []) });
  t.regex(store.runId, /^\d{8}-\d{6}-power-cut-active-[0-9a-f]{4}$/);
  const started = RunStore.readManifest(store.dir);
  t.is(started.phase, 'started');
  t.is(started.seed, 42);
  t.is(readlinkSync(join(root, 'latest')), store.runId);
  t.true(existsSync(join(store.dir, 'history.jsonl')));

  store.history.invoke('smtp-1', 'send', { id: 1 }).ok();
  t.is(readFileSync(join(store.dir, 'history.jsonl'), 'utf8').trim().split('\n').length, 2);
  store.setPhase('history');
  t.is(RunStore.readManifest(store.dir).phase, 'history');

  store.writeResults(results(store));
  t.is(RunStore.readManifest(store.dir).phase, 'results');
  const written = JSON.parse(readFileSync(join(store.dir, 'results.json'), 'utf8')) as RunResults;
  t.is(written.checks.integrity!.valid, false);
  t.true(existsSync(join(store.dir, 'junit.xml')));
});

test('invalid results are refused with the field named, and nothing is written', (t) => {
  const store = RunStore.create({ root: tempDir(), name: 'bad', seed: 1, log: new Logger('t', []) });
  const bad = results(store, { valid: 'maybe' as unknown as true, seed: -1 });
  const error = t.throws(() => store.writeResults(bad), { instanceOf: ValidationError });
  t.true(error!.problems.includes('/valid: must be one of true, false, "unknown"'));
  t.true(error!.problems.includes('/seed: must be >= 0'));
  t.false(existsSync(join(store.dir, 'results.json')));
  t.is(RunStore.readManifest(store.dir).phase, 'started');
});

test('no secret reaches the run log, the history, the manifest or the results', (t) => {
  const secret = registerSecret('run-store-Secret9');
  const sink = memorySink();
  const store = RunStore.create({ root: tempDir(), name: 'secret', seed: 7, meta: { bmc: { password: secret } }, log: new Logger('t', [sink]) });
  store.log.info(`connecting with ${secret}`);
  store.history.invoke('nemesis', 'fence', { password: secret }).info(`timeout for ${secret}`);
  store.writeResults(results(store, { summary: `leak ${secret}` }));
  for (const file of ['run.log', 'history.jsonl', 'run.json', 'results.json', 'junit.xml']) {
    t.false(readFileSync(join(store.dir, file), 'utf8').includes(secret), file);
  }
  t.false(sink.lines.some((l) => l.includes(secret)));
  t.true(sink.lines.some((l) => l.includes('connecting with ***')));
});

/** The JUnit document as CI's parsers read it. */
function parseJUnit(xml: string): { testsuites: Record<string, string> & { testsuite?: Array<Record<string, string> & { testcase: Array<Record<string, unknown>>; properties?: { property: Array<Record<string, string>> } }> } } {
  assertDeclaration(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });
  return parser.parse(xml, true) as ReturnType<typeof parseJUnit>;
}
function assertDeclaration(ok: boolean): void {
  if (!ok) throw new Error('not an XML document with its declaration');
}

test('JUnit: a false verdict is a failure, unknown is an error, true passes; text escaped, characters XML cannot carry dropped', (t) => {
  const xml = toJUnit({
    schemaVersion: 1,
    runId: 'r1',
    name: 'unit',
    seed: 3,
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: '2026-11-25T10:01:30.000Z',
    valid: false,
    summary: 's',
    checks: {
      a: { valid: true, summary: 'fine' },
      b: { valid: false, summary: 'lost <2> & "more"\u0007', details: { why: '</failure><x>' } },
      c: { valid: 'unknown', summary: 'no data' },
    },
  });
  const doc = parseJUnit(xml);
  t.like(doc.testsuites, { name: 'ha-chaos', tests: '3', failures: '1', errors: '1', time: '90.000' });
  const [suite] = doc.testsuites.testsuite!;
  t.like(suite, { name: 'ha-chaos.unit', tests: '3', failures: '1', errors: '1' });
  t.deepEqual(suite!.properties!.property, [{ name: 'runId', value: 'r1' }, { name: 'seed', value: '3' }]);
  const [a, b, c] = suite!.testcase;
  t.like(a, { classname: 'ha-chaos.unit', name: 'a', 'system-out': 'fine' });
  t.like(b, { name: 'b', failure: { message: 'lost <2> & "more"', type: 'verdict-false' } });
  t.regex(String((b!.failure as Record<string, string>)['#text']), /"why": "<\/failure><x>"/);
  t.like(c, { name: 'c', error: { message: 'no data', type: 'verdict-unknown' } });
  t.false(xml.includes('\u0007'));
});

test('JUnit for a whole certification: one suite per run, totals summed', (t) => {
  const run = (name: string, seconds: number, checks: RunResults['checks']): RunResults => ({
    schemaVersion: 1,
    runId: `r-${name}`,
    name,
    seed: 9,
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: new Date(Date.parse('2026-11-25T10:00:00.000Z') + seconds * 1000).toISOString(),
    valid: true,
    summary: 's',
    checks,
  });
  const xml = toJUnit([
    run('power-cut-active', 150, { a: { valid: true, summary: 'fine' }, b: { valid: false, summary: 'lost' } }),
    run('freeze-active', 30, { a: { valid: 'unknown', summary: 'no data' } }),
  ]);
  const doc = parseJUnit(xml);
  t.like(doc.testsuites, { name: 'ha-chaos', tests: '3', failures: '1', errors: '1', time: '180.000' });
  t.deepEqual(
    doc.testsuites.testsuite!.map((s) => [s.name, s.tests, s.failures, s.errors, s.time, s.properties!.property[0]!.value]),
    [
      ['ha-chaos.power-cut-active', '2', '1', '0', '150.000', 'r-power-cut-active'],
      ['ha-chaos.freeze-active', '1', '0', '1', '30.000', 'r-freeze-active'],
    ],
  );
});

test('JUnit: a scenario that does not apply to the architecture is a skipped case saying why, never a pass or a failure', (t) => {
  const xml = toJUnit([], [{ scenario: 'replication-loss-active', reason: 'a shared store has no replication link' }]);
  const doc = parseJUnit(xml);
  t.like(doc.testsuites, { name: 'ha-chaos', tests: '1', failures: '0', errors: '0', skipped: '1', time: '0.000' });
  t.like(doc.testsuites.testsuite![0], { name: 'ha-chaos.replication-loss-active', tests: '1', skipped: '1' });
  t.like(doc.testsuites.testsuite![0]!.testcase[0], { classname: 'ha-chaos.replication-loss-active', name: 'applicable', skipped: { message: 'not applicable: a shared store has no replication link' } });
  t.false(toJUnit([]).includes('skipped'));
});
