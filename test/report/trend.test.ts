import test from 'ava';
import { percentile, renderTrendPage, trends, type RecordedRun } from '../../harness/report/trend.ts';

const run = (runId: string, day: number, valid: RecordedRun['valid'], outageSeconds?: number, over: Partial<RecordedRun> = {}): RecordedRun => ({
  runId,
  scenario: 'power-cut-active',
  config: 'lab',
  harnessVersion: '0.1.0+a',
  startedAt: `2026-12-${String(day).padStart(2, '0')}T02:00:00.000Z`,
  valid,
  ...(outageSeconds === undefined ? {} : { outageSeconds }),
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
  t.regex(page, /<section data-scenario="power-cut-active" data-config="lab">/);
  t.regex(page, /<td class="pass-rate">50%<\/td><td class="p50">40\.0 s<\/td><td class="p95">190\.0 s<\/td><td><a href="\.\.\/r1\/timeline\.html">r1<\/a><\/td><td><a href="\.\.\/r2\/timeline\.html">r2<\/a><\/td>/);
  t.is(page.match(/<g data-run=/g)?.length, 2);
  t.is(page.match(/<title>r2: /g)?.length, 3, 'three phases stacked for r2');
  t.regex(page, /<g data-run="r2" data-outage="190">.*✘/s);
  t.regex(page, /seconds after the fault/);
  t.regex(page, /runs, oldest first/);
  t.notRegex(renderTrendPage([{ ...run('<x>', 1, true), phases: {} }], []), /<x>/, 'names escaped');
});
