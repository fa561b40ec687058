/**
 * The power seam's half of a lab plan: each node's supplies, and the devices the lab runs for
 * them (a BMC per node with fence_ipmilan; one or two PDUs with fence_apc_snmp).
 */
import type { LabConfig, LabPlan, NodePlan, PowerDevicePlan, SupplyPlan } from '../cluster/lab-config.ts';
import type { StartedVirtualBmc } from '../bmc/virtual-bmc.ts';
import { BmcNodePower, PduNodePower, TwoLevelNodePower, type NodePower } from './power-device.ts';
import type { StartedVirtualPdu } from './virtual-pdu.ts';

/** The lab's fencing levels in order: its BMCs, its PDUs, or the BMCs first and the PDUs second. Pure. */
export function fencingLevels(config: LabConfig): Array<'ipmi' | 'pdu'> {
  if (config.fencing.agent === 'fence_apc_snmp') return ['pdu'];
  return config.fencing.secondLevel ? ['ipmi', 'pdu'] : ['ipmi'];
}

/** The power devices the lab runs on the host for `nodes`: a BMC per node, PDUs, or both. Pure. */
export function planPowerDevices(config: LabConfig, nodes: ReadonlyArray<{ name: string; bmcPort: number; supplies: SupplyPlan[] }>): PowerDevicePlan[] {
  const levels = fencingLevels(config);
  return [
    ...(levels.includes('ipmi') ? nodes.map((n) => ({ kind: 'ipmi' as const, name: n.name, node: n.name, port: n.bmcPort })) : []),
    ...(!levels.includes('pdu')
      ? []
      : Array.from({ length: config.fencing.pdus ?? 1 }, (_, i) => ({
          kind: 'pdu' as const,
          name: `pdu${i + 1}`,
          port: config.fencing.bmcPortBase + 11 + i,
          outlets: nodes
            .flatMap((n) => n.supplies.filter((s) => s.device === `pdu${i + 1}`).map((s) => ({ outlet: s.outlet!, node: n.name, label: s.label })))
            .sort((a, b) => a.outlet - b.outlet),
        }))),
  ];
}

/**
 * A node's supplies: its BMC; or with PDUs (alone or as the second level), supply s of node i on
 * outlet i + 2(s-1) of one PDU (node1: 1 and 3, node2: 2 and 4), or with two PDUs, supply s on
 * PDU s, outlet i. With both levels the BMC is no supply of its own: it switches the chassis the
 * outlets feed (see power-log.ts).
 */
export function planSupplies(config: LabConfig, index: number): SupplyPlan[] {
  const name = `node${index}`;
  if (!fencingLevels(config).includes('pdu')) return [{ device: name, id: 'bmc', label: `${name}-bmc`, index: 1 }];
  const pdus = config.fencing.pdus ?? 1;
  return Array.from({ length: config.fencing.powerSupplies ?? 1 }, (_, i) => {
    const device = pdus === 2 ? `pdu${i + 1}` : 'pdu1';
    const outlet = pdus === 2 ? index : index + 2 * i;
    return { device, outlet, id: `${device}:${outlet}`, label: `${name}-psu${i + 1}`, index: i + 1 };
  });
}

/** Each node's power from the lab's started devices: its own BMC, the PDUs that feed one of its outlets, or both as two levels. */
export function labNodePower(plan: LabPlan, bmcOf: (node: string) => StartedVirtualBmc, pdus: readonly StartedVirtualPdu[]): NodePower[] {
  const levels = fencingLevels(plan.config);
  return plan.nodes.map((n) => {
    const bmc = () => new BmcNodePower(bmcOf(n.name));
    const outlets = () => new PduNodePower(n.name, pdus.filter((p) => p.outletsOf(n.name).length));
    if (levels.length === 2) return new TwoLevelNodePower(bmc(), outlets());
    return levels[0] === 'ipmi' ? bmc() : outlets();
  });
}

/** A node's `power` in a target file that describes the lab as hardware: its BMC, its PDU outlets, or both (two levels). */
export function targetFilePower(plan: LabPlan, node: NodePlan, password: { passwordFile: string }): { ipmi?: { address: string; port: number; username: string; password: { passwordFile: string } }; pdu?: { outlets: Array<{ pdu: string; outlet: number }> } } {
  const levels = fencingLevels(plan.config);
  return {
    ...(levels.includes('ipmi') ? { ipmi: { address: plan.bmcAddress, port: node.bmcPort, username: plan.config.fencing.bmcUsername, password } } : {}),
    ...(levels.includes('pdu') ? { pdu: { outlets: node.supplies.map((s) => ({ pdu: s.device, outlet: s.outlet! })) } } : {}),
  };
}
