/**
 * Faults of the active node's NICs (carrier cut at the hypervisor) and processes (SIGKILL of the
 * mail service or corosync, over SSH). Heals bring the carrier back and clear the failure records
 * an operator would clear after recovery (`crm_resource --cleanup`); a node the cluster fenced is
 * back from its reboot.
 */
import type { NicRole } from '../cluster/plan.ts';
import { mailServiceOf } from '../mail/mail.ts';
import { faultNode as nodePlan, needs, onStore, type Fault, type FaultContext } from './fault.ts';
import { FAULT_RULE_TAG } from './audit.ts';

async function sh(ctx: FaultContext, script: string, what: string): Promise<string> {
  const r = await ctx.target.root(ctx.node, script, 60_000);
  ctx.log.info(`${what} on ${ctx.node}`);
  return r.stdout;
}

/** Clears the cluster's failure records of the mail resources (what an operator does after recovery). */
export async function cleanup(ctx: FaultContext): Promise<void> {
  const other = ctx.target.plan.nodes.find((n) => n.name !== ctx.node)!.name;
  for (const node of [ctx.node, other]) {
    // Only where it worked: a node just powered on answers over SSH before its cluster stack runs (start-on-boot is off).
    const r = await ctx.target.ssh.root(node, 'crm_resource --cleanup >/dev/null 2>&1 && echo cleaned', { timeoutMs: 120_000, reject: false });
    if (r.ok && r.stdout.includes('cleaned')) return;
  }
  ctx.log.warn(`cleanup: crm_resource --cleanup worked on neither ${ctx.node} nor ${other}`);
}


/**
 * A fault that cuts some of the active node's NICs, the way the target can: in the lab their
 * carrier goes down at the hypervisor (a pulled cable, a dead switch port); on an existing cluster
 * the node's own link is set down (`ip link set down`, said so in the report: not a pulled cable).
 * Heal: the links back up (also after a fencing: a rebooted node brings its links up itself).
 */
