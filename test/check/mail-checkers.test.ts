/** The certification checkers on literal histories and observations, including every case that must fail. */
import test from 'ava';
import type { Operation } from '../../harness/history/operation.ts';
import type { Observations } from '../../harness/check/observations.ts';
import type { Scenario } from '../../harness/scenario/scenario.ts';
import { mailIntegrity } from '../../harness/check/mail-integrity.ts';
import { failoverTime } from '../../harness/check/failover-time.ts';
import { fencing } from '../../harness/check/fencing.ts';
import { singlePrimary } from '../../harness/check/single-primary.ts';
import { convergence } from '../../harness/check/convergence.ts';
import { parseQueued } from '../../harness/run/mail-queue.ts';

/** Builds a history from compact rows: [time, process, type, f, value?]. */
function h(rows: [number, string, Operation['type'], string, unknown?][]): Operation[] {
  return rows.map(([time, process, type, f, value], index) => ({ index, time, process, type, f, ...(value === undefined ? {} : { value }) }));
}

const scenario: Scenario = {
  name: 'power-cut-active',
  description: '',
  fault: 'power-cut-active',
  expect: 'failover',
  slo: { maxOutageSeconds: 120 },
  workload: { sendRate: 2, probeIntervalMs: 250, warmupSeconds: 10, recoveryTimeoutSeconds: 300, cooldownSeconds: 10 },
};

const obs = (over: Partial<Observations> = {}): Observations => ({
  fault: { name: 'power-cut-active', node: 'node1', injectedAt: 1000 },
  fenceEvents: [],
  takeovers: [],
  powerLog: [],
  samples: [],
  phases: {},
  ...over,
});

const send = (t: number, p: string, id: number, outcome: 'ok' | 'fail' | 'info'): [number, string, Operation['type'], string, unknown?][] => [
  [t, p, 'invoke', 'send', { id }],
  [t + 10, p, outcome, 'send'],
];
const read = (t: number, account: string, ids: number[], protocol = 'imap'): [number, string, Operation['type'], string, unknown?][] => [
  [t, `reader-${protocol}`, 'invoke', 'read', { account, protocol }],
  [t + 5, `reader-${protocol}`, 'ok', 'read', { account, protocol, ids }],
];

const check = (c: typeof mailIntegrity, history: Operation[], o = obs()) => c.check({ scenario, history, observations: o });

test('integrity: every acknowledged message read back once passes; unknown outcomes are reported apart', (t) => {
  const history = h([...send(0, 'smtp-1', 1, 'ok'), ...send(20, 'smtp-1', 2, 'info'), ...send(40, 'smtp-1', 3, 'ok'), ...read(100, 'user1', [1, 3, 2])]);
  const r = check(mailIntegrity, history);
  t.is(r.valid, true);
  t.is(r.summary, 'all 2 acknowledged messages read back exactly once over IMAP (1 unknown outcomes reported apart)');
  t.deepEqual((r.details as { protocols: Record<string, { unknownOutcome: unknown }> }).protocols.imap!.unknownOutcome, { found: [2], notFound: [] });
});

test('integrity: each protocol is its own view; a message missing over POP3 only still fails', (t) => {
  const sends = [...send(0, 'smtp-1', 1, 'ok'), ...send(20, 'smtp-1', 2, 'ok')];
  const both = check(mailIntegrity, h([...sends, ...read(100, 'user1', [1, 2]), ...read(200, 'user1', [2, 1], 'pop3')]));
  t.is(both.valid, true);
  t.is(both.summary, 'all 2 acknowledged messages read back exactly once over IMAP and POP3 (0 unknown outcomes reported apart)');
  const pop3Short = check(mailIntegrity, h([...sends, ...read(100, 'user1', [1, 2]), ...read(200, 'user1', [1], 'pop3')]));
  t.is(pop3Short.valid, false);
  t.is(pop3Short.summary, 'pop3: 1 acknowledged message(s) lost');
  const notRead = check(mailIntegrity, h([...sends, ...read(100, 'user1', [1, 2]), [200, 'reader-pop3', 'invoke', 'read', { account: 'user1', protocol: 'pop3' }], [201, 'reader-pop3', 'fail', 'read', 'timeout']]));
  t.is(notRead.valid, 'unknown');
  t.deepEqual((notRead.details as { notRead: string[] }).notRead, ['pop3:user1']);
});

