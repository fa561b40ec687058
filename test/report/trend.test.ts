import test from 'ava';
import { byVersions, filterRuns, percentile, renderTrendPage, rollingPercentile, trends, versionsLine, type RecordedRun } from '../../harness/report/trend.ts';

const run = (runId: string, day: number, valid: RecordedRun['valid'], outageSeconds?: number, over: Partial<RecordedRun> = {}): RecordedRun => ({
  runId,
  scenario: 'power-cut-active',
  config: 'lab',
  harnessVersion: '0.1.0+a',
  startedAt: `2026-12-${String(day).padStart(2, '0')}T02:00:00.000Z`,
  valid,
  ...(outageSeconds === undefined ? {} : { outageSeconds }),
  variant: 'drbd/ipmi/postfix-dovecot',
  clusterVersions: { pacemaker: '2.1.5' },
  ...over,
});

test('nearest-rank percentiles', (t) => {
  t.is(percentile([], 50), undefined);
  t.is(percentile([40], 95), 40);
  t.is(percentile([50, 10, 40, 20, 30], 50), 30);
  t.is(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95), 19);
});

test('last good, and the first failure after it (where the failing streak began), in run order whatever the input order', (t) => {
  const [trend] = trends([run('r4', 4, false, 200), run('r1', 1, true, 40), run('r2', 2, true, 44), run('r3', 3, false, 190), run('r5', 5, 'unknown')]);
  t.is(trend!.lastGood?.runId, 'r2');
  t.is(trend!.firstFailed?.runId, 'r3');
  t.is(trend!.passRate, 2 / 5);
  t.is(trend!.outageP50, 44);
  t.is(trend!.outageP95, 200);
});

test('a passing newest run ends the streak: no first failure; never passed: no last good', (t) => {
  t.is(trends([run('r1', 1, false), run('r2', 2, true)])[0]!.firstFailed, undefined);
  const never = trends([run('r1', 1, false), run('r2', 2, false)])[0]!;
  t.is(never.lastGood, undefined);
  t.is(never.firstFailed?.runId, 'r1');
});

test('flaky: both verdicts on one harness version and configuration; a fix in a new version is not flaky', (t) => {
  const flaky = trends([run('a', 1, true), run('b', 2, false), run('c', 3, true)])[0]!;
  t.deepEqual(flaky.flakyOn, ['0.1.0+a']);
  const fixed = trends([run('a', 1, false), run('b', 2, true, undefined, { harnessVersion: '0.1.0+b' }), run('c', 3, true, undefined, { harnessVersion: '0.1.0+b' })])[0]!;
  t.deepEqual(fixed.flakyOn, []);
  // Unknown verdicts are no evidence either way.
  t.deepEqual(trends([run('a', 1, true), run('b', 2, 'unknown')])[0]!.flakyOn, []);
});

test('one trend per scenario x configuration; the pass rate over the last N runs only', (t) => {
  const all = trends([run('a', 1, true), run('b', 2, true, undefined, { config: 'variants' }), run('c', 3, false, undefined, { scenario: 'freeze-active' })]);
  t.deepEqual(all.map((x) => `${x.scenario}/${x.config}`), ['freeze-active/lab', 'power-cut-active/lab', 'power-cut-active/variants']);
  const window = trends([run('a', 1, false), run('b', 2, true), run('c', 3, true)], 2)[0]!;
  t.is(window.passRate, 1);
  t.is(window.window, 2);
});

test('the trend page: per scenario x configuration its numbers, a stacked bar per run with its phases, failed runs marked, links to last good and first failed', (t) => {
  const runs = [
    { ...run('r1', 1, true, 40), phases: { 'fence-confirmed': 20, 'fs-mounted': 30, 'service-answering': 40 }, href: '../r1/timeline.html' },
    { ...run('r2', 2, false, 190), phases: { 'fence-confirmed': 25, 'fs-mounted': 150, 'service-answering': 190 }, href: '../r2/timeline.html' },
  ];
  const page = renderTrendPage(runs, ['fence-confirmed', 'fs-mounted', 'service-answering'], 20, '2026-12-06T00:00:00.000Z');
  t.regex(page, /<section data-scenario="power-cut-active" data-config="lab" data-variant="drbd\/ipmi\/postfix-dovecot">/);
  t.regex(page, /<td class="pass-rate">50%<\/td><td class="p50">40\.0 s<\/td><td class="p95">190\.0 s<\/td><td class="last-good"><a href="\.\.\/r1\/timeline\.html">r1<\/a><\/td><td class="first-failed"><a href="\.\.\/r2\/timeline\.html">r2<\/a><\/td>/);
  t.is(page.match(/<g class="run" data-run=/g)?.length, 2);
  t.is(page.match(/<title>r2: /g)?.length, 3, 'three phases stacked for r2');
  t.regex(page, /<g class="run" data-run="r2" data-outage="190" data-versions="pacemaker 2\.1\.5">.*✘/s);
  t.regex(page, /seconds after the fault/);
  t.regex(page, /runs, oldest first/);
  t.notRegex(renderTrendPage([{ ...run('<x>', 1, true), phases: {} }], []), /<x>/, 'names escaped');
});