function nicLoss(kind: Fault['kind'], roles: NicRole[], description: string): Fault {
  const nics = (ctx: FaultContext) => roles.map((role) => `${nodePlan(ctx).nic[role]} (${role})`);
  return {
    kind,
    description,
    async inject(ctx) {
      await ctx.target.nics.cut(ctx.node, roles, 'fault');
      ctx.log.info(`link down on ${ctx.node}: ${nics(ctx).join(', ')} (${ctx.target.nics.method})`);
      return { node: ctx.node, nics: nics(ctx), method: ctx.target.nics.method };
    },
    async heal(ctx) {
      await ctx.target.nics.restore(ctx.node, roles, 'heal');
    },
    audit: (ctx) => ctx.target.nics.leftovers(ctx.node, roles),
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

export const replicationLossActive = onStore(
  ['drbd'],
  'a shared store has no replication link: both nodes reach the one disk directly',
  nicLoss(
    'replication-loss-active',
    ['replication'],
    "the active node loses its replication NIC: DRBD disconnects, the peer's disk is outdated through Pacemaker (fence-peer), the service carries on; after the heal DRBD resyncs and the constraint is lifted",
  ),
);

export const clientNicLossActive = nicLoss(
  'client-nic-loss-active',
  ['client'],
  'the active node loses its client NIC: clients cannot reach the virtual IP although the cluster is healthy; the connectivity check must move the service to the peer',
);

/**
 * SIGKILL of one process on the active node, found by its command line (`pkill -f`); injecting
 * fails if no such process runs. Heal: clear the failure records the cluster kept.
 */
function processKill(kind: Fault['kind'], commandLine: string, name: string, description: string): Fault {
  return {
    kind,
    description,
    async inject(ctx) {
      // Which processes it hits is said and recorded (Axigen: its supervisor and its child; Postfix: the master).
      const out = await sh(ctx, `pids=$(pgrep -f '^${commandLine}' | tr '\\n' ' '); [ -n "$pids" ] || { echo 'no ${name} found'; exit 0; }; ps -o pid=,args= -p "$(echo $pids | tr ' ' ',')" | sed 's/^ */hit /'; kill -KILL $pids && echo killed`, `SIGKILL to ${name}`);
      if (!out.includes('killed')) throw new Error(`${kind}: ${out.trim()}`);
      const hit = out.split('\n').filter((l) => l.startsWith('hit ')).map((l) => l.slice(4).trim());
      ctx.log.info(`SIGKILL to ${name} on ${ctx.node}: ${hit.join('; ')}`);
      return { node: ctx.node, process: name, hit };
    },
    heal: cleanup,
    audit: async () => [],
  };
}

export const killMailServiceActive: Fault = {
  kind: 'kill-mail-service-active',
  description: "the active node's SMTP service (the Postfix master, or Axigen) is killed with SIGKILL: the cluster must recover it, in place or on the peer",
  inject: (ctx) => {
    const { commandLine, name } = mailServiceOf(ctx.target.plan).smtpProcess;
    return processKill('kill-mail-service-active', commandLine, name, '').inject(ctx);
  },
  heal: cleanup,
  audit: async () => [],
};

export const killCorosyncActive: Fault = {
  kind: 'kill-corosync-active',
  description: "the active node's corosync is killed with SIGKILL: the peer must fence it and take over",
  async inject(ctx) {
    await ctx.target.ssh.root(ctx.node, 'pkill -KILL -x corosync', { timeoutMs: 30_000, reject: false });
    ctx.log.info(`SIGKILL to corosync on ${ctx.node}`);
    return { node: ctx.node, process: 'corosync' };
  },
  heal: cleanup,
  audit: async () => [],
};

/** The degradation of a congested or flaky heartbeat path: latency with jitter, and loss. */
export const DEGRADED_NETEM = 'delay 100ms 40ms loss 10%';

/**
 * Degraded heartbeat network: both ring NICs of the active node get latency, jitter and loss
 * (netem), a congested or flapping switch rather than a dead one. Corosync must ride it out: no
 * failover, no fencing. Heal: the qdiscs are removed (a rebooted node has none left).
 */
export const heartbeatDegradedActive: Fault = needs(['netem'], {
  kind: 'heartbeat-degraded-active',
  description: `the active node's two heartbeat NICs degrade (netem ${DEGRADED_NETEM}): corosync must carry on, no failover, no fencing`,
  async inject(ctx) {
    const node = nodePlan(ctx);
    const nics = [node.nic.ring0, node.nic.ring1];
    await sh(ctx, nics.map((nic) => `tc qdisc replace dev ${nic} root netem ${DEGRADED_NETEM}`).join(' && '), `netem ${DEGRADED_NETEM} on ${nics.join(', ')}`);
    return { node: ctx.node, nics, netem: DEGRADED_NETEM };
  },
  async heal(ctx) {
    const node = nodePlan(ctx);
    // `del` fails when there is nothing to delete (already healed, or the node rebooted): fine.
    await ctx.target.root(ctx.node, [node.nic.ring0, node.nic.ring1].map((nic) => `tc qdisc del dev ${nic} root 2>/dev/null || true`).join('; '), 60_000);
  },
  audit: async () => [], // the lab audit looks for netem/tbf qdiscs on every node
});

export const killPacemakerControllerActive = processKill(
  'kill-pacemaker-controller-active',
  '/usr/lib/pacemaker/pacemaker-controld',
  'pacemaker-controld',
  "the active node's Pacemaker controller (pacemaker-controld) is killed with SIGKILL: the cluster must recover, by respawning it in place or by fencing the node and failing over, without two primaries",
);

/**
 * One-way loss on one heartbeat ring: the active node drops everything arriving on its ring0 NIC
 * (a firewall rule), while what it sends still arrives: an asymmetric fault, harder to detect than
 * a dead link. Corosync must mark the link down and carry on over ring1: no failover, no fencing.
 */
export const oneRingOneWayLossActive: Fault = {
  kind: 'one-ring-one-way-loss-active',
  description: "the active node stops receiving on its ring0 NIC (a DROP rule on input) while its sends still arrive: corosync must carry on over ring1; no failover, no fencing",
  async inject(ctx) {
    const nic = nodePlan(ctx).nic.ring0;
    await sh(ctx, `iptables -I INPUT -i ${nic} -m comment --comment ${FAULT_RULE_TAG} -j DROP`, `DROP on input of ${nic} (ring0)`);
    return { node: ctx.node, nic, direction: 'in' };
  },
  async heal(ctx) {
    const nic = nodePlan(ctx).nic.ring0;
    // Delete every copy of the rule (an inject retried by hand could have added two); none left is fine.
    await ctx.target.root(ctx.node, `while iptables -D INPUT -i ${nic} -m comment --comment ${FAULT_RULE_TAG} -j DROP 2>/dev/null; do :; done; echo ok`, 60_000);
  },
  audit: async () => [], // the lab audit reports a rule of the harness's own (its tag) left on any node
};