test('integrity: a lost acknowledged message fails', (t) => {
  const r = check(mailIntegrity, h([...send(0, 'smtp-1', 1, 'ok'), ...send(20, 'smtp-1', 2, 'ok'), ...read(100, 'user1', [1])]));
  t.is(r.valid, false);
  t.is(r.summary, '1 acknowledged message(s) lost');
  t.deepEqual((r.details as { protocols: Record<string, { lost: number[] }> }).protocols.imap!.lost, [2]);
});

test('integrity: a message still in the mail queue at read-back is lost all the same, with the queue named', (t) => {
  const history = h([...send(0, 'smtp-1', 1, 'ok'), ...send(20, 'smtp-1', 2, 'ok'), ...read(100, 'user1', [1])]);
  const stuck = check(mailIntegrity, history, obs({ mailQueue: { drained: false, queued: 1, waitedMs: 90_000 } }));
  t.is(stuck.valid, false);
  t.is(stuck.summary, '1 acknowledged message(s) lost; 1 message(s) were still in the mail queue at read-back');
  const drained = check(mailIntegrity, history, obs({ mailQueue: { drained: true, queued: 0, waitedMs: 2000 } }));
  t.is(drained.summary, '1 acknowledged message(s) lost');
  const clean = check(mailIntegrity, h([...send(0, 'smtp-1', 1, 'ok'), ...read(100, 'user1', [1])]), obs({ mailQueue: { drained: false, queued: 3, waitedMs: 90_000 } }));
  t.is(clean.valid, true, 'a queue that holds other mail is no problem when nothing acknowledged is missing');
});

test('mail queue: one count per node holding the store, summed; none means unknown', (t) => {
  t.is(parseQueued(['queued 0\n', '']), 0);
  t.is(parseQueued(['queued 2\n', 'queued 1\n']), 3);
  t.is(parseQueued(['', 'ssh: connect to host 10.213.0.11 port 22: No route to host']), undefined);
});

test('integrity: a duplicate, a refused-but-delivered and a never-sent message fail', (t) => {
  const r = check(mailIntegrity, h([...send(0, 'smtp-1', 1, 'ok'), ...send(20, 'smtp-1', 2, 'fail'), ...read(100, 'user1', [1, 1, 2, 99])]));
  t.is(r.valid, false);
  t.is(r.summary, '1 message(s) delivered more than once; 1 refused message(s) delivered; 1 message(s) never sent were found');
});

test('integrity: unknown when the mailboxes were not read back, or nothing was acknowledged', (t) => {
  t.is(check(mailIntegrity, h([...send(0, 'smtp-1', 1, 'ok'), [100, 'reader-imap', 'invoke', 'read', { account: 'user1' }], [101, 'reader-imap', 'info', 'read']])).valid, 'unknown');
  t.is(check(mailIntegrity, h([...send(0, 'smtp-1', 1, 'info'), ...read(100, 'user1', [])])).valid, 'unknown');
});

