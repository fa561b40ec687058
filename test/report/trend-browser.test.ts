/**
 * The trend page in a real browser (Debian's Chromium, headless): written by `ha-chaos trend` from
 * a history of literal runs, its numbers read back as a person sees them, its filters clicked, its
 * charts inside their frames, and no error and no request leaving the page.
 */
import test from 'ava';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { RunHistory, type HistoryRow } from '../../harness/report/run-history.ts';
import { openPage } from '../browser.ts';
import { tempDir } from '../helpers.ts';

const night = (i: number, over: Partial<HistoryRow> = {}): HistoryRow => ({
  runId: `night-${String(i).padStart(2, '0')}`,
  scenario: 'power-cut-active',
  config: 'lab',
  harnessVersion: '0.1.0+abc1234',
  startedAt: new Date(Date.UTC(2026, 10, 1 + i, 2)).toISOString(),
  valid: true,
  // 40, 42, ... 58 s: p50 over the last 10 is 50 s, p95 58 s.
  outageSeconds: 40 + 2 * (i % 10),
  seed: i,
  checks: { 'failover-time': true },
  phases: { detected: 1.2, 'fence-confirmed': 20, 'fs-mounted': 30, 'service-answering': 40 + 2 * (i % 10) },
  protocols: { smtp: 40, imap: 41 },
  dir: `/srv/reports/night-${i}`,
  variant: 'drbd/ipmi/postfix-dovecot',
  clusterVersions: { kernel: '6.1.0-28-amd64', pacemaker: i < 5 ? '2.1.5' : '2.1.6' },
  overload: [],
  ...over,
});

test('the trend page in Chromium: the numbers read back, the filters hide what they should, every bar inside its chart, nothing fetched, no error', async (t) => {
  t.timeout(180_000);
  const dir = tempDir();
  const history = join(dir, 'history.db');
  const db = await RunHistory.open(history);
  db.record([
    ...Array.from({ length: 10 }, (_, i) => night(i)),
    night(10, { valid: false, outageSeconds: 190, runId: 'night-10' }),
    night(11, { config: 'variants', variant: 'shared/pdu/axigen', runId: 'pdu-11' }),
  ]);
  db.save();
  db.close();
  const out = join(dir, 'trend.html');
  const r = await run('./bin/ha-chaos', ['trend', '--history', history, '--out', out, '--window', '10'], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 0, r.stderr);

  const { page, errors } = await openPage(t, out);
  const lab = page.locator('section[data-config="lab"]');
  t.is(await lab.locator('td.runs').textContent(), '11');
  // The last 10 of lab: nights 1-10, one failed.
  t.is(await lab.locator('td.pass-rate').textContent(), '90%');
  t.is(await lab.locator('td.p50').textContent(), '50.0 s');
  t.is(await lab.locator('td.p95').textContent(), '190.0 s');
  t.is(await lab.locator('td.last-good').textContent(), 'night-09');
  t.is(await lab.locator('td.first-failed').textContent(), 'night-10');
  t.is(await lab.locator('g.run').count(), 11);
  t.deepEqual(await lab.locator('table.by-versions td.versions').allTextContents(), ['kernel 6.1.0-28-amd64, pacemaker 2.1.5', 'kernel 6.1.0-28-amd64, pacemaker 2.1.6']);
  t.is(await page.locator('#shown').textContent(), '2');

  // Every bar and line inside its chart's frame (a chart that draws off its canvas shows nothing).
  // (In the page's own JavaScript: this project's TypeScript has no DOM types.)
  const outside = await page.evaluate(`[...document.querySelectorAll('svg')].map((svg) => {
    const frame = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('rect, polyline')].filter((e) => {
      const b = e.getBoundingClientRect();
      return b.left < frame.left - 0.5 || b.right > frame.right + 0.5 || b.top < frame.top - 0.5 || b.bottom > frame.bottom + 0.5;
    }).length;
  })`);
  t.deepEqual(outside, [0, 0]);
  t.is(await lab.locator('polyline.p50').count(), 1);

  // The filters: a configuration hides the other's section; a cluster version hides the other runs' bars.
  await page.selectOption('#filter-config', 'variants');
  t.false(await lab.isVisible());
  t.true(await page.locator('section[data-config="variants"]').isVisible());
  t.is(await page.locator('#shown').textContent(), '1');
  await page.selectOption('#filter-config', '');
  await page.selectOption('#filter-versions', 'kernel 6.1.0-28-amd64, pacemaker 2.1.5');
  t.is(await lab.locator('g.run:visible').count(), 5);
  t.false(await page.locator('section[data-config="variants"]').isVisible(), 'no run of variants on 2.1.5');
  await page.selectOption('#filter-versions', '');
  await page.selectOption('#filter-variant', 'shared/pdu/axigen');
  t.is(await page.locator('#shown').textContent(), '1');
  t.deepEqual(errors, []);
});
