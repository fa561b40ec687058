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


/** Brings the given links up where they are down; a node fenced meanwhile booted with them up. */
async function linksUp(ctx: FaultContext, nics: string[]): Promise<void> {
  const script = nics.map((nic) => `ip link set ${nic} up`).join(' && ');
  const r = await ctx.lab.ssh.root(ctx.node, script, { timeoutMs: 60_000, reject: false });
  if (!r.ok) ctx.log.warn(`heal: could not bring ${nics.join(', ')} up on ${ctx.node} (${r.reason}); the audit will say`);
}

async function linksDown(ctx: FaultContext, nics: string[]): Promise<string[]> {
  const r = await ctx.lab.ssh.root(ctx.node, `for n in ${nics.join(' ')}; do ip -o link show $n; done`, { timeoutMs: 30_000, reject: false });
  if (!r.ok) return [`could not read links ${nics.join(', ')} on ${ctx.node}: ${r.reason}`];
  return r.stdout
    .split('\n')
    .filter((line) => line.trim() && !/[<,]UP[,>]/.test(line))
    .map((line) => `link not up on ${ctx.node}: ${line.trim()}`);
}


/** A fault that takes some of the active node's NICs down; healed by bringing them up. */
function nicLoss(kind: Fault['kind'], roles: ('client' | 'ring0' | 'ring1' | 'replication')[], description: string): Fault {
  const nics = (ctx: FaultContext) => roles.map((role) => nodePlan(ctx).nic[role]);
  return {
    kind,
    description,
    async inject(ctx) {
      const list = nics(ctx);
      await sh(ctx, list.map((nic) => `ip link set ${nic} down`).join(' && '), `${list.map((nic, i) => `${nic} (${roles[i]})`).join(', ')} down`);
      return { node: ctx.node, nics: list };
    },
    heal: (ctx) => linksUp(ctx, nics(ctx)),
    audit: (ctx) => linksDown(ctx, nics(ctx)),
  };
}

export const oneRingLossActive = nicLoss(
  'one-ring-loss-active',
  ['ring0'],
  'the active node loses one heartbeat NIC (ring0); corosync must carry on over ring1: no failover, no fencing',
);

export const heartbeatLossActive = nicLoss(
  'heartbeat-loss-active',
  ['ring0', 'ring1'],
  'the active node loses both heartbeat NICs (ring0 and ring1) while its client NIC stays up: the peer must fence it and take over; the isolated node must not fence the peer',
);

export const replicationLossActive = nicLoss(
  'replication-loss-active',
  ['replication'],
  "the active node loses its replication NIC: DRBD disconnects, the peer's disk is outdated through Pacemaker (fence-peer), the service carries on; after the heal DRBD resyncs and the constraint is lifted",
);

export const clientNicLossActive = nicLoss(
  'client-nic-loss-active',
  ['client'],
  'the active node loses its client NIC: clients cannot reach the virtual IP although the cluster is healthy; the connectivity check must move the service to the peer',
);

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