test('failover time: the outage ends at the first success after the last failure, held to the SLO', (t) => {
  const history = h([
    ...send(900, 'smtp-1', 1, 'ok'),
    [1100, 'probe-smtp', 'invoke', 'probe'],
    [1200, 'probe-smtp', 'fail', 'probe'],
    ...send(1300, 'smtp-1', 2, 'info'),
    [60_000, 'probe-smtp', 'invoke', 'probe'],
    [60_100, 'probe-smtp', 'fail', 'probe'],
    [61_000, 'probe-smtp', 'invoke', 'probe'],
    [61_050, 'probe-smtp', 'ok', 'probe'],
  ]);
  const r = failoverTime.check({ scenario, history, observations: obs({ phases: { 'fence-confirmed': 31_000 } }) });
  t.is(r.valid, true);
  t.like(r.details, { outageSeconds: 60.05, phases: { 'fence-confirmed': 30 } });
  const tight = failoverTime.check({ scenario: { ...scenario, slo: { maxOutageSeconds: 30 } }, history, observations: obs() });
  t.is(tight.valid, false);
  t.is(tight.summary, 'outage 60.0 s (SLO 30 s): over the SLO');
});

test('failover time: the outage starts when clients lost the service, not before the fault (a release that breaks something)', (t) => {
  // Fault at 1 s; clients fine until the release at 61 s; the probe sent at 61.1 s fails; back at 93 s.
  const history = h([
    [59_000, 'probe-imap', 'invoke', 'probe'],
    [59_100, 'probe-imap', 'ok', 'probe'],
    [61_000, 'probe-imap', 'invoke', 'probe'],
    [61_060, 'probe-imap', 'ok', 'probe'],
    [61_100, 'probe-imap', 'invoke', 'probe'],
    [65_100, 'probe-imap', 'info', 'probe'],
    [92_900, 'probe-imap', 'invoke', 'probe'],
    [93_050, 'probe-imap', 'ok', 'probe'],
  ]);
  const r = failoverTime.check({ scenario: { ...scenario, expect: 'recovery', slo: { maxOutageSeconds: 90 } }, history, observations: obs({ fault: { name: 'clock-jump-active', node: 'node1', injectedAt: 1000, releasedAt: 61_000 } }) });
  t.is(r.valid, true);
  t.is(r.summary, 'outage 32.0 s (SLO 90 s), from 60.1 s after the fault');
  t.like(r.details, { outageSeconds: 31.99, outageStartedAt: 61_060 });
});

test('failover time: never back fails; no-outage scenarios allow a stall only within their SLO (0: none); no data is unknown', (t) => {
  const down = h([[1100, 'probe-imap', 'invoke', 'probe'], [1200, 'probe-imap', 'fail', 'probe']]);
  t.is(failoverTime.check({ scenario, history: down, observations: obs() }).summary, 'the service did not come back within the run');
  const blip = h([[1100, 'probe-imap', 'invoke', 'probe'], [1200, 'probe-imap', 'fail', 'probe'], [1300, 'probe-imap', 'invoke', 'probe'], [1400, 'probe-imap', 'ok', 'probe']]);
  const strict = { ...scenario, expect: 'no-outage' as const, slo: { maxOutageSeconds: 0 } };
  const r = failoverTime.check({ scenario: strict, history: blip, observations: obs() });
  t.is(r.valid, false);
  t.is(r.summary, '1 client operation(s) failed after the fault, where no outage is allowed (service back after 0.4 s)');
  const stall = failoverTime.check({ scenario: { ...strict, slo: { maxOutageSeconds: 5 } }, history: blip, observations: obs() });
  t.is(stall.valid, true);
  t.is(stall.summary, '1 client operation(s) stalled after the fault; service back after 0.4 s, within the 5 s allowed');
  t.is(failoverTime.check({ scenario: { ...strict, slo: { maxOutageSeconds: 5 } }, history: down, observations: obs() }).valid, false, 'never back is no stall');
  t.is(failoverTime.check({ scenario, history: h([]), observations: obs() }).valid, 'unknown');
});

