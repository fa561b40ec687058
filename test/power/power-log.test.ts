/** "The node lost power", on literal power logs: a BMC, one outlet, two supplies on one or two PDUs. */
import test from 'ava';
import { fencing } from '../../harness/check/fencing.ts';
import { singlePrimary } from '../../harness/check/single-primary.ts';
import type { Observations } from '../../harness/check/observations.ts';
import { poweredAt, powerLosses, suppliesNeverOff, type PowerEvent } from '../../harness/power/power-log.ts';
import type { Scenario } from '../../harness/scenario/scenario.ts';

const ev = (time: number, value: string, supply?: string, node = 'node1', result = 'done'): PowerEvent => ({ node, time, request: 'power', value, result, ...(supply ? { supply } : {}) });

test('a BMC: each power-off is a loss; an ignored or failed request is not; resets count unless asked not to', (t) => {
  const log = [ev(100, '0'), ev(200, '1'), ev(300, '0', undefined, 'node1', 'ignored'), { node: 'node1', time: 400, request: 'reset', value: '1', result: 'done' }, ev(500, '0', undefined, 'node2')];
  t.deepEqual(powerLosses(log, 'node1'), [100, 400]);
  t.deepEqual(powerLosses(log, 'node1', { resets: false }), [100]);
  t.deepEqual(powerLosses(log, 'node2'), [500]);
  t.deepEqual(powerLosses(log, 'node3'), []);
});

test('two supplies: the node loses power when the second outlet goes off, not the first', (t) => {
  const supplies = ['pdu1:1', 'pdu1:3'];
  const log = [ev(100, '0', 'pdu1:1'), ev(150, '1', 'pdu1:1'), ev(200, '0', 'pdu1:3'), ev(250, '0', 'pdu1:1'), ev(300, '1', 'pdu1:1'), ev(310, '1', 'pdu1:3')];
  t.deepEqual(powerLosses(log, 'node1', { supplies }), [250]);
  t.deepEqual(suppliesNeverOff(log, 'node1', supplies, 0, 150), ['pdu1:3']);
  t.deepEqual(suppliesNeverOff(log, 'node1', supplies, 0, 260), []);
  // Without the plan's supplies, an outlet never switched is invisible: the plan must say.
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:1')], 'node1'), [100]);
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:1')], 'node1', { supplies }), []);
  // Outlets of two PDUs; an outlet of another node's is not this node's.
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:1'), ev(110, '0', 'pdu2:1'), ev(120, '0', 'pdu1:2')], 'node1', { supplies: ['pdu1:1', 'pdu2:1'] }), [110]);
  // A reboot of one outlet while the other is off is a loss; while the other is on it is not.
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:3'), ev(200, 'reset', 'pdu1:1')], 'node1', { supplies }), [200]);
  t.deepEqual(powerLosses([ev(200, 'reset', 'pdu1:1')], 'node1', { supplies }), []);
});

test('two fencing levels (the BMC, then two PDU outlets): the chassis is in series with the outlets', (t) => {
  const supplies = ['bmc', 'pdu1:1', 'pdu2:1'];
  // power-loss-active on such a node: the chassis off (the node and its BMC lose power), then the
  // fencer's level 2 switches both outlets off and on again; power returns at the heal (chassis on).
  const loss = [ev(100, '0'), ev(200, '0', 'pdu1:1'), ev(210, '0', 'pdu2:1'), ev(1200, '1', 'pdu1:1'), ev(1210, '1', 'pdu2:1'), ev(5000, '1')];
  t.deepEqual(powerLosses(loss, 'node1', { supplies }), [100], 'one loss: the chassis; the outlets switched nothing live');
  t.false(poweredAt(loss, 'node1', 1300, { supplies }), 'outlets on again, the chassis still off: no power');
  t.true(poweredAt(loss, 'node1', 5001, { supplies }));
  // A level-2 fence of a running node: the loss is the second outlet's, as with PDUs alone.
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:1'), ev(110, '0', 'pdu2:1'), ev(1100, '1', 'pdu1:1')], 'node1', { supplies }), [110]);
  t.true(poweredAt([ev(100, '0', 'pdu1:1'), ev(110, '0', 'pdu2:1'), ev(1100, '1', 'pdu1:1')], 'node1', 1200, { supplies }), 'one outlet back, the chassis on');
  // A level-1 fence (the BMC) alone, and a BMC reset.
  t.deepEqual(powerLosses([ev(100, '0'), ev(200, '1'), { node: 'node1', time: 300, request: 'reset', value: '1', result: 'done' }], 'node1', { supplies }), [100, 300]);
  // A reset while both outlets are off cuts nothing.
  t.deepEqual(powerLosses([ev(100, '0', 'pdu1:1'), ev(110, '0', 'pdu2:1'), { node: 'node1', time: 300, request: 'reset', value: '1', result: 'done' }], 'node1', { supplies }), [110]);
});

