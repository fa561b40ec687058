import test from 'ava';
import { nodeSegments, phaseDurations, renderTimeline } from '../../harness/report/timeline.ts';
import type { Operation } from '../../harness/history/operation.ts';
import type { RunResults } from '../../harness/report/results.ts';

test('node lanes: what each node held, ended by a BMC power-off, unknown while lost', (t) => {
  const lanes = nodeSegments(
    [
      { time: 0, node: 'node1', reachable: true, drbdRole: 'Primary', holdsVip: true },
      { time: 0, node: 'node2', reachable: true, drbdRole: 'Secondary', holdsVip: false },
      { time: 12_000, node: 'node1', reachable: false },
      { time: 30_000, node: 'node2', reachable: true, drbdRole: 'Primary', holdsVip: false },
      { time: 31_000, node: 'node2', reachable: true, drbdRole: 'Primary', holdsVip: true },
      { time: 32_000, node: 'node2', reachable: true, drbdRole: 'Primary', holdsVip: true },
    ],
    [{ node: 'node1', time: 20_000, request: 'power', value: '0', result: 'done' }],
    60_000,
  );
  t.deepEqual(lanes.node1, [
    { from: 0, to: 12_000, state: 'Primary + IP' },
    { from: 12_000, to: 20_000, state: 'unknown' },
    { from: 20_000, to: 60_000, state: 'off' },
  ]);
  t.deepEqual(lanes.node2, [
    { from: 0, to: 30_000, state: 'Secondary' },
    { from: 30_000, to: 31_000, state: 'Primary' },
    { from: 31_000, to: 60_000, state: 'Primary + IP' },
  ]);
});

/** A run that failed on mail integrity, as results.json records it. */
const failedRun: RunResults = {
  schemaVersion: 1,
  runId: 'r1',
  name: 'power-cut-active',
  seed: 3,
  startedAt: '2026-11-25T00:00:00.000Z',
  finishedAt: '2026-11-25T00:05:00.000Z',
  valid: false,
  summary: 'mail-integrity: 1 acknowledged message(s) lost',
  checks: { 'mail-integrity': { valid: false, summary: '1 acknowledged message(s) lost' } },
};

test('the page shows the verdict, a row per client and per node, and escapes what it prints', (t) => {
  const history: Operation[] = [
    { index: 0, time: 1000, process: 'probe-smtp', type: 'invoke', f: 'probe' },
    { index: 1, time: 1100, process: 'probe-smtp', type: 'fail', f: 'probe', error: '<refused>' },
  ];
  const results = failedRun;
  const html = renderTimeline({ results, history, markers: { fault: 1050 }, samples: [{ time: 1000, node: 'node1', reachable: true, drbdRole: 'Primary', holdsVip: true }] });
  t.regex(html, /<h1 style="color:#c62828">power-cut-active: FAIL<\/h1>/);
  t.regex(html, />probe-smtp<\/text>/);
  t.regex(html, />node1<\/text>/);
  t.regex(html, /node1: Primary \+ IP from -0\.05 s/);
  t.regex(html, /&lt;refused&gt;/);
  t.notRegex(html, /<refused>/);
});

test('node lanes are clipped to the plotted window: a state reported before it holds from its start', (t) => {
  const lanes = nodeSegments(
    [
      { time: 100, node: 'node1', reachable: true, drbdRole: 'Primary', holdsVip: true },
      { time: 5000, node: 'node1', reachable: false },
    ],
    [],
    9000,
    1000,
  );
  t.deepEqual(lanes.node1, [
    { from: 1000, to: 5000, state: 'Primary + IP' },
    { from: 5000, to: 9000, state: 'unknown' },
  ]);
});

test('one zero on the page: ticks, markers and tooltips count from the fault; a late marker is anchored at its end', (t) => {
  const history: Operation[] = [
    { index: 0, time: 0, process: 'probe-smtp', type: 'invoke', f: 'probe' },
    { index: 1, time: 100, process: 'probe-smtp', type: 'ok', f: 'probe' },
    { index: 2, time: 10_000, process: 'probe-smtp', type: 'invoke', f: 'probe' },
    { index: 3, time: 10_100, process: 'probe-smtp', type: 'ok', f: 'probe' },
  ];
  const results: RunResults = { schemaVersion: 1, runId: 'r2', name: 'x', seed: 1, startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:00:10.000Z', valid: true, summary: 'ok', checks: {} };
  const html = renderTimeline({ results, history, markers: { fault: 2000, healed: 10_100 } });
  t.regex(html, />-2 s<\/text>/, 'the first tick is before the fault');
  t.regex(html, />\+8 s<\/text>/);
  t.regex(html, /text-anchor="end">healed \+8\.1 s<\/text>/);
  t.regex(html, />fault \+0\.0 s<\/text>/);
  t.regex(html, /probe-smtp probe ok at -2\.00 s/);
});

test('phase durations: each phase with how long it took since the one before, in time order', async (t) => {
  const { phaseDurations } = await import('../../harness/report/timeline.ts');
  t.deepEqual(phaseDurations({ 'ip-up': 33.9, detected: 1.3, 'fence-confirmed': 21.6, 'drbd-promoted': 25.9 }), [
    { phase: 'detected', at: 1.3, took: 1.3 },
    { phase: 'fence-confirmed', at: 21.6, took: 20.3 },
    { phase: 'drbd-promoted', at: 25.9, took: 4.3 },
    { phase: 'ip-up', at: 33.9, took: 8 },
  ]);
});

test('each lost message is marked on its sender\'s lane at the moment of its 250, with its evidence', (t) => {
  const history: Operation[] = [
    { index: 0, time: 1000, process: 'sender-0', type: 'invoke', f: 'send', value: { id: 41, to: 'user1' } },
    { index: 1, time: 1200, process: 'sender-0', type: 'ok', f: 'send', value: '250 2.0.0 Ok: queued' },
    { index: 2, time: 1500, process: 'sender-0', type: 'invoke', f: 'send', value: { id: 42, to: 'user2' } },
    { index: 3, time: 1700, process: 'sender-0', type: 'ok', f: 'send', value: '250 2.0.0 Ok: queued' },
  ] as Operation[];
  const results: RunResults = {
    ...failedRun,
    runId: 'r3',
    checks: {
      'mail-integrity': {
        valid: false,
        summary: 'imap: 1 acknowledged message(s) lost; pop3: 1 acknowledged message(s) lost',
        evidence: "each send's SMTP reply",
        details: { protocols: { imap: { lost: [42] }, pop3: { lost: [42] } } },
      },
    },
  };
  const html = renderTimeline({ results, history, markers: { fault: 1100 } });
  t.is((html.match(/<circle /g) ?? []).length, 1, 'one lost message, one mark');
  t.regex(html, /message 42: acknowledged with 250 at \+0\.60 s by sender-0, never read back \(imap, pop3\)/);
  t.notRegex(html, /message 41:/);
  t.regex(html, /evidence: each send&apos;s SMTP reply/);
});

test('phase table: in time order; a tie puts the common phases in their order and a seam\'s own phase before the service answers', (t) => {
  const rows = phaseDurations({ 'service-answering': 9, 'axigen-started': 9, 'drbd-promoted': 5, 'fence-confirmed': 5, detected: 1 });
  t.deepEqual(
    rows.map((r) => [r.phase, r.at, r.took]),
    [
      ['detected', 1, 1],
      ['fence-confirmed', 5, 4],
      ['drbd-promoted', 5, 0],
      ['axigen-started', 9, 4],
      ['service-answering', 9, 0],
    ],
  );
});