test('failover time: a run cut short before the SLO ran out is unknown, after it a failure', (t) => {
  const down = h([[1100, 'probe-imap', 'invoke', 'probe'], [1200, 'probe-imap', 'fail', 'probe']]);
  const short = failoverTime.check({ scenario, history: down, observations: obs({ fault: { name: 'power-cut-active', node: 'node1', injectedAt: 1000, healedAt: 31_000 } }) });
  t.is(short.valid, 'unknown');
  t.is(short.summary, 'the service was not back when the run stopped watching, 30.0 s after the fault, before the SLO (120 s) ran out');
  const long = failoverTime.check({ scenario, history: down, observations: obs({ fault: { name: 'power-cut-active', node: 'node1', injectedAt: 1000, healedAt: 301_000 } }) });
  t.is(long.valid, false);
});

test('fencing: fence confirmed and power off before the takeover passes', (t) => {
  const o = obs({
    fenceEvents: [{ target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 }],
    powerLog: [{ node: 'node1', time: 1000, request: 'power', value: '0', result: 'done' }],
    takeovers: [{ node: 'node2', at: 31_000 }],
  });
  const r = fencing.check({ scenario, history: [], observations: o });
  t.is(r.valid, true);
  t.is(r.summary, 'node1 fenced 1.00 s before node2 promoted');
  const shared = fencing.check({ scenario, history: [], observations: { ...o, store: 'shared' } });
  t.is(shared.summary, 'node1 fenced 1.00 s before node2 mounted the store', 'on shared storage the takeover is the mount');
  const early = fencing.check({ scenario, history: [], observations: { ...o, store: 'shared', takeovers: [{ node: 'node2', at: 20_000 }] } });
  t.is(early.summary, 'node2 mounted the store 10.00 s before the fence of node1 was confirmed');
});

test('fencing: with a dead BMC, failed attempts then a confirmed fence before the takeover passes and says so', (t) => {
  const o = obs({
    fault: { name: 'power-cut-bmc-dead-active', node: 'node1', injectedAt: 1000, releasedAt: 61_000 },
    fenceEvents: [
      { target: 'node1', action: 'reboot', status: 'failed', completedAt: 25_000 },
      { target: 'node1', action: 'reboot', status: 'failed', completedAt: 50_000 },
      { target: 'node1', action: 'reboot', status: 'success', completedAt: 70_000 },
    ],
    powerLog: [
      { node: 'node1', time: 1000, request: 'power', value: '0', result: 'done' },
      { node: 'node1', time: 68_000, request: 'power', value: '0', result: 'done' },
    ],
    takeovers: [{ node: 'node2', at: 72_000 }],
  });
  const r = fencing.check({ scenario, history: [], observations: o });
  t.is(r.valid, true);
  t.is(r.summary, 'node1 fenced 2.00 s before node2 promoted (after 2 failed fencing attempt(s))');
  const eager = { ...o, takeovers: [{ node: 'node2', at: 55_000 }] };
  t.is(fencing.check({ scenario, history: [], observations: eager }).summary, 'node2 promoted 15.00 s before the fence of node1 was confirmed', 'a takeover while the BMC is dead fails');
});

test('no-takeover (the peer\'s copy outdated): a fence of the failed node is fine, any promotion of the peer fails; no SLO on the outage', (t) => {
  const guarded = { ...scenario, expect: 'no-takeover' as const };
  const fenced = obs({ fenceEvents: [{ target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 }] });
  const ok = fencing.check({ scenario: guarded, history: [], observations: fenced });
  t.is(ok.valid, true);
  t.is(ok.summary, 'no takeover, as required; node1 fenced');
  const promoted = fencing.check({ scenario: guarded, history: [], observations: { ...fenced, takeovers: [{ node: 'node2', at: 35_000 }] } });
  t.is(promoted.valid, false);
  t.is(promoted.summary, 'node2 promoted although it must not take over (its copy was outdated)');
  const healed = { ...fenced, fault: { ...fenced.fault, healedAt: 120_000 } };
  t.is(fencing.check({ scenario: guarded, history: [], observations: { ...healed, takeovers: [{ node: 'node2', at: 150_000 }] } }).valid, true, 'after the heal (the failed node back, its peer resynced) a promotion is fine');
  t.is(fencing.check({ scenario: guarded, history: [], observations: { ...healed, takeovers: [{ node: 'node2', at: 119_000 }] } }).valid, false);
  const down = h([[1100, 'probe-imap', 'invoke', 'probe'], [1200, 'probe-imap', 'fail', 'probe'], [91_000, 'probe-imap', 'invoke', 'probe'], [91_100, 'probe-imap', 'fail', 'probe']]);
  const outage = failoverTime.check({ scenario: guarded, history: down, observations: obs() });
  t.is(outage.valid, true);
  t.is(outage.summary, 'no SLO (the service waits for the failed node): 2 client operation(s) failed in the 90.1 s watched after the fault');
});