const scenario: Scenario = {
  name: 'power-cut-active',
  description: '',
  fault: 'power-cut-active',
  expect: 'failover',
  slo: { maxOutageSeconds: 120 },
  workload: { sendRate: 1, probeIntervalMs: 250, warmupSeconds: 10, recoveryTimeoutSeconds: 300, cooldownSeconds: 10 },
};
const dual = (powerLog: PowerEvent[]): Observations => ({
  fault: { name: 'power-cut-active', node: 'node1', injectedAt: 1000 },
  fenceEvents: [{ target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 }],
  takeovers: [{ node: 'node2', at: 32_000 }],
  powerLog,
  powerSupplies: { node1: ['pdu1:1', 'pdu1:3'], node2: ['pdu1:2', 'pdu1:4'] },
  samples: [],
  phases: {},
});

test('fencing, two supplies: a level that switched off only one outlet fails although the fence agent said success', (t) => {
  const oneOutlet = fencing.check({ scenario, history: [], observations: dual([ev(20_000, '0', 'pdu1:1'), ev(25_000, '1', 'pdu1:1')]) });
  t.is(oneOutlet.valid, false);
  t.is(oneOutlet.summary, 'the power devices of node1 show no power-off before the takeover: pdu1:3 never went off (a node with 2 power supplies is off only when all are)');
  const both = fencing.check({ scenario, history: [], observations: dual([ev(20_000, '0', 'pdu1:1'), ev(20_100, '0', 'pdu1:3'), ev(25_000, '1', 'pdu1:1'), ev(25_100, '1', 'pdu1:3')]) });
  t.is(both.valid, true);
  // The peer losing one of its two supplies is no fence race; losing both is.
  const peerOne = fencing.check({ scenario, history: [], observations: dual([ev(20_000, '0', 'pdu1:1'), ev(20_100, '0', 'pdu1:3'), ev(21_000, '0', 'pdu1:2', 'node2')]) });
  t.is(peerOne.valid, true);
  const peerBoth = fencing.check({ scenario, history: [], observations: dual([ev(20_000, '0', 'pdu1:1'), ev(20_100, '0', 'pdu1:3'), ev(21_000, '0', 'pdu1:2', 'node2'), ev(21_100, '0', 'pdu1:4', 'node2')]) });
  t.is(peerBoth.summary, 'node2 was fenced too (fence race): only node1 had failed');
});

test('single-primary: a node whose last supply went off holds nothing from then on; one supply off changes nothing', (t) => {
  const samples = [
    { time: 0, node: 'node1', reachable: true, drbdRole: 'Primary', holdsVip: true },
    { time: 0, node: 'node2', reachable: true, drbdRole: 'Secondary', holdsVip: false },
    { time: 10_000, node: 'node1', reachable: false },
    { time: 30_000, node: 'node2', reachable: true, drbdRole: 'Primary', holdsVip: true },
  ] as Observations['samples'];
  const cut = singlePrimary.check({ scenario, history: [], observations: { ...dual([ev(20_000, '0', 'pdu1:1'), ev(20_100, '0', 'pdu1:3')]), samples } });
  t.is(cut.valid, true);
  const half = singlePrimary.check({ scenario, history: [], observations: { ...dual([ev(20_000, '0', 'pdu1:1')]), samples } });
  t.not(half.valid, true, 'node1 was last seen Primary and never lost power: its primary role may still hold');
});
