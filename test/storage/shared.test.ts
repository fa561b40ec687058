import test from 'ava';
import { loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderCib } from '../../harness/provision/cluster-files.ts';
import type { ClusterStatus } from '../../harness/cluster/status.ts';
import { storeOf } from '../../harness/storage/storage.ts';
import { parseMounted, renderSharedStoreInit, sharedStore } from '../../harness/storage/shared.ts';
import { drbdStore } from '../../harness/storage/drbd.ts';
import { readFileSync } from 'node:fs';
import { failoverEvents } from '../../harness/observe/journal.ts';

const shared = planLab(loadLabConfig('vagrant/lab-shared.json'));
const drbd = planLab(loadLabConfig());

test('shared store: one raw volume the host makes, attached to both nodes shareable and uncached; DRBD keeps a qcow2 disk per node', (t) => {
  const store = storeOf(shared);
  t.is(store.kind, 'shared');
  t.deepEqual(store.hostVolumes(shared), [{ name: 'hachaos-shared-shared-store.raw', sizeGiB: 1, format: 'raw' }]);
  t.deepEqual(store.disks(shared), [{ sizeGiB: 1, type: 'raw', volume: 'hachaos-shared-shared-store.raw', shareable: true, cache: 'none' }]);
  t.deepEqual(storeOf(drbd).disks(drbd), [{ sizeGiB: 1, type: 'qcow2' }]);
  t.deepEqual(storeOf(drbd).hostVolumes(drbd), []);
});

test('shared store: the CIB has no DRBD; the file system is the group\'s first member, its monitor does I/O (OCF_CHECK_LEVEL=20)', (t) => {
  const cib = renderCib(shared);
  t.false(/drbd/i.test(cib));
  // The lab's path to the disk is behind its dm device on each node (the path faults swap its table).
  t.regex(cib, /^primitive fs_mail ocf:heartbeat:Filesystem params device=\/dev\/mapper\/hachaos-store directory=\/srv\/mail fstype=ext4 options=noatime op start timeout=90s op stop timeout=90s op monitor interval=60s timeout=90s OCF_CHECK_LEVEL=20$/m);
  // Without one (the container lane: a dm device there would be the host's), the disk itself.
  const { storeDm: _none, ...lane } = shared;
  t.regex(renderCib({ ...lane, addressesGiven: true }), /^primitive fs_mail ocf:heartbeat:Filesystem params device=\/dev\/vdb directory=/m);
  t.regex(cib, /^group g_mail fs_mail vip$/m);
  t.regex(renderCib(drbd), /^colocation c_mail_on_drbd_primary inf: g_mail ms_drbd_mail:Promoted$/m);
});

test('shared store: the bootstrap makes the file system on node1 only, refusing a disk that is missing or mounted', (t) => {
  const script = renderSharedStoreInit(['install -d /srv/mail/vmail']);
  t.regex(script, /test -b \/dev\/vdb \|\| \{ echo "no shared disk \/dev\/vdb on this node" >&2; exit 1; \}/);
  t.regex(script, /if findmnt -n \/dev\/vdb >\/dev\/null; then echo "\/dev\/vdb is mounted already" >&2; exit 1; fi/);
  t.regex(script, /mkfs\.ext4 -q -F -E assume_storage_prezeroed=1,nodiscard -L mailstore \/dev\/vdb\nmount \/dev\/vdb \/srv\/mail\ninstall -d \/srv\/mail\/vmail\numount \/srv\/mail\n$/);
});