test('fencing: a takeover before the fence, or with no fence, fails', (t) => {
  const early = obs({
    fenceEvents: [{ target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 }],
    powerLog: [{ node: 'node1', time: 29_000, request: 'power', value: '0', result: 'done' }],
    takeovers: [{ node: 'node2', at: 20_000 }],
  });
  t.is(fencing.check({ scenario, history: [], observations: early }).valid, false);
  const none = obs({ fenceEvents: [{ target: 'node1', action: 'reboot', status: 'failed', completedAt: 30_000 }], takeovers: [{ node: 'node2', at: 40_000 }] });
  t.is(fencing.check({ scenario, history: [], observations: none }).summary, 'node2 took over without a confirmed fence of node1');
  const noTakeover = fencing.check({ scenario, history: [], observations: obs() });
  t.is(noTakeover.valid, 'unknown');
  const forbidden = fencing.check({ scenario: { ...scenario, expect: 'no-outage' }, history: [], observations: obs({ takeovers: [{ node: 'node2', at: 5000 }] }) });
  t.is(forbidden.valid, false);
});

test('fencing: a fence race (the failed node shoots its peer, with or without a takeover) fails', (t) => {
  const race = obs({
    fenceEvents: [
      { target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 },
      { target: 'node2', action: 'reboot', status: 'success', completedAt: 29_000 },
    ],
    powerLog: [{ node: 'node1', time: 29_500, request: 'power', value: '0', result: 'done' }],
    takeovers: [{ node: 'node2', at: 31_000 }],
  });
  const r = fencing.check({ scenario, history: [], observations: race });
  t.is(r.valid, false);
  t.is(r.summary, 'node2 was fenced too (fence race): only node1 had failed');
  const wrongVictim = obs({ fenceEvents: [{ target: 'node2', action: 'reboot', status: 'success', completedAt: 9000 }] });
  t.is(fencing.check({ scenario, history: [], observations: wrongVictim }).valid, false);
  const failedAttempt = obs({
    fenceEvents: [
      { target: 'node2', action: 'reboot', status: 'failed', completedAt: 9000 },
      { target: 'node1', action: 'reboot', status: 'success', completedAt: 30_000 },
    ],
    powerLog: [{ node: 'node1', time: 29_500, request: 'power', value: '0', result: 'done' }],
    takeovers: [{ node: 'node2', at: 31_000 }],
  });
  t.is(fencing.check({ scenario, history: [], observations: failedAttempt }).valid, true, 'a refused attempt at the peer is not a race');
  const silentShot = obs({ ...failedAttempt, powerLog: [...failedAttempt.powerLog, { node: 'node2', time: 12_000, request: 'power', value: '0', result: 'done' }] });
  t.is(fencing.check({ scenario, history: [], observations: silentShot }).summary, 'node2 was fenced too (fence race): only node1 had failed', "the peer's BMC power-off alone is proof");
});

const primary = (time: number, node: string, holdsVip = true) => ({ time, node, reachable: true, drbdRole: 'Primary', holdsVip });
const secondary = (time: number, node: string) => ({ time, node, reachable: true, drbdRole: 'Secondary', holdsVip: false });
const lost = (time: number, node: string) => ({ time, node, reachable: false });
const powerOff = (time: number, node: string) => ({ node, time, request: 'power', value: '0', result: 'done' });

