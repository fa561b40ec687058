/**
 * The `shared` store: one raw disk attached to both nodes at once, the way an external array (SAN,
 * JBOD) is: the only copy of the mail store, Maildirs and queue included. There is no software
 * replication; ext4 is mounted on one node at a time, by Pacemaker, and fencing is what keeps a
 * node that lost the cluster from writing to it too.
 *
 * The single-primary invariant becomes "never mounted on two nodes": each node's watcher stream
 * reports the store's mounts and unmounts (findmnt --poll, stamped by the node), and a takeover is
 * a successful start of the file system on the peer.
 */
import { MAIL_STORE } from '../cluster/mail-store.ts';
import { operationsOf, type LabPlan } from '../cluster/lab-config.ts';
import type { ClusterStatus } from '../cluster/status.ts';
import { crmOps } from '../cluster/crm-ops.ts';
import { epochMs, type BootstrapContext, type StoreBackend } from './store-backend.ts';
import { renderStoreDmProvision } from './device-mapper.ts';
import type { ClusterPlan } from '../cluster/plan.ts';

/** The shared disk as each node sees it: the only disk after the root disk. */
export const SHARED_DEVICE = '/dev/vdb';

/**
 * What the store's file system is mounted from: on the lab, each node's path to the shared disk
 * behind device-mapper (a linear table over the disk, whose table the path faults swap); elsewhere
 * (the container lane: a dm device there would be the host's) the disk itself. Pure.
 */
export function sharedStoreDevice(plan: Pick<ClusterPlan, 'storeDm'>): string {
  return plan.storeDm ? `/dev/mapper/${plan.storeDm}` : SHARED_DEVICE;
}

/** A successful mount of the store by Pacemaker: the node took the store over. */
export const SHARED_TAKEOVER = /Result of start operation for fs_mail on \S+: ok/;

/** The shared disk's volume in libvirt's default pool (the lab's prefix: `lab down` removes it). */
export function sharedVolume(plan: LabPlan): string {
  return `${plan.prefix}shared-store.raw`;
}

/** The bootstrap, on node1 only: a file system on the (new, zeroed) shared disk, laid out, left unmounted. */
export function renderSharedStoreInit(layout: string[], device = SHARED_DEVICE): string {
  return [
    'set -euo pipefail',
    `test -b ${device} || { echo "no shared disk ${device} on this node" >&2; exit 1; }`,
    `if findmnt -n ${device} >/dev/null; then echo "${device} is mounted already" >&2; exit 1; fi`,
    `mkfs.ext4 -q -F -E assume_storage_prezeroed=1,nodiscard -L mailstore ${device}`,
    `mount ${device} ${MAIL_STORE}`,
    ...layout,
    `umount ${MAIL_STORE}`,
    '',
  ].join('\n');
}

/** Whether the store is mounted on a node, from `findmnt -n -o SOURCE --mountpoint` output. Pure. */
export function parseMounted(findmnt: string): boolean {
  return findmnt.trim().length > 0;
}

export const sharedStore: StoreBackend = {
  kind: 'shared',
  describe: (plan) => `one ${plan.config.nodes.storageGiB} GiB raw disk shared by both nodes (no replication; ext4 on one node at a time)`,
  disks: (plan) => [{ sizeGiB: plan.config.nodes.storageGiB, type: 'raw', volume: sharedVolume(plan), shareable: true, cache: 'none' }],
  hostVolumes: (plan) => [{ name: sharedVolume(plan), sizeGiB: plan.config.nodes.storageGiB, format: 'raw' }],
  // Each mount and unmount of the store, stamped by the node when findmnt sees it.
  watch: () => ({
    streams: [`(stdbuf -oL findmnt --poll -n -r -o ACTION --mountpoint ${MAIL_STORE} | while read -r a; do echo "@@mount $EPOCHREALTIME $a"; done) & m=$!`],
    snapshot: [`echo "@@mounted $(findmnt -n --mountpoint ${MAIL_STORE} >/dev/null && echo 1 || echo 0)"`],
    stop: ['pkill -P $m 2>/dev/null; kill $m 2>/dev/null'],
    parseLine(line) {
      // findmnt --poll -o ACTION, stamped by the node: mount, umount, remount, move.
      const mount = /^@@mount (\d+(?:\.\d+)?) (\w+)$/.exec(line);
      return mount ? { kind: 'mount', time: epochMs(mount[1]!), mounted: mount[2] !== 'umount' } : undefined;
    },
    parseSnapshot(lines) {
      const mounted = lines.map((l) => /^@@mounted ([01])$/.exec(l)).find((m) => m);
      return mounted ? { storeMounted: mounted[1] === '1' } : {};
    },
  }),
  // The lab's path to the disk behind device-mapper on each node (made at every boot, before the cluster).
  provision: (plan, file) => {
    if (!plan.storeDm) return [];
    return renderStoreDmProvision(SHARED_DEVICE, 'mounted directly', file);
  },
  async bootstrap({ plan, root, layout }: BootstrapContext) {
    const [first] = plan.nodes;
    await root(first!.name, renderSharedStoreInit(layout.split('\n'), sharedStoreDevice(plan)), 300_000);
  },
  beforeClusterStart: () => [`if findmnt -n --mountpoint ${MAIL_STORE} >/dev/null; then umount ${MAIL_STORE}; fi`],
  cib(plan) {
    const { timeouts: t, intervals: i } = operationsOf(plan.config);
    // The monitor writes and reads a file on the store (OCF_CHECK_LEVEL=20): a node that lost its
    // path to the array still lists the mount; only I/O tells.
    const fsOps = `${crmOps([['start', t.filesystem], ['stop', t.filesystem]])} op monitor interval=${i.filesystem} timeout=${t.filesystem} OCF_CHECK_LEVEL=20`;
    return {
      resources: [`primitive fs_mail ocf:heartbeat:Filesystem params device=${sharedStoreDevice(plan)} directory=${MAIL_STORE} fstype=ext4 options=noatime${fsOps}`],
      fileSystem: 'fs_mail',
      constraints: [],
    };
  },
  unmet(status: ClusterStatus, nodes) {
    const mounted = nodes.filter((n) => status.storeMounted?.[n]);
    const unknown = nodes.filter((n) => status.storeMounted?.[n] === undefined);
    const unmet: string[] = [];
    if (unknown.length) unmet.push(`store mount unknown on ${unknown.map((n) => (status.unreachable?.[n] ? `${n} (${status.unreachable[n]})` : n)).join(', ')}`);
    if (mounted.length !== 1) unmet.push(`the shared store mounted on ${mounted.length ? mounted.join(', ') : 'no node'} (want exactly 1)`);
    return unmet;
  },
  statusScript: () => `findmnt -n -o SOURCE --mountpoint ${MAIL_STORE} || true`,
  readStatus(status, node, output) {
    (status.storeMounted ??= {})[node] = parseMounted(output);
  },
  describeNode(status, node) {
    const mounted = status.storeMounted?.[node];
    return `shared store ${status.unreachable?.[node] ?? (mounted === undefined ? 'unknown' : mounted ? 'mounted' : 'not mounted')}`;
  },
  words: { primary: 'the mail store mounted', tookOver: 'mounted the store' },
  isStoreResource: () => false,
  takeover: SHARED_TAKEOVER,
  // The mount is the takeover: fs-mounted is its phase already.
  takeoverPhase: null,
  replicationLink: false,
  versions: [],
  reloadScript: () => null,
  device: () => SHARED_DEVICE,
};