test('shared store: the lab provisions each node\'s dm device over the shared disk (a boot unit); without a dm name, nothing', (t) => {
  const file = (path: string, content: string) => `FILE ${path}\n${content}`;
  const lines = sharedStore.provision(shared, file).join('\n');
  t.regex(lines, /FILE \/usr\/local\/sbin\/hachaos-store-dm\n#!\/bin\/sh\n.*\nset -eu\nraw=\/dev\/vdb\nname=hachaos-store\n/);
  t.regex(lines, /systemctl enable -q hachaos-store-dm\.service/);
  const { storeDm: _none, ...lane } = shared;
  t.deepEqual(sharedStore.provision(lane, file), []);
  t.regex(renderSharedStoreInit([], '/dev/mapper/hachaos-store'), /mkfs\.ext4 -q -F -E assume_storage_prezeroed=1,nodiscard -L mailstore \/dev\/mapper\/hachaos-store\nmount \/dev\/mapper\/hachaos-store \/srv\/mail\n/);
});

test('shared store readiness: mounted on exactly one node', (t) => {
  const store = storeOf(shared);
  const status = (storeMounted?: Record<string, boolean>) => ({ drbd: {}, storeMounted }) as unknown as ClusterStatus;
  t.deepEqual(store.unmet(status({ node1: true, node2: false }), ['node1', 'node2']), []);
  t.deepEqual(store.unmet(status({ node1: true, node2: true }), ['node1', 'node2']), ['the shared store mounted on node1, node2 (want exactly 1)']);
  t.deepEqual(store.unmet(status({ node1: false, node2: false }), ['node1', 'node2']), ['the shared store mounted on no node (want exactly 1)']);
  t.deepEqual(store.unmet(status({ node1: false }), ['node1', 'node2']), ['store mount unknown on node2', 'the shared store mounted on no node (want exactly 1)']);
  t.true(parseMounted('/dev/vdb\n'));
  t.false(parseMounted('\n'));
});

test('shared store takeover: the file system started on the peer; no drbd-promoted phase is made up', (t) => {
  const lines = [
    { time: 1000, text: 'pacemaker-controld[1]: notice: Node node1 state is now lost' },
    { time: 9000, text: 'pacemaker-controld[1]: notice: Peer node1 was terminated (reboot) by node2 on behalf of pacemaker-controld.1: OK' },
    { time: 12_000, text: 'pacemaker-controld[1]: notice: Result of start operation for fs_mail on node2: ok' },
  ];
  const events = failoverEvents(lines, 'node1', 0, 1, storeOf(shared));
  t.deepEqual(events.takeovers, [12_000]);
  t.is(events.phases['fs-mounted'], 12_000);
  t.is(events.phases['drbd-promoted'], undefined);
  t.is(failoverEvents(lines, 'node1', 0, 1).phases['drbd-promoted'], undefined, 'DRBD takeover is a promote, not a mount');
});

test('the status probe: each store reads its own lines (captured from a real DRBD lab; a shared store reads findmnt only), and says an unreachable node in its words', (t) => {
  const drbdStatus = { vipHolders: [], power: {}, smtp: { ok: true, detail: '' }, imap: { ok: true, detail: '' }, lab: 'l', accel: 'tcg', virtualIp: '10.0.0.1' } as ClusterStatus;
  for (const n of ['node1', 'node2']) drbdStore.readStatus(drbdStatus, n, readFileSync(`fixtures/lab/store-status-drbd-${n}.txt`, 'utf8'));
  t.like(drbdStatus.drbd?.node1, { cs: 'Connected', role: 'Secondary', disk: 'UpToDate', peerDisk: 'UpToDate' });
  t.like(drbdStatus.drbd?.node2, { cs: 'Connected', role: 'Primary' });
  t.deepEqual(drbdStatus.storeMounted, { node1: false, node2: true });
  t.deepEqual(drbdStatus.drbdFenceConstraints, [], 'no fence-peer constraint in a healthy CIB');
  t.deepEqual(drbdStore.unmet({ ...drbdStatus, pacemaker: undefined }, ['node1', 'node2']), []);
  t.is(drbdStore.describeNode(drbdStatus, 'node2'), 'DRBD Primary Connected UpToDate/UpToDate');
  t.true(drbdStore.statusScript().includes('/proc/drbd'));

  const sharedStatus = { vipHolders: [], power: {}, smtp: { ok: true, detail: '' }, imap: { ok: true, detail: '' }, lab: 'l', accel: 'tcg', virtualIp: '10.0.0.1', unreachable: { node2: 'unreachable over ssh: timed out' } } as ClusterStatus;
  sharedStore.readStatus(sharedStatus, 'node1', '/dev/vdb\n');
  t.false(sharedStore.statusScript().includes('drbd'), 'a shared store never reads DRBD');
  t.is(sharedStatus.drbd, undefined);
  t.is(sharedStore.describeNode(sharedStatus, 'node1'), 'shared store mounted');
  t.is(sharedStore.describeNode(sharedStatus, 'node2'), 'shared store unreachable over ssh: timed out');
  t.deepEqual(sharedStore.unmet(sharedStatus, ['node1', 'node2']), ['store mount unknown on node2 (unreachable over ssh: timed out)']);
  t.deepEqual(drbdStore.unmet({ ...sharedStatus, pacemaker: undefined }, ['node1']), ['DRBD on node1: unknown']);
  t.deepEqual(drbdStore.unmet({ ...sharedStatus, pacemaker: undefined }, ['node2']), ['DRBD on node2: unreachable over ssh: timed out']);
});