test('rolling percentiles: over the window ending at each run; runs without an outage carry none of their own', (t) => {
  const runs = [run('a', 1, true, 40), run('b', 2, true, 60), run('c', 3, false), run('d', 4, true, 20)];
  t.deepEqual(rollingPercentile(runs, 50, 2), [40, 40, 60, 20]);
  t.deepEqual(rollingPercentile(runs, 95, 3), [40, 60, 60, 60]);
  t.deepEqual(rollingPercentile([run('x', 1, false)], 50, 5), [undefined]);
});

test('cluster versions: one line in name order; runs grouped by it with their pass rate, p50 and dates; a filter by component', (t) => {
  t.is(versionsLine({ pacemaker: '2.1.5', corosync: '3.1.7' }), 'corosync 3.1.7, pacemaker 2.1.5');
  t.is(versionsLine({}), 'not recorded');
  const old = { clusterVersions: { pacemaker: '2.1.5' } };
  const upgraded = { clusterVersions: { pacemaker: '2.1.6' } };
  const runs = [run('a', 1, true, 40, old), run('b', 2, true, 44, old), run('c', 3, false, 90, upgraded), run('d', 4, true, 80, upgraded)];
  t.deepEqual(byVersions(runs), [
    { versions: 'pacemaker 2.1.5', runs: 2, passRate: 1, outageP50: 40, first: '2026-12-01T02:00:00.000Z', last: '2026-12-02T02:00:00.000Z' },
    { versions: 'pacemaker 2.1.6', runs: 2, passRate: 0.5, outageP50: 80, first: '2026-12-03T02:00:00.000Z', last: '2026-12-04T02:00:00.000Z' },
  ]);
  t.deepEqual(filterRuns(runs, { versions: { pacemaker: '2.1.6' } }).map((r) => r.runId), ['c', 'd']);
  t.deepEqual(filterRuns([...runs, run('e', 5, true, 1, { config: 'variants' })], { config: 'variants' }).map((r) => r.runId), ['e']);
  t.deepEqual(filterRuns(runs, { versions: { drbd: '9.2' } }), [], 'a component a run did not record does not match');
});

test('the chart draws only the newest runs of a group (the page of a year of nights stays small), and says how many it left off', (t) => {
  const runs = Array.from({ length: 100 }, (_, i) => ({ ...run(`r${String(i).padStart(3, '0')}`, 1, true, 40 + (i % 7)), startedAt: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(), phases: { 'fence-confirmed': 20 } }));
  const page = renderTrendPage(runs, ['fence-confirmed'], 20, '2026-12-06T00:00:00.000Z', { chartRuns: 30 });
  t.is(page.match(/<g class="run" /g)?.length, 30);
  t.regex(page, /data-run="r099"/);
  t.notRegex(page, /data-run="r069"/);
  t.regex(page, /the last 30 runs, oldest first \(70 older left off/);
  t.regex(page, /<td class="runs">100<\/td>/, 'the numbers still count every run');
  t.regex(page, /<polyline class="p50" points="[^"]+"/);
  t.regex(page, /outage p95 \(last 20\)/);
  t.regex(page, /<option value="drbd\/ipmi\/postfix-dovecot">/);
});

test('a page narrowed on the command line says so', (t) => {
  const page = renderTrendPage([{ ...run('a', 1, true, 40), phases: {} }], [], 20, '2026-12-06T00:00:00.000Z', { filter: { config: 'lab', versions: { pacemaker: '2.1.5' } } });
  t.regex(page, /Only runs with configuration lab, pacemaker 2\.1\.5\./);
});
