/**
 * The cluster's side of the power-device seam: the stonith resources (crm shell syntax) that
 * fence each node through its power device, and the credential files they read on every node.
 * IPMI: one `fence_ipmilan` device per node. PDU: one `fence_apc_snmp` device per power supply
 * (outlet); a node's devices form one fencing level, so Pacemaker switches every outlet off
 * before it switches any back on, and a node with two supplies really loses power. Both: the BMC
 * is level 1, the outlets level 2 (Pacemaker tries level 2 when level 1 fails).
 */
import type { LabPlan, NodePlan } from '../cluster/lab-config.ts';
import { fencingLevels } from './power-plan.ts';

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

/** The stonith device names that fence `node`: one list per fencing level, in the order Pacemaker tries them. Pure. */
export function fenceLevelsOf(plan: LabPlan, node: NodePlan): string[][] {
  return fencingLevels(plan.config).map((level) => (level === 'ipmi' ? [`fence_${node.name}`] : node.supplies.map((s) => `fence_${node.name}_psu${s.index}`)));
}

/** A power fence device as the cluster should hold it: its resource id, agent, the node it fences and its parameters. */
export interface FenceDeviceSpec {
  id: string;
  /** The fence agent, e.g. `fence_ipmilan`. */
  agent: string;
  /** The node it powers off (pcmk_host_list). */
  node: string;
  /** Its instance attributes, as the CIB holds them (values unquoted). */
  params: Record<string, string>;
}

/**
 * The power fence devices of `node` as the plan makes them, level by level. node1's first device
 * of each level waits `delayNode1` (Pacemaker waits a device's delay once per use): when both
 * nodes fence at once through the same level, node1 survives. Pure.
 */
export function fenceDeviceSpecs(plan: LabPlan, node: NodePlan): FenceDeviceSpec[] {
  const { fencing } = plan.config;
  const delay = (first: boolean): Record<string, string> => (node.index === 1 && first ? { pcmk_delay_base: fencing.delayNode1 } : {});
  return fencingLevels(plan.config).flatMap((level, l) => {
    const names = fenceLevelsOf(plan, node)[l]!;
    if (level === 'ipmi') {
      return [
        {
          id: names[0]!,
          agent: 'fence_ipmilan',
          node: node.name,
          params: { ip: plan.bmcAddress, ipport: String(node.bmcPort), username: fencing.bmcUsername, password_script: `cat ${bmcPasswordFile(node.name)}`, lanplus: '1', cipher: '3', pcmk_host_list: node.name, ...delay(true) },
        },
      ];
    }
    return pduDeviceSpecs(plan, node, names, delay);
  });
}

function pduDeviceSpecs(plan: LabPlan, node: NodePlan, names: string[], delay: (first: boolean) => Record<string, string>): FenceDeviceSpec[] {
  const { fencing } = plan.config;
  return node.supplies.map((supply, i) => {
    const device = plan.powerDevices.find((d) => d.name === supply.device)!;
    // The delay only on the first device of the level: Pacemaker waits it once per device.
    return {
      id: names[i]!,
      agent: 'fence_apc_snmp',
      node: node.name,
      params: {
        ip: plan.bmcAddress,
        ipport: String(device.port),
        snmp_version: '3',
        username: fencing.bmcUsername,
        snmp_sec_level: 'authNoPriv',
        snmp_auth_prot: 'SHA',
        password_script: `cat ${powerPasswordFile(plan, supply.device)}`,
        plug: String(supply.outlet),
        pcmk_host_list: node.name,
        ...delay(i === 0),
      },
    };
  });
}

/** A parameter for crm shell syntax: quoted when it holds a space. */
const crmValue = (value: string) => (/\s/.test(value) ? `"${value}"` : value);

/**
 * The primitives and location constraints of every power device's stonith resources. `ops` is
 * the ` op ...` clause every stonith resource gets (explicit timeouts).
 */
export function renderFenceDevices(plan: LabPlan, node: NodePlan, ops: string): string[] {
  return fenceDeviceSpecs(plan, node).flatMap((d) => [
    `primitive ${d.id} stonith:${d.agent} params ${Object.entries(d.params)
      .map(([k, v]) => `${k}=${crmValue(v)}`)
      .join(' ')}${ops}`,
    `location l_${d.id} ${d.id} -inf: ${node.name}`,
  ]);
}
