/**
 * Disks that fail partly, through the device-mapper device under the store (storage/device-mapper.ts):
 * bad sectors, failing writes, dropped writes, a slow disk and a hung one. What DRBD is documented
 * to do about each (DRBD 8.4 User's Guide, "Configuring I/O error handling strategies" and
 * "Using on-line device verification"; drbd.conf(5), `on-io-error`, `disk-timeout`):
 *
 * - an I/O error from the backing disk, read or write, with `on-io-error detach` (the lab's, and
 *   DRBD's default): the node drops its disk and goes on Diskless, reading and writing through
 *   its peer; a failed read is retried on the peer, so no error reaches the file system. At its
 *   next monitor the DRBD resource agent gives the Diskless node no promotion score, and Pacemaker
 *   may move the service to the peer by a clean stop (no fencing);
 * - a write the disk acknowledges and throws away: DRBD cannot see it. Only an online verify
 *   finds the blocks the two copies differ in; the operator then resyncs the bad copy from the good;
 * - a slow or a hung disk: with `disk-timeout 0` (the default), DRBD waits for it however long it
 *   takes. Nothing fails over; the clients wait with it, and go on when the disk does.
 *
 * Each fault keeps the device's original (linear) table on the node before it swaps it, and the
 * heal loads it back, so a heal after a crashed run still restores the disk.
 */
import { done, notYet, waitFor } from '../core/wait.ts';
import { oneLine } from '../core/terminal-text.ts';
import { MAIL_STORE } from '../cluster/mail-store.ts';
import { DRBD_DEVICE, DRBD_RESOURCE } from '../storage/drbd-proc.ts';
import {
  dmAuditScript,
  dmLeftovers,
  faultTable,
  loadTableScript,
  parseLinearTable,
  restoreTableScript,
  saveTableScript,
  suspendScript,
  tableSectors,
  type DmFaultTable,
} from '../storage/device-mapper.ts';
import { needs, onStore, type Fault, type FaultContext } from './fault.ts';
import { reattachDrbd } from './disk-faults.ts';

const ONE_COPY = "a shared store has one copy: no peer serves a read or takes a write its disk fails (the array's own RAID masks media errors); its path faults are disk-slow-active, disk-hung-active and store-path-loss-active";

/** The dm device under the node's store, as the target names it. */
function dmName(ctx: FaultContext): string {
  const name = ctx.target.plan.storeDm;
  if (!name) throw new Error(`${ctx.node}: this target names no device-mapper device under the store`);
  return name;
}

/** The other node: the passive one, for a fault on the copy that is not serving. */
function peerOf(ctx: FaultContext): string {
  const peer = ctx.target.plan.nodes.find((n) => n.name !== ctx.node);
  if (!peer) throw new Error(`${ctx.node} has no peer in this target`);
  return peer.name;
}

/** The kernel's own lines about the disk since `sinceS` (epoch s): DRBD, device-mapper, block I/O errors. */
async function kernelLines(ctx: FaultContext, node: string, sinceS: number): Promise<string[]> {
  const r = await ctx.target.root(node, `journalctl -k -o cat --since @${Math.floor(sinceS)} | grep -E 'drbd|device-mapper|I/O error|dm-[0-9]|Buffer I/O' | tail -n 40 || true`, 30_000).catch(() => undefined);
  return (r?.stdout ?? '').split('\n').map((l) => oneLine(l).slice(0, 200)).filter(Boolean);
}

async function nodeNow(ctx: FaultContext, node: string): Promise<number> {
  const r = await ctx.target.root(node, 'date +%s', 15_000);
  return Number(r.stdout.trim());
}

/** Keeps the original table, swaps in the fault's; resolves the original's size and the table loaded. */
async function swapTable(ctx: FaultContext, node: string, fault: DmFaultTable | ((sectors: number) => DmFaultTable)): Promise<{ sectors: number; table: string[] }> {
  const name = dmName(ctx);
  const saved = await ctx.target.root(node, saveTableScript(name), 30_000);
  const original = (() => {
    try {
      return parseLinearTable(saved.stdout.split('@@saved\n')[1] ?? '');
    } catch (error) {
      throw new Error(`${node}: the store's dm device ${name}: ${(error as Error).message}`, { cause: error });
    }
  })();
  const sectors = tableSectors(original);
  const table = faultTable(original, typeof fault === 'function' ? fault(sectors) : fault);
  await ctx.target.root(node, loadTableScript(name, table), 60_000);
  return { sectors, table };
}

