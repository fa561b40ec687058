/**
 * Verdicts from observed ground truth (issue 19), on literal evidence in the shape of the issue's
 * runs: a power log whose "off" no "on" followed (a repair outside the power device), a fence of
 * node1 that powered node2 off (a device aimed at the peer's BMC), and a service that could not
 * come back because no node was up.
 */
import test from 'ava';
import { failoverTime } from '../../harness/check/failover-time.ts';
import { fencing } from '../../harness/check/fencing.ts';
import { describeNodeStates, noNodeUpSince, nodeStatesAt, type Observations } from '../../harness/check/observations.ts';
import { singlePrimary } from '../../harness/check/single-primary.ts';
import { runChecker } from '../../harness/check/checker.ts';
import type { Operation } from '../../harness/history/operation.ts';
import { powerLosses, poweredAt, type PowerEvent } from '../../harness/power/power-log.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';
import type { Scenario } from '../../harness/scenario/scenario.ts';

// The built-in scenario itself, its SLO widened for the literal runs below.
const scenario: Scenario = { ...SCENARIOS['power-cut-active']!, slo: { maxOutageSeconds: 180 } };
const T = 1_795_000_000_000; // the run's start, host clock
const bmc = (node: string, at: number, value: string, extra: Partial<PowerEvent> = {}): PowerEvent => ({ node, time: T + at, request: 'power', value, result: 'done', ...extra });

// The earlier run of the issue: node2 powered itself off through a misdirected fence (its BMC logged the "off");
// the repair then started it through libvirt, outside its BMC: no "on" in the old log.
const before = [bmc('node2', -900_000, '0')];

test('a power log whose last "off" no "on" followed: the next run\'s power-off is not seen without the run\'s start; with it, it is', (t) => {
  const fault = bmc('node2', 20_000, '0');
  const log = [...before, fault, bmc('node2', 50_000, '1')];
  t.deepEqual(powerLosses(log, 'node2'), [T - 900_000], 'replayed from the lab\'s birth: the fault\'s power-off is no transition (the poisoned verdict)');
  t.deepEqual(powerLosses(log, 'node2', { start: { at: T, supplies: { bmc: 'on' } } }), [T + 20_000], 'from what the device said at the run\'s start');
  t.false(poweredAt(log, 'node2', T + 30_000, { start: { at: T, supplies: { bmc: 'on' } } }));
  t.true(poweredAt(log, 'node2', T + 60_000, { start: { at: T, supplies: { bmc: 'on' } } }));
  // A repair recorded in the log ("outside: ...") is a transition of its own: even without the start it is right.
  const recorded = [...before, bmc('node2', -60_000, '1', { by: 'outside: repair: lab up started the VM through libvirt' }), fault];
  t.deepEqual(powerLosses(recorded, 'node2').filter((x) => x >= T), [T + 20_000]);
});

/** The run after the repair: node2 active, power cut at +20 s, fenced and node1 promoted. */
const afterRepair = (withStart: boolean): Observations => ({
  fault: { name: 'power-cut-active', node: 'node2', injectedAt: T + 20_000 },
  fenceEvents: [{ target: 'node2', action: 'reboot', status: 'success', delegate: 'node1', completedAt: T + 55_000 }],
  takeovers: [{ node: 'node1', at: T + 60_000 }],
  powerLog: [...before, bmc('node2', 20_000, '0'), bmc('node2', 52_000, '0'), bmc('node2', 54_000, '1')],
  ...(withStart ? { powerAtStart: { at: T, nodes: { node1: { bmc: 'on' }, node2: { bmc: 'on' } } } } : {}),
  samples: [
    { time: T + 1000, node: 'node1', reachable: true, source: 'snapshot', drbdRole: 'Secondary', holdsVip: false },
    { time: T + 1000, node: 'node2', reachable: true, source: 'snapshot', drbdRole: 'Primary', holdsVip: true },
    { time: T + 25_000, node: 'node2', reachable: false, source: 'lost' },
    { time: T + 60_000, node: 'node1', reachable: true, source: 'drbd', drbdRole: 'Primary', holdsVip: false },
    { time: T + 62_000, node: 'node1', reachable: true, source: 'vip', drbdRole: 'Primary', holdsVip: true },
  ],
  phases: {},
});

test('the run after a repair done outside the power device: fencing and single-primary judged from the run\'s own power truth', (t) => {
  const poisoned = afterRepair(false);
  t.is(fencing.check({ scenario, history: [], observations: poisoned }).valid, false, 'the issue\'s wrong verdict, reproduced without the run\'s start');
  t.not(singlePrimary.check({ scenario, history: [], observations: poisoned }).valid, true);
  const judged = afterRepair(true);
  const f = fencing.check({ scenario, history: [], observations: judged });
  t.is(f.valid, true, f.summary);
  t.is(f.summary, 'node2 fenced 5.00 s before node1 promoted');
  const sp = singlePrimary.check({ scenario, history: [], observations: judged });
  t.is(sp.valid, true, sp.summary);
});

