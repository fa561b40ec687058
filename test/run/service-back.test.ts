/** When a run stops watching the fault, on literal probe histories and watcher samples. */
import test from 'ava';
import type { Operation } from '../../harness/history/operation.ts';
import type { NodeSample } from '../../harness/check/observations.ts';
import { serviceBack, vipMovedAt, type ServiceBackInput } from '../../harness/run/service-back.ts';

type Row = [number, string, 'ok' | 'fail' | 'info'];

/** Probes every 250 ms from `from` to `to` (exclusive) on both protocols with one outcome. */
function probes(from: number, to: number, result: Row[2]): Row[] {
  const rows: Row[] = [];
  for (let t = from; t < to; t += 250) rows.push([t, 'probe-smtp', result], [t, 'probe-imap', result]);
  return rows;
}

/** A history of probe invocations, each completed 50 ms later. */
function history(rows: Row[]): Operation[] {
  const ops: Operation[] = [];
  for (const [time, process, type] of [...rows].sort((a, b) => a[0] - b[0])) {
    ops.push({ index: ops.length, time, process, type: 'invoke', f: 'probe' });
    ops.push({ index: ops.length, time: time + 50, process, type, f: 'probe' });
  }
  return ops;
}

const sample = (time: number, node: string, holdsVip: boolean, reachable = true): NodeSample => ({ time, node, reachable, holdsVip, source: 'vip' });

const base = (over: Partial<ServiceBackInput>): ServiceBackInput => ({
  expect: 'failover',
  faultNode: 'node2',
  faultAt: 10_000,
  now: 40_000,
  history: [],
  samples: [sample(0, 'node2', true), sample(0, 'node1', false)],
  ...over,
});

test('failover: a brief probe failure while the isolated node still serves is not the service back (the CI case)', (t) => {
  // Heartbeat rings cut at 10 s; one probe times out at 12 s; node2 keeps answering until it is fenced at 32 s.
  const rows = [...probes(10_000, 12_000, 'ok'), [12_000, 'probe-smtp', 'info'] as Row, ...probes(12_250, 32_000, 'ok'), ...probes(32_000, 40_000, 'fail')];
  const state = serviceBack(base({ history: history(rows), now: 30_000 }));
  t.false(state.back);
  t.regex((state as { why: string }).why, /virtual IP has not moved off node2/);
});

test('failover: back once the peer holds the IP and both probes invoked after the move succeed steadily', (t) => {
  const samples = [sample(0, 'node2', true), sample(0, 'node1', false), sample(33_000, 'node2', false, false), sample(40_000, 'node1', true)];
  const outage = [...probes(10_000, 33_000, 'ok'), ...probes(33_000, 50_000, 'fail')];
  // IP up at 40 s, services answer from 50 s.
  t.false(serviceBack(base({ samples, history: history(outage), now: 49_000 })).back, 'IP moved but probes still fail');
  const early = history([...outage, ...probes(50_000, 51_000, 'ok')]);
  const notSteady = serviceBack(base({ samples, history: early, now: 52_500 }));
  t.false(notSteady.back, 'probes ok but the last 3 s still hold failures');
  const full = history([...outage, ...probes(50_000, 54_000, 'ok')]);
  const back = serviceBack(base({ samples, history: full, now: 54_000 }));
  t.true(back.back);
  t.is((back as { at: number }).at, 53_800);
});

test('failover: one lucky probe inside a flapping service does not end the watch', (t) => {
  const samples = [sample(0, 'node2', true), sample(20_000, 'node1', true)];
  const rows = [...probes(20_000, 30_000, 'fail'), [30_000, 'probe-smtp', 'ok'] as Row, [30_000, 'probe-imap', 'ok'] as Row, [30_250, 'probe-smtp', 'fail'] as Row, [30_500, 'probe-smtp', 'ok'] as Row, [30_500, 'probe-imap', 'ok'] as Row];
  t.false(serviceBack(base({ samples, history: history(rows), now: 31_000 })).back);
});