/** Waits (bounded) until DRBD on `node` has dropped its disk; rejects with the kernel's words when it does not. */
async function waitDiskless(ctx: FaultContext, node: string, sinceS: number, what: string): Promise<string> {
  try {
    return await waitFor(
      `DRBD on ${node} to detach from its disk (${what}; on-io-error detach)`,
      async () => {
        const r = await ctx.target.ssh.root(node, `drbdadm dstate ${DRBD_RESOURCE}`, { timeoutMs: 15_000, reject: false });
        const local = r.stdout.trim().split('/')[0];
        return local === 'Diskless' ? done(r.stdout.trim()) : notYet(`disk state ${r.stdout.trim() || r.reason}`);
      },
      { timeoutMs: 90_000, intervalMs: 1000, signal: ctx.signal },
    );
  } catch (error) {
    const lines = await kernelLines(ctx, node, sinceS);
    throw new Error(`${(error as Error).message}; the kernel on ${node} said: ${lines.length ? lines.slice(-8).join(' | ') : 'nothing about the disk'}`, { cause: error });
  }
}

/** The heal of every disk fault on `node`: the original table back (a suspended device resumed). */
async function restoreTable(ctx: FaultContext, node: string): Promise<boolean> {
  const r = await ctx.target.root(node, restoreTableScript(dmName(ctx)), 60_000);
  const restored = /@@restored|@@resumed/.test(r.stdout);
  if (restored) ctx.log.info(`heal: the store's disk on ${node} has its own table again`);
  return restored;
}

async function dmAudit(ctx: FaultContext, node: string): Promise<string[]> {
  const name = dmName(ctx);
  const r = await ctx.target.root(node, dmAuditScript(name), 30_000).catch(() => undefined);
  return r ? dmLeftovers(node, name, r.stdout) : [`${node}: the store's dm device ${name} could not be read`];
}

/** A disk fault of the DRBD store, through its dm device: DRBD's answer to a failing disk is its peer's copy. */
const diskFault = (fault: Fault): Fault => needs(['store-dm'], onStore(['drbd'], ONE_COPY, fault));

/** A fault of the active node's path to its store, through the dm device: DRBD's backing disk, or the node's path to the shared disk. */
const pathFault = (fault: Fault): Fault => needs(['store-dm'], fault);

/** The heal and audit of a fault that made DRBD drop the active node's disk: its own table back, then DRBD attached again. */
const detachedDiskEnd: Pick<Fault, 'heal' | 'audit'> = {
  async heal(ctx) {
    await restoreTable(ctx, ctx.node);
    await reattachDrbd(ctx, ctx.node);
  },
  audit: (ctx) => dmAudit(ctx, ctx.node),
};

/** The bad range: 1 MiB in the middle of the disk (file data; DRBD's internal metadata is at its end). */
export const BAD_SECTORS = 2048;
export function badRange(sectors: number): { start: number; length: number } {
  const start = Math.floor(sectors / 2 / 8) * 8;
  return { start, length: Math.min(BAD_SECTORS, Math.max(8, sectors - start - 8)) };
}

export const diskBadSectorsActive: Fault = diskFault({
  kind: 'disk-bad-sectors-active',
  description: `the active node's disk cannot read 1 MiB of sectors (dm-flakey, reads failing there only); read through DRBD, as the next read of a cold file there would: DRBD must serve the read from the peer and detach (Diskless), the service going on through the peer (or moving to it by a clean stop at the agent's next monitor); no I/O error reaching a reader, no fencing`,
  async inject(ctx) {
    const since = await nodeNow(ctx, ctx.node);
    const { sectors } = await swapTable(ctx, ctx.node, (s) => ({ kind: 'error-reads', ...badRange(s) }));
    const range = badRange(sectors);
    // The read goes through DRBD (O_DIRECT: past the page cache, to the disk): it must succeed.
    const read = await ctx.target.root(ctx.node, `dd if=${DRBD_DEVICE} of=/dev/null bs=4096 skip=${range.start / 8} count=${range.length / 8} iflag=direct 2>&1; echo "@@rc $?"`, 120_000);
    const rc = /@@rc (\d+)/.exec(read.stdout)?.[1];
    if (rc !== '0') {
      const lines = await kernelLines(ctx, ctx.node, since);
      throw new Error(`a read of the bad sectors through DRBD failed on ${ctx.node} (dd: ${oneLine(read.stdout.replace(/@@rc \d+/, '')).slice(0, 160)}): DRBD passed the disk's error up to the reader; the kernel said: ${lines.slice(-8).join(' | ') || 'nothing about the disk'}`);
    }
    const state = await waitDiskless(ctx, ctx.node, since, `a read error at sectors ${range.start}-${range.start + range.length - 1}`);
    const kernel = await kernelLines(ctx, ctx.node, since);
    ctx.log.info(`bad sectors ${range.start}-${range.start + range.length - 1} on ${ctx.node}: the read through DRBD succeeded; DRBD ${state}`);
    return { node: ctx.node, badSectors: `${range.start}+${range.length}`, readThroughDrbd: 'ok', drbd: state, kernel };
  },
  ...detachedDiskEnd,
});