test('a fence of node1 that powered node2 off is named as a misdirected device, not a race', (t) => {
  // Power cut of node1 at +20 s (its own BMC); the fence of node1 went to node2's BMC (fence_node1's ipport = node2's): node2 off at +48 s, on at +50 s.
  const observations: Observations = {
    fault: { name: 'power-cut-active', node: 'node1', injectedAt: T + 20_000 },
    fenceEvents: [{ target: 'node1', action: 'reboot', status: 'success', delegate: 'node2', completedAt: T + 51_000 }],
    takeovers: [],
    powerLog: [bmc('node1', 20_000, '0'), bmc('node2', 48_000, '0'), bmc('node2', 50_000, '1')],
    powerAtStart: { at: T, nodes: { node1: { bmc: 'on' }, node2: { bmc: 'on' } } },
    fenceDevices: { node1: ['fence_node1'], node2: ['fence_node2'] },
    samples: [],
    phases: {},
  };
  const r = fencing.check({ scenario, history: [], observations });
  t.is(r.valid, false);
  t.is(
    r.summary,
    "the fence of node1 (fence_node1) powered off node2: node2's power device shows it off at +28.0 s, the fence of node1 was reported done at +31.0 s, and no fence targeted node2; the fence device of node1 reaches node2's machine (a misdirected fence device, not a fence race)",
  );
  // Both shot (node1's BMC saw the fence's requests too): a race, as before.
  const race = fencing.check({ scenario, history: [], observations: { ...observations, powerLog: [...observations.powerLog, bmc('node1', 47_000, '0'), bmc('node1', 49_000, '1')] } });
  t.is(race.summary, 'node2 was fenced too (fence race): only node1 had failed');
  // Every FAILED verdict says what it rests on.
  t.regex(runChecker(fencing, { scenario, history: [], observations }).evidence!, /^the fencer's history .* every power device's own log from the run's start/);
});

const op = (process: string, f: string, type: 'invoke' | 'ok' | 'fail', time: number, index: number): Operation => ({ index, process, type, f, time: T + time }) as Operation;

test('no node up: the service could not come back, said with each node\'s state and its evidence; no overload note on a dead cluster', (t) => {
  // Both nodes off (the misdirected fence of the issue): the probes fail from +20 s to the end.
  const history: Operation[] = [];
  let i = 0;
  for (let s = 0; s < 300; s += 5) {
    history.push(op('probe-smtp', 'probe', 'invoke', s * 1000, i++));
    history.push(op('probe-smtp', 'probe', s < 20 ? 'ok' : 'fail', s * 1000 + 100, i++));
  }
  const observations: Observations = {
    fault: { name: 'power-cut-active', node: 'node1', injectedAt: T + 20_000, healedAt: T + 300_000 },
    fenceEvents: [],
    takeovers: [],
    powerLog: [bmc('node1', 20_000, '0'), bmc('node2', 48_000, '0')],
    powerAtStart: { at: T, nodes: { node1: { bmc: 'on' }, node2: { bmc: 'on' } } },
    samples: [
      { time: T + 1000, node: 'node1', reachable: true, source: 'snapshot', drbdRole: 'Primary', holdsVip: true },
      { time: T + 1000, node: 'node2', reachable: true, source: 'snapshot', drbdRole: 'Secondary', holdsVip: false },
    ],
    overload: { reasons: ['the host load average stayed over 4 for 200 s'] },
    phases: {},
  };
  const states = nodeStatesAt(observations, ['node1', 'node2'], T + 300_000);
  t.deepEqual(states.map((s) => s.state), ['off', 'off']);
  t.is(noNodeUpSince(states), T + 48_000);
  t.is(describeNodeStates(states, T + 20_000), "node1 off since +0.0 s (its power device's log), node2 off since +28.0 s (its power device's log)");
  const r = runChecker(failoverTime, { scenario, history, observations });
  t.is(r.valid, false);
  t.is(r.summary, "the service could not come back: no node was up when the run stopped watching (node1 off since +0.0 s (its power device's log), node2 off since +28.0 s (its power device's log))");
  t.false(r.summary.includes('overloaded'), 'the host did not do that');
  t.truthy(r.evidence);
  // With a node up and the service late, the overload note stays.
  const oneUp = runChecker(failoverTime, { scenario, history, observations: { ...observations, powerLog: [bmc('node1', 20_000, '0')] } });
  t.regex(oneUp.summary, /the host was overloaded/);
});
