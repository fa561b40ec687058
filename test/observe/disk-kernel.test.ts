import test from 'ava';
import { diskKernelLines, parseJournal } from '../../harness/observe/journal.ts';
import { diskWords } from '../../harness/run/run-scenario.ts';

// node2's journal in the lab's disk-bad-sectors-active run (2026-12-06, seed 2026), with a line
// from before the fault and lines that are not about the disk.
const JOURNAL = [
  '1796541700.000000 node2 kernel: block drbd0: role( Secondary -> Primary ) ',
  '1796541749.700000 node2 postfix/smtpd[2214]: connect from unknown[10.213.10.1]',
  '1796541749.808371 node2 kernel: block drbd0: local READ IO error sector 1048576+8 on dm-0',
  '1796541749.830219 node2 kernel: block drbd0: disk( UpToDate -> Failed ) ',
  '1796541749.833429 node2 kernel: block drbd0: Local IO failed in __req_mod. Detaching...',
  '1796541749.834920 node2 kernel: block drbd0: 4 KB (1 bits) marked out-of-sync by on disk bit-map.',
  '1796541749.837318 node2 kernel: block drbd0: disk( Failed -> Diskless ) ',
  '1796541749.855556 node2 kernel: block drbd0: receiver updated UUIDs to effective data uuid: 930A41CD2FFB2916',
].join('\n');

test("the kernel's lines about the store's disk, from the fault on: the I/O error and DRBD's detach, nothing else", (t) => {
  const lines = diskKernelLines(parseJournal(JOURNAL), 1796541749_000);
  t.deepEqual(
    lines.map((l) => l.text),
    ['block drbd0: local READ IO error sector 1048576+8 on dm-0', 'block drbd0: disk( UpToDate -> Failed ) ', 'block drbd0: Local IO failed in __req_mod. Detaching...', 'block drbd0: disk( Failed -> Diskless ) '],
  );
  t.is(lines[0]!.time, 1796541749808.371);
  t.is(diskKernelLines(parseJournal(JOURNAL), 1796541749_000, 2).length, 2, 'bounded');
});

test('a verdict that is not a pass quotes them, timed from the fault, and says where the rest are', (t) => {
  const at = 1796541749808;
  const words = diskWords({ fault: { name: 'disk-bad-sectors-active', node: 'node2', injectedAt: at - 2000 }, diskKernel: Array.from({ length: 8 }, (_, i) => ({ node: 'node2', at: at + i * 100, text: `line ${i}` })) });
  t.is(words, "the kernel about the store's disk: node2 +2.0 s: line 0 | node2 +2.1 s: line 1 | node2 +2.2 s: line 2 | (2 more lines in nodes/*/journal.txt) | node2 +2.5 s: line 5 | node2 +2.6 s: line 6 | node2 +2.7 s: line 7");
  const few = diskWords({ fault: { name: 'disk-bad-sectors-active', node: 'node2', injectedAt: at }, diskKernel: [{ node: 'node2', at, text: 'only' }] });
  t.is(few, "the kernel about the store's disk: node2 +0.0 s: only");
});

// Beside a CPU hog (2026-12-06, seed 11), after disk-bad-sectors-active healed: node1 missed a
// PingAck while node2 resynced, and on reconnect node2 refused to become SyncTarget as Primary.
// The verdict must quote the link's lines too, not only the disk's.
const HOG_NODE1 = [
  '1796549620.826687 node1 kernel: block drbd0: conn( Connected -> WFBitMapS ) pdsk( Diskless -> Consistent ) ',
  '1796549634.180916 node1 kernel: drbd mail: PingAck did not arrive in time.',
  '1796549634.209718 node1 kernel: drbd mail: peer( Primary -> Unknown ) conn( SyncSource -> NetworkFailure ) ',
  '1796549634.251709 node1 kernel: drbd mail: conn( NetworkFailure -> Unconnected ) ',
  '1796549634.276949 node1 kernel: drbd mail: conn( Unconnected -> WFConnection ) ',
].join('\n');
const HOG_NODE2 = [
  '1796549640.610454 node2 kernel: block drbd0: uuid_compare()=-1 by rule 35',
  '1796549640.611668 node2 kernel: block drbd0: I shall become SyncTarget, but I am primary!',
  '1796549640.764609 node2 kernel: drbd mail: conn( WFReportParams -> Disconnecting ) ',
  '1796549640.764859 node2 kernel: drbd mail: error receiving ReportState, e: -5 l: 0!',
  '1796549640.765277 node2 kernel: drbd mail: conn( Disconnecting -> StandAlone ) ',
].join('\n');

test("device-mapper's start-up lines at a node's boot are not about the disk (seen in a fenced node's journal, 2026-12-06)", (t) => {
  const boot = [
    '1796561000.100000 node1 kernel: device-mapper: core: CONFIG_IMA_DISABLE_HTABLE is disabled. Duplicate IMA measurements will not be recorded in the IMA log.',
    '1796561000.200000 node1 kernel: device-mapper: uevent: version 1.0.3',
    '1796561000.300000 node1 kernel: device-mapper: ioctl: 4.47.0-ioctl (2022-07-28) initialised: dm-devel@redhat.com',
    '1796561001.000000 node1 kernel: device-mapper: flakey: error_reads not supported',
  ].join('\n');
  t.deepEqual(diskKernelLines(parseJournal(boot), 1796560000_000).map((l) => l.text), ['device-mapper: flakey: error_reads not supported']);
});

test("the replication link's lines that keep the copies apart: the missed PingAck, the refused resync, StandAlone", (t) => {
  t.deepEqual(
    diskKernelLines(parseJournal(HOG_NODE1), 1796549600_000).map((l) => l.text),
    ['drbd mail: PingAck did not arrive in time.', 'drbd mail: peer( Primary -> Unknown ) conn( SyncSource -> NetworkFailure ) '],
    'the ordinary steps of a reconnect are left out',
  );
  t.deepEqual(diskKernelLines(parseJournal(HOG_NODE2), 1796549600_000).map((l) => l.text), ['block drbd0: I shall become SyncTarget, but I am primary!', 'drbd mail: conn( Disconnecting -> StandAlone ) ']);
});
