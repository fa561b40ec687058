/**
 * The lab-wide leftover audit, run after every heal whatever the fault was: on each node, every
 * cluster NIC up with a carrier, no netem qdisc and no packet-filter rule of the harness's own (its
 * rules carry the comment {@link FAULT_RULE_TAG}; a cluster's own firewall and shaping are not
 * leftovers); on the host,
 * every BMC the harness runs answering with normal power control. A fault's own audit checks its specifics; this
 * one catches what any fault (or a crashed run before it) could have left behind.
 */
import type { FaultTarget } from '../session/target.ts';

/** The comment every packet-filter rule a fault adds carries (`-m comment --comment`): the audit looks for it, and only for it. */
export const FAULT_RULE_TAG = 'ha-chaos-fault';

/** The script each node runs; its output is read by {@link parseNodeAudit}. */
export function nodeAuditScript(nics: string[]): string {
  return [
    `for n in ${nics.join(' ')}; do echo "@@link $(ip -o link show $n 2>&1)"; done`,
    'tc qdisc show 2>&1 | sed "s/^/@@qdisc /"',
    'iptables -S 2>&1 | sed "s/^/@@iptables /"',
    '',
  ].join('\n');
}

/** Leftovers in one node's audit output, in words; empty when clean. Pure. */
export function parseNodeAudit(node: string, output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const link = /^@@link (.*)$/.exec(line);
    if (link && (!/<[^>]*\bUP\b[^>]*>/.test(link[1]!) || /<[^>]*\bNO-CARRIER\b/.test(link[1]!))) out.push(`${node}: link not up: ${link[1]!.trim().replace(/\\\s+/g, ' ').slice(0, 160)}`);
    // The harness shapes traffic only with netem (heartbeat-degraded); a cluster's own tbf or htb is not ours.
    const qdisc = /^@@qdisc (qdisc netem .*)$/.exec(line);
    if (qdisc) out.push(`${node}: traffic shaping left: ${qdisc[1]!.trim()}`);
    const rule = /^@@iptables (-A .*)$/.exec(line);
    if (rule && new RegExp(`--comment "?${FAULT_RULE_TAG}"?( |$)`).test(rule[1]!)) out.push(`${node}: packet filter rule left: ${rule[1]!.trim()}`);
  }
  return out;
}

/** Audits every node (over SSH) and every BMC; an unreachable node is a finding too. */
export async function auditTarget(lab: FaultTarget): Promise<string[]> {
  const findings = await Promise.all(
    lab.plan.nodes.map(async (node) => {
      const nics = (['client', 'ring0', 'ring1', 'replication'] as const).map((role) => node.nic[role]);
      const r = await lab.ssh.root(node.name, nodeAuditScript(nics), { timeoutMs: 30_000, reject: false, phase: 'audit' });
      return r.ok ? parseNodeAudit(node.name, r.stdout) : [`${node.name}: cannot audit (${r.reason})`];
    }),
  );
  return [...findings.flat(), ...lab.power.flatMap((p) => p.knobs?.leftovers() ?? [])];
}