test('single primary: a clean failover (the old primary powered off first) passes', (t) => {
  const o = obs({
    samples: [primary(0, 'node1'), secondary(100, 'node2'), lost(20_000, 'node1'), primary(30_000, 'node2'), secondary(200_000, 'node1')],
    powerLog: [powerOff(19_000, 'node1'), { node: 'node1', time: 21_000, request: 'power', value: '1', result: 'done' }],
  });
  const r = singlePrimary.check({ scenario, history: [], observations: o });
  t.is(r.valid, true, r.summary);
  t.is(r.summary, 'never two primaries or two IP holders: 4 state reports from 2 nodes, BMC power-offs included');
});

test('single primary: two reported Primaries fail, however brief, with the overlap measured', (t) => {
  const split = obs({ samples: [primary(0, 'node1'), secondary(100, 'node2'), primary(5000, 'node2', false), secondary(5040, 'node1')] });
  const r = singlePrimary.check({ scenario, history: [], observations: split });
  t.is(r.valid, false);
  t.is(r.summary, 'two nodes held DRBD Primary from 1970-01-01T00:00:05.000Z for 0.040 s');
  const vip = obs({ samples: [primary(0, 'node1'), { time: 10, node: 'node2', reachable: true, drbdRole: 'Secondary', holdsVip: true }] });
  t.regex(singlePrimary.check({ scenario, history: [], observations: vip }).summary, /^two nodes held the virtual IP from .* to the end of the run$/);
});

test('single primary: a lost node is not assumed to have let go; unknown unless its BMC powered it off', (t) => {
  const unfenced = obs({ samples: [primary(0, 'node1'), secondary(100, 'node2'), lost(10_000, 'node1'), primary(30_000, 'node2')] });
  const r = singlePrimary.check({ scenario, history: [], observations: unfenced });
  t.is(r.valid, 'unknown');
  t.regex(r.summary, /as last reported by a node the watcher had lost$/);
  const reset = obs({ ...unfenced, powerLog: [{ node: 'node1', time: 25_000, request: 'reset', value: '1', result: 'done' }] });
  t.is(singlePrimary.check({ scenario, history: [], observations: reset }).valid, true);
  const ignored = obs({ ...unfenced, powerLog: [{ node: 'node1', time: 25_000, request: 'power', value: '0', result: 'ignored' }] });
  t.is(singlePrimary.check({ scenario, history: [], observations: ignored }).valid, 'unknown', 'a BMC that only acknowledged did not power anything off');
  t.is(singlePrimary.check({ scenario, history: [], observations: obs() }).valid, 'unknown');
});

test('convergence', (t) => {
  t.is(convergence.check({ scenario, history: [], observations: obs({ convergence: { ok: true, unmet: [], checkedAt: 1 } }) }).valid, true);
  t.is(convergence.check({ scenario, history: [], observations: obs({ convergence: { ok: false, unmet: ['node(s) not online: node1'], checkedAt: 1 } }) }).summary, 'not converged: node(s) not online: node1');
  t.is(convergence.check({ scenario, history: [], observations: obs() }).valid, 'unknown');
});

test('fencing: in a recovery scenario, a move after a clean stop needs no fence; a failed fence still fails', (t) => {
  const recovery = { ...scenario, expect: 'recovery' as const };
  t.is(fencing.check({ scenario: recovery, history: [], observations: obs({ takeovers: [{ node: 'node2', at: 5000 }] }) }).valid, true);
  t.is(fencing.check({ scenario: recovery, history: [], observations: obs() }).summary, 'recovered in place: no takeover to order against fencing');
  const failedFence = obs({ takeovers: [{ node: 'node2', at: 5000 }], fenceEvents: [{ target: 'node1', action: 'reboot', status: 'failed', completedAt: 4000 }] });
  t.is(fencing.check({ scenario: recovery, history: [], observations: failedFence }).valid, false);
});

