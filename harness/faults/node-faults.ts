/**
 * Faults inside the active node, over SSH: a heartbeat NIC down, the mail service or corosync
 * killed with SIGKILL. Heals bring links up and clear the failure records an operator would clear
 * after recovery (`crm_resource --cleanup`); a node the cluster fenced is back from its reboot.
 */
import type { Fault, FaultContext } from './fault.ts';

function nodePlan(ctx: FaultContext) {
  const node = ctx.lab.plan.nodes.find((n) => n.name === ctx.node);
  if (!node) throw new Error(`no node ${ctx.node} in the lab`);
  return node;
}

async function sh(ctx: FaultContext, script: string, what: string): Promise<string> {
  const r = await ctx.lab.root(ctx.node, script, 60_000);
  ctx.log.info(`${what} on ${ctx.node}`);
  return r.stdout;
}

/** Clears the cluster's failure records of the mail resources (what an operator does after recovery). */
async function cleanup(ctx: FaultContext): Promise<void> {
  const other = ctx.lab.plan.nodes.find((n) => n.name !== ctx.node)!.name;
  for (const node of [ctx.node, other]) {
    const r = await ctx.lab.ssh.root(node, 'crm_resource --cleanup >/dev/null 2>&1; echo done', { timeoutMs: 120_000, reject: false });
    if (r.ok) return;
  }
}

export const oneRingLossActive: Fault = {
  kind: 'one-ring-loss-active',
  description: 'the active node loses one heartbeat NIC (ring0); corosync must carry on over ring1: no failover, no fencing',
  async inject(ctx) {
    const nic = nodePlan(ctx).nic.ring0;
    await sh(ctx, `ip link set ${nic} down`, `link ${nic} (ring0) down`);
    return { node: ctx.node, nic };
  },
  async heal(ctx) {
    const nic = nodePlan(ctx).nic.ring0;
    const r = await ctx.lab.ssh.root(ctx.node, `ip link set ${nic} up`, { timeoutMs: 60_000, reject: false });
    if (!r.ok) ctx.log.warn(`heal: could not bring ${nic} up on ${ctx.node} (${r.reason}); a reboot would have`);
  },
  async audit(ctx) {
    const nic = nodePlan(ctx).nic.ring0;
    const r = await ctx.lab.ssh.root(ctx.node, `ip -o link show ${nic}`, { timeoutMs: 30_000, reject: false });
    return r.ok && /state UP|,UP[,>]/.test(r.stdout) ? [] : [`${nic} on ${ctx.node} is not up: ${r.stdout.trim() || r.reason}`];
  },
};

export const killMailServiceActive: Fault = {
  kind: 'kill-mail-service-active',
  description: "the active node's SMTP service (the Postfix master) is killed with SIGKILL: the cluster must recover it, in place or on the peer",
  async inject(ctx) {
    const out = await sh(ctx, "pkill -KILL -f '^/usr/lib/postfix/sbin/master' && echo killed || echo 'no postfix master found'", 'SIGKILL to the Postfix master');
    if (!out.includes('killed')) throw new Error(`kill-mail-service: ${out.trim()}`);
    return { node: ctx.node, process: 'postfix master' };
  },
  heal: cleanup,
  audit: async () => [],
};

export const killCorosyncActive: Fault = {
  kind: 'kill-corosync-active',
  description: "the active node's corosync is killed with SIGKILL: the peer must fence it and take over",
  async inject(ctx) {
    await ctx.lab.ssh.root(ctx.node, 'pkill -KILL -x corosync', { timeoutMs: 30_000, reject: false });
    ctx.log.info(`SIGKILL to corosync on ${ctx.node}`);
    return { node: ctx.node, process: 'corosync' };
  },
  heal: cleanup,
  audit: async () => [],
};
