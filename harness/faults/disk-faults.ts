/**
 * Disk death: the active node's DRBD backing disk disappears (hot-unplugged at the hypervisor,
 * as a dead disk or controller drops off the bus). DRBD gets I/O errors and detaches; the node
 * could go on Primary without a disk, through its peer, but the DRBD resource agent lowers a
 * diskless node's promotion score, so Pacemaker moves the service to the peer (a clean stop).
 * Heal: the same volume plugged back in, DRBD attached again, the changes resynced from the peer.
 */
import { done, notYet, waitFor } from '../core/wait.ts';
import { DRBD_RAW_DISK, DRBD_RESOURCE } from '../storage/drbd-proc.ts';
import { shellQuote } from '../core/shell-quote.ts';
import { SHARED_DEVICE } from '../storage/shared.ts';
import { cleanup } from './node-faults.ts';
import type { MachineControl } from '../session/target.ts';
import { needs, onStore, type Fault, type FaultContext } from './fault.ts';

const TARGET = DRBD_RAW_DISK.replace('/dev/', '');
const SHARED_TARGET = SHARED_DEVICE.replace('/dev/', '');

/** The hypervisor, which only the lab has: disk faults need it. */
function machines(ctx: FaultContext): MachineControl {
  if (!ctx.target.machines) throw new Error(`${ctx.node}: this target has no hypervisor to unplug a disk with`);
  return ctx.target.machines;
}

/** The unplugged volume per target and node: the heal plugs the same one back. */
const unplugged = new Map<string, string>();
const key = (ctx: FaultContext) => `${ctx.target.plan.name}:${ctx.node}`;

/** Hot-unplugs the node's disk `target` at the hypervisor, remembering its volume for the heal; resolves the volume. */
async function unplug(ctx: FaultContext, target: string, fault: string): Promise<string> {
  const source = (await machines(ctx).disks(ctx.node))[target];
  if (!source) throw new Error(`${fault}: ${ctx.node} has no disk ${target} attached`);
  unplugged.set(key(ctx), source);
  await machines(ctx).unplugDisk(ctx.node, target);
  return source;
}

/** Plugs the unplugged volume back in as `target`, if it is not attached; resolves whether it plugged. */
async function plugBack(ctx: FaultContext, target: string, source: string, options: { format: 'qcow2' | 'raw'; shared: boolean }): Promise<boolean> {
  if ((await machines(ctx).disks(ctx.node))[target]) return false;
  await machines(ctx).plugDisk(ctx.node, source, target, options);
  return true;
}

async function attached(ctx: FaultContext, target: string): Promise<boolean> {
  return Boolean((await machines(ctx).disks(ctx.node))[target]);
}

/** An `error` table over the dm device while its disk `raw` is gone (it holds no device open then). */
function releaseDeadDiskScript(dm: string, raw: string): string {
  const name = shellQuote(dm);
  return `if dmsetup info ${name} >/dev/null 2>&1 && [ ! -b ${raw} ]; then dmsetup reload ${name} --table "0 $(dmsetup table ${name} | awk '{ e = $1 + $2 } END { print e }') error" && dmsetup resume ${name}; fi; echo @@released`;
}

/** The dm device's linear table over `raw` again, if it holds another (the error table of a released dead disk). */
function relinkScript(dm: string, raw: string): string {
  const name = shellQuote(dm);
  return `if dmsetup table ${name} | awk '$3 != "linear" { other = 1 } END { exit !other }'; then dmsetup reload ${name} --table "0 $(blockdev --getsz ${raw}) linear ${raw} 0" && dmsetup resume ${name}; fi; `;
}

/** Before a dead disk is plugged back into a running node: its dm device lets go of it, so the disk gets its name again. */
async function releaseDeadDisk(ctx: FaultContext, target: string, raw: string): Promise<void> {
  const dm = ctx.target.plan.storeDm;
  if (dm && (await machines(ctx).state(ctx.node)) === 'running' && !(await attached(ctx, target))) await ctx.target.root(ctx.node, releaseDeadDiskScript(dm, raw), 60_000);
}

/**
 * DRBD on `node` attached to its disk again (bounded), `drbdadm attach` if Diskless. With `raw`
 * (the lab's disk, plugged back after disk death: a new device), it waits for that disk and points
 * the store's dm device at it first. A node rebooted meanwhile attached it itself.
 */
export async function reattachDrbd(ctx: FaultContext, node: string, raw?: string): Promise<void> {
  const dm = ctx.target.plan.storeDm;
  const waitRaw = raw ? `test -b ${raw} || { echo 'no ${raw} yet'; exit 0; }; ` : '';
  const relink = raw && dm ? relinkScript(dm, raw) : '';
  await waitFor(
    `DRBD on ${node} attached to its disk again`,
    async () => {
      const r = await ctx.target.ssh.root(node, `${waitRaw}${relink}[ "$(drbdadm dstate ${DRBD_RESOURCE} | cut -d/ -f1)" != Diskless ] || drbdadm attach ${DRBD_RESOURCE} 2>&1; drbdadm dstate ${DRBD_RESOURCE}`, { timeoutMs: 60_000, reject: false });
      const local = r.stdout.trim().split('\n').at(-1)?.split('/')[0];
      return local && local !== 'Diskless' && !r.stdout.includes('no /dev') ? done(true) : notYet(r.stdout.trim() || r.reason);
    },
    { timeoutMs: 120_000, intervalMs: 2000, signal: ctx.signal },
  );
}

