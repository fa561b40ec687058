/**
 * The cluster's side of the power-device seam: the stonith resources (crm shell syntax) that
 * fence each node through its power device, and the credential files they read on every node.
 * IPMI: one `fence_ipmilan` device per node. PDU: one `fence_apc_snmp` device per power supply
 * (outlet); a node's devices form one fencing level, so Pacemaker switches every outlet off
 * before it switches any back on, and a node with two supplies really loses power.
 */
import type { LabPlan, NodePlan } from '../lab/lab-config.ts';

/** The file on each node holding a BMC's password, for fence_ipmilan's password_script. */
export function bmcPasswordFile(node: string): string {
  return `/etc/ha-chaos/bmc-${node}.pw`;
}

/** The file on each node holding a power device's password (a BMC's: {@link bmcPasswordFile}). */
export function powerPasswordFile(plan: LabPlan, device: string): string {
  const d = plan.powerDevices.find((x) => x.name === device);
  if (!d) throw new Error(`no power device ${device} in the plan`);
  return d.kind === 'ipmi' ? bmcPasswordFile(d.node) : `/etc/ha-chaos/pdu-${d.name}.pw`;
}

/** The stonith device names that fence `node`, in the order of its fencing level. */
export function fenceDevicesOf(plan: LabPlan, node: NodePlan): string[] {
  return plan.config.fencing.agent === 'fence_ipmilan' ? [`fence_${node.name}`] : node.supplies.map((s) => `fence_${node.name}_psu${s.index}`);
}

/**
 * The primitives and location constraints of every power device's stonith resources. `ops` is
 * the ` op ...` clause every stonith resource gets (explicit timeouts).
 */
export function renderFenceDevices(plan: LabPlan, node: NodePlan, ops: string): string[] {
  const { fencing } = plan.config;
  const delay = (first: boolean) => (node.index === 1 && first ? ` pcmk_delay_base=${fencing.delayNode1}` : '');
  const names = fenceDevicesOf(plan, node);
  if (fencing.agent === 'fence_ipmilan') {
    return [
      `primitive ${names[0]} stonith:fence_ipmilan params ip=${plan.bmcAddress} ipport=${node.bmcPort} username=${fencing.bmcUsername} password_script="cat ${bmcPasswordFile(node.name)}" lanplus=1 cipher=3 pcmk_host_list=${node.name}${delay(true)}${ops}`,
      `location l_${names[0]} ${names[0]} -inf: ${node.name}`,
    ];
  }
  return node.supplies.flatMap((supply, i) => {
    const device = plan.powerDevices.find((d) => d.name === supply.device)!;
    // The delay only on the first device of the level: Pacemaker waits it once per device.
    return [
      `primitive ${names[i]} stonith:fence_apc_snmp params ip=${plan.bmcAddress} ipport=${device.port} snmp_version=3 username=${fencing.bmcUsername} snmp_sec_level=authNoPriv snmp_auth_prot=SHA password_script="cat ${powerPasswordFile(plan, supply.device)}" plug=${supply.outlet} pcmk_host_list=${node.name}${delay(i === 0)}${ops}`,
      `location l_${names[i]} ${names[i]} -inf: ${node.name}`,
    ];
  });
}
