import test from 'ava';
import { rootLogger } from '../../harness/core/log.ts';
import { parseVerifyLog, verifyDrbd } from '../../harness/storage/drbd-verify.ts';
import { verifyProblem } from '../../harness/storage/store-backend.ts';
import { convergence } from '../../harness/check/convergence.ts';
import type { Observations } from '../../harness/check/observations.ts';

// The kernel's lines as `journalctl -k -o cat` prints them on the lab's nodes (DRBD 8.4 in Debian 12's kernel).
const FOUND = `block drbd0: Online verify done (total 14 sec; paused 0 sec; 74896 K/sec)
block drbd0: Online verify found 3 4k block out of sync!
block drbd0: Out of sync: start=204800, size=8 (sectors)
block drbd0: Out of sync: start=204816, size=16 (sectors)
`;
// Captured from the lab tier's sabotage (2026-12-06: 4 KiB written into node2's backing disk at 512 MiB, behind DRBD).
const CAPTURED = `block drbd0: Out of sync: start=1048576, size=8 (sectors)
block drbd0: Online verify found 1 4k block out of sync!
`;
const CLEAN = 'block drbd0: Online verify done (total 12 sec; paused 0 sec; 87381 K/sec)\n';
const PROC = (cs: string, extra = '', oos = 0) =>
  `version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420\n 0: cs:${cs} ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:${oos}\n${extra}`;

test('the kernel\'s verify lines: done, the blocks found (in 4 KiB), each range in sectors', (t) => {
  t.deepEqual(parseVerifyLog(FOUND), { done: true, blocksOutOfSync: 3, ranges: ['start=204800, size=8', 'start=204816, size=16'] });
  t.deepEqual(parseVerifyLog(CLEAN), { done: true, blocksOutOfSync: 0, ranges: [] });
  t.deepEqual(parseVerifyLog(CAPTURED), { done: false, blocksOutOfSync: 1, ranges: ['start=1048576, size=8'] });
  t.deepEqual(parseVerifyLog(''), { done: false, blocksOutOfSync: 0, ranges: [] });
  const many = Array.from({ length: 50 }, (_, i) => `block drbd0: Out of sync: start=${i * 8}, size=8 (sectors)`).join('\n');
  t.is(parseVerifyLog(many).ranges.length, 20, 'at most 20 ranges named');
});

/** A node that answers the verify's commands from a script of /proc/drbd states. */
function fakeNode(states: string[], verifyReply: string, kernel: string) {
  const sent: string[] = [];
  let i = 0;
  const root = async (_node: string, script: string) => {
    sent.push(script);
    if (script === 'cat /proc/drbd') return { stdout: states[Math.min(i++, states.length - 1)]! };
    if (script.includes('drbdadm verify')) return { stdout: `1796500000\n${verifyReply}` };
    if (script.startsWith('journalctl -k')) return { stdout: kernel };
    return { stdout: '' };
  };
  return { root, sent };
}

const log = rootLogger('test');

