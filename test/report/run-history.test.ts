import test from 'ava';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyRowOf, RunHistory, type HistoryRow } from '../../harness/report/run-history.ts';
import type { RunResults } from '../../harness/report/results.ts';
import { tempDir } from '../helpers.ts';

const RUN = 'fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910';

const row = (runId: string, startedAt: string, valid: HistoryRow['valid'], outageSeconds?: number): HistoryRow => ({
  runId,
  scenario: 'power-cut-active',
  config: 'lab',
  harnessVersion: '0.1.0',
  startedAt,
  valid,
  ...(outageSeconds === undefined ? {} : { outageSeconds }),
  seed: 7,
  checks: { 'failover-time': valid },
  phases: { 'fence-confirmed': 21.6 },
  variant: 'drbd/ipmi/postfix-dovecot',
  clusterVersions: { pacemaker: '2.1.5', drbd: '8.4.11' },
  overload: [],
  protocols: { smtp: 40.1, imap: null },
  dir: `reports/${runId}`,
});

test('runs recorded, saved, and read back after reopening; a run recorded again replaces its row', async (t) => {
  const file = join(tempDir(), 'history.db');
  const history = await RunHistory.open(file);
  history.record([row('b', '2026-12-02T00:00:00.000Z', false), row('a', '2026-12-01T00:00:00.000Z', true, 44.4)]);
  history.record([row('b', '2026-12-02T00:00:00.000Z', 'unknown')]);
  history.save();
  history.close();
  const again = await RunHistory.open(file);
  t.deepEqual(again.runs(), [row('a', '2026-12-01T00:00:00.000Z', true, 44.4), row('b', '2026-12-02T00:00:00.000Z', 'unknown')]);
  t.deepEqual(again.runs('freeze-active'), []);
  again.close();
});

test('a history through a symbolic link is refused; so is a file that is not a database', async (t) => {
  const dir = tempDir();
  const real = join(dir, 'real.db');
  const history = await RunHistory.open(real);
  history.save();
  history.close();
  symlinkSync(real, join(dir, 'link.db'));
  await t.throwsAsync(RunHistory.open(join(dir, 'link.db')), { code: 'ELOOP' });
  writeFileSync(join(dir, 'text.db'), 'not a database at all, just text that is long enough to be read as a header');
  await t.throwsAsync(async () => (await RunHistory.open(join(dir, 'text.db'))).runs());
});

test("a captured run's results become a row: its lab, verdicts, phases", (t) => {
  const results = JSON.parse(readFileSync(join(RUN, 'results.json'), 'utf8')) as RunResults;
  const manifest = JSON.parse(readFileSync(join(RUN, 'run.json'), 'utf8')) as Record<string, unknown>;
  const r = historyRowOf(RUN, results, manifest);
  t.like(r, { runId: '20261125-172304-replication-loss-then-power-cut-active-9910', scenario: 'replication-loss-then-power-cut-active', config: 'lab', harnessVersion: 'unknown', seed: results.seed });
  t.is(r.outageSeconds, undefined, 'never came back: no outage number');
  t.is(r.phases['fence-confirmed'], 35.59);
  t.deepEqual(Object.keys(r.checks).sort(), Object.keys(results.checks).sort());
});

test("each scenario's wall time for shard balancing: the median of its last five runs on that configuration only", async (t) => {
  const history = await RunHistory.open(join(tempDir(), 'history.db'));
  const timed = (id: string, day: number, seconds: number, over: Partial<HistoryRow> = {}) => ({ ...row(id, `2026-12-${String(day).padStart(2, '0')}T00:00:00.000Z`, true), durationSeconds: seconds, ...over });
  history.record([
    // Six power cuts on the lab: the oldest (900 s) is past the last five, whose median is 300.
    timed('p1', 1, 900), timed('p2', 2, 280), timed('p3', 3, 300), timed('p4', 4, 310), timed('p5', 5, 290), timed('p6', 6, 320),
    timed('f1', 1, 200, { scenario: 'freeze-active' }),
    timed('l1', 1, 100, { config: 'containers' }),
    { ...row('n1', '2026-12-01T00:00:00.000Z', true), scenario: 'one-ring-loss-active' },
  ]);
  t.deepEqual(history.durations('lab'), { 'power-cut-active': 300, 'freeze-active': 200 });
  t.deepEqual(history.durations('containers'), { 'power-cut-active': 100 });
  t.deepEqual(history.durations('variants'), {});
  history.close();
});