export const diskDeathActive: Fault = onStore(['drbd'], 'a shared store has no per-node backing disk: its loss is the path loss of store-path-loss-active', needs(['disk-hotplug'], {
  kind: 'disk-death-active',
  description: `the active node's DRBD backing disk (${DRBD_RAW_DISK}) dies (hot-unplugged at the hypervisor): DRBD detaches and the service moves to the peer by a clean stop; no fencing`,
  async inject(ctx) {
    await unplug(ctx, TARGET, 'disk-death');
    // DRBD notices at its next I/O to the disk: mail flows, so that is within seconds.
    const state = await waitFor(
      `DRBD on ${ctx.node} to detach from the dead disk`,
      async () => {
        const r = await ctx.target.ssh.root(ctx.node, `drbdadm dstate ${DRBD_RESOURCE}`, { timeoutMs: 15_000, reject: false });
        const local = r.stdout.trim().split('/')[0];
        return local === 'Diskless' ? done(r.stdout.trim()) : notYet(`disk state ${r.stdout.trim() || r.reason}`);
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    ctx.log.info(`${TARGET} unplugged from ${ctx.node}; DRBD ${state}`);
    return { node: ctx.node, disk: TARGET, drbd: state };
  },
  async heal(ctx) {
    const source = unplugged.get(key(ctx));
    if (!source) return; // never unplugged
    // The dm device still holds the dead disk open: an error table lets it go, so the disk plugged back gets its name again.
    await releaseDeadDisk(ctx, TARGET, DRBD_RAW_DISK);
    if (await plugBack(ctx, TARGET, source, { format: 'qcow2', shared: false })) ctx.log.info(`heal: ${TARGET} plugged back into ${ctx.node}`);
    await reattachDrbd(ctx, ctx.node, DRBD_RAW_DISK);
    unplugged.delete(key(ctx));
  },
  async audit(ctx) {
    return (await attached(ctx, TARGET)) ? [] : [`${ctx.node}: disk ${TARGET} is not attached`];
  },
}));

/**
 * Store path loss (shared storage): the active node loses its path to the array (the shared disk
 * detached from that node only, as a failed HBA, cable or switch port drops it). The peer still
 * sees the disk. The file system's monitor (it writes and reads a file on the store) fails on the
 * next check; Pacemaker stops the service there, and a stop the dead path makes fail is answered
 * by fencing. The peer mounts the store only after that. Measured: the unmount of the dead disk
 * succeeds, the restart on the same node fails ("not installed": no device), and the service
 * moves by a clean stop. Heal: the disk attached again (a node power-cycled meanwhile has it back
 * from its domain definition already), and the failure records the path loss left (the failed
 * monitor, the restart that failed without the disk) cleared.
 */
export const storePathLossActive: Fault = onStore(['shared'], 'a DRBD store has no array path to lose (its disks are local; disk-death-active is its disk failure)', needs(['disk-hotplug'], {
  kind: 'store-path-loss-active',
  description: "the active node loses its path to the shared disk (detached from that node only): the file system's monitor fails, the service moves to the peer (after fencing, if the stop cannot finish); the store is never mounted on two nodes",
  async inject(ctx) {
    const source = await unplug(ctx, SHARED_TARGET, 'store-path-loss');
    ctx.log.info(`${SHARED_TARGET} (the shared store) detached from ${ctx.node}`);
    return { node: ctx.node, disk: SHARED_TARGET, source };
  },
  async heal(ctx) {
    const source = unplugged.get(key(ctx));
    if (!source) return; // never detached
    // The node's dm device (the lab's path behind device-mapper) lets go of the dead path first, and points at the disk again after.
    await releaseDeadDisk(ctx, SHARED_TARGET, SHARED_DEVICE);
    if ((await machines(ctx).state(ctx.node)) === 'running' && (await plugBack(ctx, SHARED_TARGET, source, { format: 'raw', shared: true }))) {
      ctx.log.info(`heal: the shared store attached to ${ctx.node} again`);
      const dm = ctx.target.plan.storeDm;
      await waitFor(
        `${ctx.node} to see ${SHARED_DEVICE} again${dm ? ` (and ${dm} over it)` : ''}`,
        async () => {
          const r = await ctx.target.ssh.root(ctx.node, `test -b ${SHARED_DEVICE} || { echo absent; exit 0; }; ${dm ? relinkScript(dm, SHARED_DEVICE) : ''}echo present`, { timeoutMs: 15_000, reject: false });
          return r.stdout.includes('present') ? done(true) : notYet(r.stdout.trim() || r.reason);
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
    }
    // The failed monitor, and the restart that failed on the node without its disk, are the
    // fault's own records: cleared now the path is back (what an operator does after the repair).
    await cleanup(ctx);
    ctx.log.info(`heal: the cluster's failure records of the path loss cleared`);
    unplugged.delete(key(ctx));
  },
  async audit(ctx) {
    return (await attached(ctx, SHARED_TARGET)) ? [] : [`${ctx.node}: the shared disk ${SHARED_TARGET} is not attached`];
  },
}));