test('a verify that finds differences: waited for while VerifyS, the KiB and the sectors named; convergence fails on them', async (t) => {
  const node = fakeNode([PROC('Connected'), PROC('VerifyS', '\tverified: 40.0% (614400/1048576)K\n'), PROC('VerifyS'), PROC('Connected', '', 12)], '@@rc 0', FOUND);
  const v = await verifyDrbd({ root: node.root, node: 'node1', log, timeoutMs: 30_000 });
  t.like(v, { ran: true, node: 'node1', outOfSyncKiB: 12, blocksOutOfSync: 3, ranges: ['start=204800, size=8', 'start=204816, size=16'], rangesTotal: 2 });
  t.true(node.sent.some((s) => s.includes('journalctl -k -o cat --since @1796499999')), 'the kernel log read from the verify\'s start');
  t.is(verifyProblem(v), "the online verify found the store's two copies different: 12 KiB out of sync (3 4 KiB block(s)), sectors start=204800, size=8; start=204816, size=16 (kernel log of node1)");
  const observations = { convergence: { ok: false, unmet: [verifyProblem(v)!], checkedAt: 0, verify: v } } as unknown as Observations;
  const verdict = convergence.check({ scenario: undefined, history: [], observations });
  t.is(verdict.valid, false);
  t.regex(verdict.summary, /not converged: the online verify found the store's two copies different: 12 KiB/);
});

test('identical copies: convergence passes and says so', async (t) => {
  const node = fakeNode([PROC('Connected'), PROC('VerifyS'), PROC('Connected')], '@@rc 0', CLEAN);
  const v = await verifyDrbd({ root: node.root, node: 'node2', log, timeoutMs: 30_000 });
  t.like(v, { ran: true, outOfSyncKiB: 0, blocksOutOfSync: 0, ranges: [] });
  t.is(verifyProblem(v), undefined);
  const verdict = convergence.check({ scenario: undefined, history: [], observations: { convergence: { ok: true, unmet: [], checkedAt: 0, verify: v } } as unknown as Observations });
  t.is(verdict.valid, true);
  t.regex(verdict.summary, /the online verify found the two copies identical \([\d.]+ s on node2\)/);
});

test('a verify that cannot run says why: not connected; no verify-alg (with the fix); never started: convergence unknown, not a pass', async (t) => {
  const disconnected = await verifyDrbd({ root: fakeNode([PROC('WFConnection').replace('UpToDate/UpToDate', 'UpToDate/DUnknown')], '', '').root, node: 'node1', log, timeoutMs: 30_000 });
  t.like(disconnected, { ran: false, why: 'DRBD on node1 is WFConnection UpToDate/DUnknown: two copies are compared only when Connected UpToDate/UpToDate' });
  const noAlg = fakeNode([PROC('Connected')], "0: State change failed: (-14) Need a verify algorithm to start online verify\nCommand 'drbdsetup-84 verify 0' terminated with exit code 11\n@@rc 11", '');
  const v = await verifyDrbd({ root: noAlg.root, node: 'node1', log, timeoutMs: 30_000 });
  t.false(v.ran);
  t.regex(v.ran ? '' : v.why, /^drbdadm verify mail failed on node1: 0: State change failed: \(-14\) Need a verify algorithm.*\(the resource needs a verify-alg in its net section, e.g. verify-alg crc32c;\)$/);
  const verdict = convergence.check({ scenario: undefined, history: [], observations: { convergence: { ok: true, unmet: [], checkedAt: 0, verify: v } } as unknown as Observations });
  t.is(verdict.valid, 'unknown');
  t.regex(verdict.summary, /converged after the heal, but the store's two copies were not compared: drbdadm verify mail failed/);
});

test('a verify still running at the bound is stopped (the resource reconnected) and reported as not run', async (t) => {
  const node = fakeNode([PROC('Connected'), PROC('VerifyS')], '@@rc 0', '');
  const v = await verifyDrbd({ root: node.root, node: 'node1', log, timeoutMs: 3000 });
  t.false(v.ran);
  t.regex(v.ran ? '' : v.why, /online verify of DRBD resource mail to end.*VerifyS.*\(stopped by reconnecting the resource\)/);
  t.true(node.sent.includes('drbdadm disconnect mail; drbdadm connect mail'));
});

test('differences the fault is expected to make (dropped writes): found, repaired, verified again: convergence passes and names all three', (t) => {
  const found = { ran: true as const, node: 'node1', seconds: 41.2, outOfSyncKiB: 12, blocksOutOfSync: 3, ranges: ['start=204800, size=8'], rangesTotal: 1 };
  const after = { ran: true as const, node: 'node1', seconds: 39.8, outOfSyncKiB: 0, blocksOutOfSync: 0, ranges: [], rangesTotal: 0 };
  const repair = "resynced node2's copy from node1's (drbdadm invalidate on node2: Connected UpToDate/UpToDate)";
  const verdict = convergence.check({ scenario: undefined, history: [], observations: { convergence: { ok: true, unmet: [], checkedAt: 0, verify: after, expectedDifferences: { verify: found, repair } } } as unknown as Observations });
  t.is(verdict.valid, true);
  t.is(
    verdict.summary,
    "the cluster converged after the heal; as the fault makes them, the online verify found the store's two copies different: 12 KiB out of sync (3 4 KiB block(s)), sectors start=204800, size=8 (kernel log of node1); resynced node2's copy from node1's (drbdadm invalidate on node2: Connected UpToDate/UpToDate); then the online verify found the two copies identical (39.8 s on node1)",
  );
});
