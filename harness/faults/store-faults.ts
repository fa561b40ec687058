/**
 * Faults of the mail store (the DRBD-backed file system): it fills up. The file lives on the
 * replicated store, so the heal removes it wherever the store is mounted now.
 */
import { MAIL_STORE } from '../cluster/mail-store.ts';
import type { Fault, FaultContext } from './fault.ts';

/** The file that fills the store; its name says who made it. */
export const FILL_FILE = `${MAIL_STORE}/ha-chaos-disk-full.fill`;

/** Free space the fill leaves, bytes: below Postfix's 1.5 x message_size_limit, above zero. */
export const FILL_LEAVES_BYTES = 1024 * 1024;

/** The script that fills the store to FILL_LEAVES_BYTES free; prints `filled <bytes> <free after>`. */
export function fillScript(): string {
  return [
    'set -eu',
    `mountpoint -q ${MAIL_STORE} || { echo "the mail store ${MAIL_STORE} is not mounted here" >&2; exit 3; }`,
    `avail=$(df --output=avail -B1 ${MAIL_STORE} | tail -1 | tr -d ' ')`,
    `size=$((avail - ${FILL_LEAVES_BYTES}))`,
    '[ "$size" -gt 0 ] || size=1',
    `fallocate -l "$size" ${FILL_FILE}`,
    `echo "filled $size $(df --output=avail -B1 ${MAIL_STORE} | tail -1 | tr -d ' ')"`,
  ].join('\n');
}

/** Removes the fill file on every node where the store is mounted; prints what it removed. */
async function removeFill(ctx: FaultContext): Promise<string[]> {
  const removed: string[] = [];
  for (const n of ctx.target.plan.nodes) {
    const r = await ctx.target.ssh.root(n.name, `if [ -e ${FILL_FILE} ]; then rm -f ${FILL_FILE} && echo removed; fi`, { timeoutMs: 60_000, reject: false });
    if (r.stdout.includes('removed')) removed.push(n.name);
  }
  return removed;
}

export const diskFullActive: Fault = {
  kind: 'disk-full-active',
  description: `the mail store fills up (a file leaves ${FILL_LEAVES_BYTES / 1024 / 1024} MiB free): SMTP must refuse new mail with a temporary error (4xx), not acknowledge and lose it; once space is back, mail flows again`,
  async inject(ctx) {
    const r = await ctx.target.root(ctx.node, fillScript(), 60_000);
    const [, size, free] = r.stdout.trim().split(/\s+/);
    ctx.log.info(`mail store on ${ctx.node} filled: ${Math.round(Number(size) / 1024 / 1024)} MiB written, ${Math.round(Number(free) / 1024)} KiB left`);
    return { node: ctx.node, file: FILL_FILE, bytes: Number(size), freeAfter: Number(free) };
  },
  async heal(ctx) {
    const removed = await removeFill(ctx);
    if (removed.length) ctx.log.info(`heal: fill file removed on ${removed.join(', ')}`);
  },
  async audit(ctx) {
    const left: string[] = [];
    for (const n of ctx.target.plan.nodes) {
      const r = await ctx.target.ssh.root(n.name, `test -e ${FILL_FILE} && echo present || echo absent`, { timeoutMs: 30_000, reject: false });
      if (!r.ok) left.push(`${n.name}: could not check for ${FILL_FILE}: ${r.reason}`);
      else if (r.stdout.includes('present')) left.push(`${n.name}: ${FILL_FILE} is still there`);
    }
    return left;
  },
};