test('takeover: a holder before the fault, a lost stream, or the failed node itself is no takeover', (t) => {
  t.is(vipMovedAt([sample(0, 'node2', true)], 'node2', 10_000), undefined, 'the failed node still holds it');
  t.is(vipMovedAt([sample(5_000, 'node1', true)], 'node2', 10_000), undefined, 'held before the fault: not a move');
  t.is(vipMovedAt([sample(20_000, 'node1', true), sample(25_000, 'node1', false, false)], 'node2', 10_000), undefined, 'stream lost: unknown');
  t.is(vipMovedAt([sample(20_000, 'node1', true), sample(25_000, 'node1', false, false), sample(27_000, 'node1', true)], 'node2', 10_000), 27_000, 'held again since the re-opened stream');
  t.is(vipMovedAt([sample(20_000, 'node1', true), sample(22_000, 'node1', true)], 'node2', 10_000), 20_000, 'a repeated report does not move the moment');
});

test('recovery: failures then steady success ends the watch; without failures only after the grace period', (t) => {
  const failedThenBack = history([...probes(10_000, 15_000, 'ok'), ...probes(15_000, 20_000, 'fail'), ...probes(20_000, 24_000, 'ok')]);
  t.true(serviceBack(base({ expect: 'recovery', history: failedThenBack, now: 24_000 })).back);
  const clean = history(probes(10_000, 40_000, 'ok'));
  t.false(serviceBack(base({ expect: 'recovery', history: clean, now: 40_000 })).back, 'no failure yet and the grace period (45 s) not over');
  t.true(serviceBack(base({ expect: 'recovery', history: history(probes(10_000, 56_000, 'ok')), now: 56_000 })).back);
});

test('no-outage: only after the grace period, and only while both protocols answer', (t) => {
  const stallThenOk = history([...probes(10_000, 12_000, 'fail'), ...probes(12_000, 30_000, 'ok')]);
  t.false(serviceBack(base({ expect: 'no-outage', history: stallThenOk, now: 30_000 })).back, 'a failure is no reason to stop early');
  const imapDown = history([...probes(10_000, 56_000, 'ok').filter((r) => r[1] === 'probe-smtp'), ...probes(10_000, 56_000, 'fail').filter((r) => r[1] === 'probe-imap')]);
  const state = serviceBack(base({ expect: 'no-outage', history: imapDown, now: 56_000 }));
  t.false(state.back);
  t.regex((state as { why: string }).why, /smtp ok, imap fail/);
});

test('a held fault: probes ok before the release prove nothing; a probe hanging after it keeps the watch going (the clock-jump case)', (t) => {
  // Released at 70 s; IMAP logins hang from 70.1 s on (Dovecot waits out a backward clock step).
  const rows: Row[] = [...probes(10_000, 70_250, 'ok'), ...probes(70_250, 74_000, 'ok').filter((r) => r[1] === 'probe-smtp')];
  const ops = history(rows);
  ops.push({ index: ops.length, time: 70_100, process: 'probe-imap', type: 'invoke', f: 'probe' });
  const input = base({ expect: 'no-outage', releasedAt: 70_050, history: ops });
  t.false(serviceBack({ ...input, now: 70_200 }).back, 'right after the release: no whole window since');
  const hanging = serviceBack({ ...input, now: 73_500 });
  t.false(hanging.back);
  t.regex((hanging as { why: string }).why, /imap hanging/);
  const fine = history(probes(10_000, 74_000, 'ok'));
  t.true(serviceBack({ ...input, history: fine, now: 74_000 }).back, 'steady for 3 s after the release');
});

test('who recovered the service: the cluster when the journal shows it starting a mail resource after the fault; else the service itself', async (t) => {
  const { recoveredBy } = await import('../../harness/run/run-scenario.ts');
  const fault = { name: 'kill-mail-service-active', node: 'node1', injectedAt: 10_000 };
  t.is(recoveredBy({ fault, phases: { 'axigen-started': 25_500 } }, ['axigen'], 18.2), 'the cluster (Pacemaker started axigen at +15.5 s)');
  t.is(recoveredBy({ fault, phases: { 'axigen-started': 5_000 } }, ['axigen'], 3.1), "the service itself (the clients saw it back with no start by the cluster: a restart in place the cluster never saw, e.g. by Axigen's supervisor)", 'a start before the fault is not this recovery');
  t.is(recoveredBy({ fault, phases: {} }, ['smtp', 'imap'], undefined), 'not recovered within the run');
  // An in-place restart by the cluster is on the failed node itself (its journal, not the survivor's).
  t.is(recoveredBy({ fault, phases: {}, mailStarts: [{ node: 'node1', resource: 'axigen', at: 30_000 }] }, ['axigen'], 24.3), 'the cluster (Pacemaker started axigen on node1 at +20.0 s)');
});