test('failover time: each protocol has its own outage; a relative SLO is named in the verdict; an overloaded host is said next to a failed one', (t) => {
  const history = h([
    ...send(900, 'smtp-1', 1, 'ok'),
    [950, 'probe-imap', 'invoke', 'probe'],
    [960, 'probe-imap', 'ok', 'probe'],
    [1100, 'probe-smtp', 'invoke', 'probe'],
    [1200, 'probe-smtp', 'fail', 'probe'],
    [1300, 'probe-imap', 'invoke', 'probe'],
    [1400, 'probe-imap', 'fail', 'probe'],
    [40_000, 'probe-imap', 'invoke', 'probe'],
    [40_100, 'probe-imap', 'ok', 'probe'],
    [50_000, 'probe-smtp', 'invoke', 'probe'],
    [50_100, 'probe-smtp', 'fail', 'probe'],
    [51_000, 'probe-smtp', 'invoke', 'probe'],
    [51_100, 'probe-smtp', 'ok', 'probe'],
  ]);
  const slo = { maxOutageSeconds: 45, kind: 'relative' as const, basis: '45 s = 1.5 x the calibrated baseline 30 s (power-cut-active, 5 runs, spread 28-33 s, 2026-12-01)' };
  const r = failoverTime.check({ scenario, history, observations: obs({ slo }) });
  t.is(r.valid, false);
  t.is(r.summary, `outage 50.1 s (SLO ${slo.basis}): over the SLO`);
  t.like(r.details, { protocols: { smtp: 50.1, imap: 39.1 }, slo });
  t.false('sends' in (r.details as { protocols: object }).protocols, 'no send after the fault: no sends outage to report');
  const loaded = failoverTime.check({ scenario, history, observations: obs({ slo, overload: { reasons: ['host load reached 3.40 on 2 cores'] } }) });
  t.is(loaded.summary, `outage 50.1 s (SLO ${slo.basis}): over the SLO (the host was overloaded: host load reached 3.40 on 2 cores)`);
  const passing = failoverTime.check({ scenario, history, observations: obs({ overload: { reasons: ['host load reached 3.40 on 2 cores'] } }) });
  t.is(passing.summary, 'outage 50.1 s (SLO 120 s)', 'a pass is not annotated');
});

test('single primary on shared storage: the store mounted on two nodes fails, named as a mount; a clean hand-over (unmounted, then mounted on the peer) passes', (t) => {
  const mounted = (time: number, node: string, m: boolean, holdsVip = m) => ({ time, node, reachable: true, source: 'mount' as const, storeMounted: m, holdsVip });
  const double = obs({ store: 'shared', samples: [mounted(0, 'node1', true), mounted(100, 'node2', false), mounted(8000, 'node2', true, false)] });
  const r = singlePrimary.check({ scenario, history: [], observations: double });
  t.is(r.valid, false);
  t.is(r.summary, 'two nodes held the mail store mounted from 1970-01-01T00:00:08.000Z to the end of the run');
  const clean = obs({ store: 'shared', samples: [mounted(0, 'node1', true), mounted(100, 'node2', false), mounted(7000, 'node1', false), mounted(8000, 'node2', true)] });
  t.is(singlePrimary.check({ scenario, history: [], observations: clean }).valid, true);
  const fenced = obs({ store: 'shared', samples: [mounted(0, 'node1', true), mounted(100, 'node2', false), lost(2000, 'node1'), mounted(9000, 'node2', true)], powerLog: [{ node: 'node1', time: 8000, request: 'power', value: '0', result: 'done' }] });
  t.is(singlePrimary.check({ scenario, history: [], observations: fenced }).valid, true, 'a mount ends with the power of the node that held it');
});
