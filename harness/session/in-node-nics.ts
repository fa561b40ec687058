/**
 * NIC loss on a cluster without a hypervisor: the node's own link is set down (`ip link set dev
 * <nic> down`, run as root over SSH through the management address, which no role uses). The
 * kernel drops the interface's routes and stops sending and receiving on it, as with a dead
 * switch port, but it is the node's administrative state, not a pulled cable: the report says so.
 * The heal sets the link up again; a node rebooted meanwhile brought it up itself.
 */
import type { NodeShell } from '../cluster/ssh.ts';
import type { NicControl } from './target.ts';
import type { ClusterPlan, NicRole } from '../cluster/plan.ts';

/** The script that sets the links of `nics` down or up. Pure. */
export function linkScript(nics: readonly string[], state: 'up' | 'down'): string {
  return `${nics.map((nic) => `ip link set dev ${nic} ${state}`).join(' && ')} && echo done`;
}

export function inNodeNics(plan: ClusterPlan, ssh: NodeShell): NicControl {
  const nicsOf = (name: string, roles: readonly NicRole[]) => {
    const node = plan.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name} in the target`);
    return roles.map((role) => {
      const nic = node.nic[role];
      if (!nic) throw new Error(`${name} has no ${role} interface in the target file`);
      return nic;
    });
  };
  return {
    method: 'link set down inside the node (ip link set down: not a pulled cable)',
    async cut(node, roles, phase) {
      await ssh.root(node, linkScript(nicsOf(node, roles), 'down'), { timeoutMs: 30_000, phase });
    },
    async restore(node, roles, phase) {
      // A node that does not answer (fenced, rebooting) brings its links up when it boots.
      const r = await ssh.root(node, linkScript(nicsOf(node, roles), 'up'), { timeoutMs: 60_000, phase, reject: false });
      // ssh's own failure (exit 255) or a timeout: the node is away; anything else is the command's failure.
      if (!r.ok && r.exitCode !== 255 && !r.timedOut) throw new Error(`could not set the links of ${node} up: ${r.reason}`);
    },
    async leftovers(node, roles) {
      const nics = nicsOf(node, roles);
      const r = await ssh.root(node, nics.map((nic) => `echo "${nic} $(cat /sys/class/net/${nic}/operstate 2>&1)"`).join('; '), { timeoutMs: 30_000, phase: 'audit', reject: false });
      if (!r.ok) return [`${node}: cannot read its links (${r.reason})`];
      return r.stdout
        .trim()
        .split('\n')
        .filter((line) => !/ up$/.test(line))
        .map((line) => `${node} ${line} (not up)`);
    },
  };
}