export const diskWriteErrorsActive: Fault = diskFault({
  kind: 'disk-write-errors-active',
  description: `every write to the active node's disk fails (dm-flakey error_writes): DRBD must detach at the next write (Diskless) and complete it on the peer, the service going on through the peer (or moving to it by a clean stop at the agent's next monitor); no acknowledged message lost, no fencing`,
  async inject(ctx) {
    const since = await nodeNow(ctx, ctx.node);
    await swapTable(ctx, ctx.node, { kind: 'error-writes' });
    // The mail flowing writes within seconds (and ext4 commits its journal every 5 s).
    const state = await waitDiskless(ctx, ctx.node, since, 'a write error');
    const kernel = await kernelLines(ctx, ctx.node, since);
    ctx.log.info(`writes fail on ${ctx.node}'s disk; DRBD ${state}`);
    return { node: ctx.node, drbd: state, kernel };
  },
  ...detachedDiskEnd,
});

export const diskDroppedWritesPassive: Fault = diskFault({
  kind: 'disk-dropped-writes-passive',
  description: `the passive node's disk acknowledges writes and throws them away (dm-flakey drop_writes) while it is held: DRBD cannot see it and the service never stops; the online verify after the run must find the blocks the copies differ in, and the faulted copy is then resynced from the good one`,
  async inject(ctx) {
    const peer = peerOf(ctx);
    await swapTable(ctx, peer, { kind: 'drop-writes' });
    ctx.log.info(`${peer}'s disk drops every write (the replicated ones included) while the fault is held`);
    return { node: peer, drops: 'writes' };
  },
  async heal(ctx) {
    await restoreTable(ctx, peerOf(ctx));
  },
  audit: (ctx) => dmAudit(ctx, peerOf(ctx)),
  async repairStore(ctx) {
    // The peer's copy is the bad one: all of it marked out of sync and copied from the primary
    // (`invalidate` on the node whose data is bad: DRBD 8.4 User's Guide, "Manually resolving
    // ... / Using on-line device verification").
    const peer = peerOf(ctx);
    await ctx.target.root(peer, `drbdadm invalidate ${DRBD_RESOURCE}`, 60_000);
    const state = await waitFor(
      `${peer}'s copy resynced from ${ctx.node}'s (drbdadm invalidate)`,
      async () => {
        const r = await ctx.target.root(peer, `drbdadm cstate ${DRBD_RESOURCE}; drbdadm dstate ${DRBD_RESOURCE}`, 15_000);
        const [cs = '', ds = ''] = r.stdout.trim().split('\n');
        return cs === 'Connected' && ds === 'UpToDate/UpToDate' ? done(`${cs} ${ds}`) : notYet(`${cs} ${ds}`);
      },
      { timeoutMs: 10 * 60_000, intervalMs: 2000, signal: ctx.signal },
    );
    return `resynced ${peer}'s copy from ${ctx.node}'s (drbdadm invalidate on ${peer}: ${state})`;
  },
});

/** The slow disk's delay per I/O. */
export const SLOW_DISK_MS = 1000;

export const diskSlowActive: Fault = pathFault({
  kind: 'disk-slow-active',
  description: `every read and write of the active node's store disk (DRBD's backing disk, or its path to the shared disk) takes ${SLOW_DISK_MS / 1000} s (dm-delay) while it is held: DRBD waits for it (disk-timeout 0, the default), the file system on a shared disk too; nothing fails over, the clients wait; no acknowledged message lost`,
  async inject(ctx) {
    await swapTable(ctx, ctx.node, { kind: 'delay', delayMs: SLOW_DISK_MS });
    ctx.log.info(`${ctx.node}'s disk answers every I/O after ${SLOW_DISK_MS} ms`);
    return { node: ctx.node, delayMs: SLOW_DISK_MS };
  },
  async heal(ctx) {
    await restoreTable(ctx, ctx.node);
  },
  audit: (ctx) => dmAudit(ctx, ctx.node),
});

export const diskHungActive: Fault = pathFault({
  kind: 'disk-hung-active',
  description: `the active node's store disk (DRBD's backing disk, or its path to the shared disk) stops answering (dmsetup suspend: every I/O queued) while it is held, then goes on (resume): DRBD waits (disk-timeout 0), the file system on a shared disk too; nothing fails over; the clients wait and go on; no acknowledged message lost`,
  async inject(ctx) {
    const name = dmName(ctx);
    // Kept first, like the others: the heal resumes whatever holds the device.
    await ctx.target.root(ctx.node, saveTableScript(name), 30_000);
    await ctx.target.root(ctx.node, suspendScript(name), 60_000);
    ctx.log.info(`${ctx.node}'s disk hung (suspended: every I/O to ${MAIL_STORE}'s disk waits)`);
    return { node: ctx.node, suspended: name };
  },
  async heal(ctx) {
    await restoreTable(ctx, ctx.node);
  },
  audit: (ctx) => dmAudit(ctx, ctx.node),
});
