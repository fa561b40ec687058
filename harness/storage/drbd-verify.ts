/**
 * DRBD's online verify after a run (`drbdadm verify`): every block of the two copies compared by
 * checksum (the resource's `verify-alg`), the blocks that differ marked out of sync and named in
 * the kernel's log. Two copies that differ after a run are a lost or torn write the clients were
 * told was safe: the convergence check fails on them, naming the sectors.
 *
 * The kernel's words (drivers/block/drbd, 8.4 and 9): `Online verify found <n> 4k block out of
 * sync!`, one `Out of sync: start=<sector>, size=<sectors> (sectors)` per range, and
 * `Online verify done (total <s> sec; ...)`; /proc/drbd shows `cs:VerifyS` (or `VerifyT` on the
 * peer) while it runs, and `oos:<KiB>` what it marked.
 */
import { oneLine } from '../core/terminal-text.ts';
import { done, notYet, waitFor } from '../core/wait.ts';
import { DRBD_RESOURCE, parseProcDrbd } from './drbd-proc.ts';
import type { StoreVerification, VerifyContext } from './store-backend.ts';

/** What the kernel said about one verify. Pure. */
export interface VerifyLog {
  /** `Online verify done` was logged. */
  done: boolean;
  /** Out-of-sync 4 KiB blocks found (`Online verify found n 4k block out of sync!`); 0 when done and none was reported. */
  blocksOutOfSync: number;
  /** Each differing range, in sectors: `start=2048, size=8`. */
  ranges: string[];
}

/** The most ranges named (a whole disk that differs would log thousands). */
export const MAX_RANGES = 20;

export function parseVerifyLog(text: string): VerifyLog {
  const found = /Online verify found (\d+) (\d+)k block(?:s)? out of sync/.exec(text);
  const ranges = [...text.matchAll(/Out of sync: start=(\d+), size=(\d+) \(sectors\)/g)].map((m) => `start=${m[1]}, size=${m[2]}`);
  return { done: /Online verify done/.test(text), blocksOutOfSync: found ? Number(found[1]) * (Number(found[2]) / 4) : 0, ranges: ranges.slice(0, MAX_RANGES) };
}

/**
 * Runs the verify on `ctx.node` and waits (bounded) for it to end; what it found, or why it did
 * not run (not connected, no `verify-alg`, DRBD's own words). A verify still running at the bound
 * is stopped by reconnecting the resource (DRBD 8.4 has no stop command), and reported as not run.
 */
export async function verifyDrbd(ctx: VerifyContext): Promise<StoreVerification> {
  const { root, node, log } = ctx;
  const before = parseProcDrbd((await root(node, 'cat /proc/drbd', 20_000)).stdout);
  if (before.cs !== 'Connected' || before.disk !== 'UpToDate' || before.peerDisk !== 'UpToDate') {
    return { ran: false, node, why: `DRBD on ${node} is ${before.cs} ${before.disk}/${before.peerDisk}: two copies are compared only when Connected UpToDate/UpToDate` };
  }
  const started = await root(node, `date +%s; drbdadm verify ${DRBD_RESOURCE} 2>&1; echo "@@rc $?"`, 30_000);
  const since = Number(started.stdout.split('\n')[0]);
  const rc = /@@rc (\d+)/.exec(started.stdout)?.[1];
  if (rc !== '0') {
    const words = oneLine(started.stdout.split('\n').slice(1).filter((l) => !l.startsWith('@@rc')).join(' ')).slice(0, 300);
    return { ran: false, node, why: `drbdadm verify ${DRBD_RESOURCE} failed on ${node}: ${words || `exit code ${rc ?? 'unknown'}`}${/verify.alg|verify_alg|verify algorithm/i.test(words) ? ` (the resource needs a verify-alg in its net section, e.g. verify-alg crc32c;)` : ''}` };
  }
  log.info(`online verify of DRBD resource ${DRBD_RESOURCE} started on ${node}`);
  const t0 = performance.now();
  try {
    await waitFor(
      `the online verify of DRBD resource ${DRBD_RESOURCE} to end (both copies read and compared)`,
      async () => {
        const proc = (await root(node, 'cat /proc/drbd', 20_000)).stdout;
        const cs = parseProcDrbd(proc).cs;
        return /^Verify[ST]$/.test(cs) ? notYet(`${cs} ${/verified:\s*([\d.]+%)/.exec(proc)?.[1] ?? ''}`.trim()) : done(cs);
      },
      { timeoutMs: ctx.timeoutMs, intervalMs: 2000, signal: ctx.signal },
    );
  } catch (error) {
    await root(node, `drbdadm disconnect ${DRBD_RESOURCE}; drbdadm connect ${DRBD_RESOURCE}`, 60_000).catch(() => undefined);
    return { ran: false, node, why: `${oneLine((error as Error).message).slice(0, 300)} (stopped by reconnecting the resource)` };
  }
  const seconds = (performance.now() - t0) / 1000;
  // The kernel's account of it (both nodes log theirs; the source's names the ranges it found).
  const kernel = (await root(node, `journalctl -k -o cat --since @${Number.isFinite(since) ? since - 1 : 0} | grep -E 'Online verify|Out of sync:' || true`, 30_000)).stdout;
  const logged = parseVerifyLog(kernel);
  const after = parseProcDrbd((await root(node, 'cat /proc/drbd', 20_000)).stdout);
  const rangesTotal = (kernel.match(/Out of sync: start=/g) ?? []).length;
  return { ran: true, node, seconds: Math.round(seconds * 10) / 10, outOfSyncKiB: Math.max(after.outOfSyncKiB, logged.blocksOutOfSync * 4), blocksOutOfSync: logged.blocksOutOfSync, ranges: logged.ranges, rangesTotal };
}
