/**
 * The hypervisor's hold on the lab's nodes (libvirt, through `virsh`): a machine's state, pause and
 * resume (a freeze), disk hot-unplug and plug-back, and each NIC's carrier (a pulled cable). Only
 * the lab has these; an existing cluster's faults that need them are not applicable there.
 */
import type { MachineControl, NicControl } from '../session/target.ts';
import type { NicRole } from '../cluster/plan.ts';
import { virsh } from './host.ts';
import type { LabPlan, NodePlan } from '../cluster/lab-config.ts';

function nodeOf(plan: LabPlan, name: string): NodePlan {
  const node = plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in the lab`);
  return node;
}

/** `virsh domblklist --details` rows: type, device, target, source. Target -> source of the disks. Pure. */
export function parseDomBlkList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 4 && cols[1] === 'disk' && cols[3] !== '-') out[cols[2]!] = cols.slice(3).join(' ');
  }
  return out;
}

/** The lab's VMs as machines the hypervisor holds. */
export function labMachines(plan: LabPlan): MachineControl {
  const domain = (node: string) => nodeOf(plan, node).domain;
  return {
    async state(node) {
      const r = await virsh(['domstate', domain(node)], { timeoutMs: 30_000, reject: false, node: 'host', phase: 'machine' });
      return r.ok ? r.stdout.trim() : `unknown (${r.reason})`;
    },
    async pause(node) {
      await virsh(['suspend', domain(node)], { timeoutMs: 30_000, node: 'host', phase: 'fault' });
    },
    async resume(node) {
      await virsh(['resume', domain(node)], { timeoutMs: 30_000, node: 'host', phase: 'heal' });
    },
    async disks(node) {
      return parseDomBlkList((await virsh(['domblklist', domain(node), '--details'], { timeoutMs: 30_000, node: 'host', phase: 'fault' })).stdout);
    },
    async unplugDisk(node, target) {
      await virsh(['detach-disk', domain(node), target, '--live'], { timeoutMs: 60_000, node: 'host', phase: 'fault' });
    },
    async plugDisk(node, source, target, options) {
      const driver = ['--subdriver', options.format, ...(options.shared ? ['--cache', 'none', '--mode', 'shareable'] : [])];
      await virsh(['attach-disk', domain(node), source, target, '--live', '--targetbus', 'virtio', ...driver], { timeoutMs: 60_000, node: 'host', phase: 'heal' });
    },
  };
}

/** NIC loss in the lab: the carrier of the node's NIC set at the hypervisor, a pulled cable; the node's OS sees only the carrier go. */
export function labNics(plan: LabPlan): NicControl {
  const set = async (name: string, roles: readonly NicRole[], state: 'up' | 'down', phase: string) => {
    const node = nodeOf(plan, name);
    for (const role of roles) await virsh(['domif-setlink', node.domain, node.mac[role], state], { timeoutMs: 30_000, node: 'host', phase });
  };
  return {
    method: 'carrier cut at the hypervisor (virsh domif-setlink: a pulled cable)',
    cut: (node, roles, phase) => set(node, roles, 'down', phase),
    restore: (node, roles, phase) => set(node, roles, 'up', phase),
    async leftovers(name, roles) {
      const node = nodeOf(plan, name);
      const out: string[] = [];
      for (const role of roles) {
        const r = await virsh(['domif-getlink', node.domain, node.mac[role]], { timeoutMs: 30_000, node: 'host', phase: 'audit', reject: false });
        if (!r.ok || !/\bup\b/.test(r.stdout)) out.push(`${name} ${node.nic[role]} (${role}): link ${r.ok ? r.stdout.trim() : r.reason}`);
      }
      return out;
    },
  };
}
