/** The lab's plan: every name and address derived from a lab config (the lab's VMs and the container lane share it). */
import { createHash } from 'node:crypto';
import { STORE_DM_NAME } from '../storage/device-mapper.ts';
import { NIC_ORDER, type LabConfig, type LabPlan, type NetworkRole } from '../cluster/lab-config.ts';
import { planPowerDevices, planSupplies } from '../power/power-plan.ts';

function mac(labName: string, subnet: number, node: number): string {
  const h = createHash('sha256').update(labName).digest();
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${hex(h[0]!)}:${hex(subnet)}:${hex(node)}`;
}

/** Derives every name and address from the config. Pure. */
export function planLab(config: LabConfig): LabPlan {
  const prefix = `hachaos-${config.name}-`;
  const { prefix: net, subnets } = config.network;
  const networks = NIC_ORDER.map((role) => ({
    role,
    libvirtName: `${prefix}${role}`,
    cidr: `${net}.${subnets[role]}.0/24`,
    hostIp: `${net}.${subnets[role]}.1`,
  }));
  const nodes = [1, 2].map((index) => {
    const name = `node${index}`;
    const addr = (role: NetworkRole) => `${net}.${subnets[role]}.${10 + index}`;
    return {
      name,
      index,
      domain: `${prefix}${name}`,
      ip: { client: addr('client'), ring0: addr('ring0'), ring1: addr('ring1'), replication: addr('replication') },
      mac: Object.fromEntries(NIC_ORDER.map((role) => [role, mac(config.name, subnets[role], index)])) as Record<NetworkRole, string>,
      nic: Object.fromEntries(NIC_ORDER.map((role, i) => [role, `eth${i}`])) as Record<NetworkRole, string>,
      bmcPort: config.fencing.bmcPortBase + index,
      supplies: planSupplies(config, index),
    };
  });
  const powerDevices = planPowerDevices(config, nodes);
  return {
    name: config.name,
    storage: config.storage,
    mailDomain: config.mail.domain,
    mailService: config.mail.package ? 'axigen' : 'postfix-dovecot',
    // The store's disk sits on the lab's own dm device on each node (storage/device-mapper.ts):
    // DRBD's backing disk, or the node's path to the shared disk.
    storeDm: STORE_DM_NAME,
    config,
    prefix,
    networks,
    nodes,
    virtualIp: `${net}.${subnets.client}.${config.network.virtualIpHost}`,
    bmcAddress: `${net}.${subnets.management}.1`,
    powerDevices,
  };
}
