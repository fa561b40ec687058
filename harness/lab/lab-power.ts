/** The lab's power devices on the host: started (or found running) and attached, per node. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { parseBmcConfig } from '../bmc/bmc-config.ts';
import { machineIdentity } from '../bmc/machine-identity.ts';
import { StartedVirtualBmc, VirtualBmc } from '../bmc/virtual-bmc.ts';
import type { LabPlan } from '../cluster/lab-config.ts';
import type { NodePower } from '../power/power-device.ts';
import { labNodePower } from '../power/power-plan.ts';
import { StartedVirtualPdu, VirtualPdu } from '../power/virtual-pdu.ts';

/** Each node's power, from devices started by this or another process. */
export function attachLabPower(plan: LabPlan, placement: { stateRoot: string; log: Logger }): NodePower[] {
  const pdus = plan.powerDevices.filter((d) => d.kind === 'pdu').map((d) => StartedVirtualPdu.attach(d.name, placement));
  return labNodePower(plan, (node) => StartedVirtualBmc.attach(node, placement), pdus);
}

/**
 * Starts every power device of the plan that does not run (BMCs, or PDUs), all with the lab's one
 * device password; a running BMC that answers for another machine than its VM now is restarts.
 */
export async function startLabPower(plan: LabPlan, password: string, options: { stateRoot: string; log: Logger; session: string }): Promise<NodePower[]> {
  const placement = { stateRoot: options.stateRoot, log: options.log };
  const bmcs = new Map<string, StartedVirtualBmc>();
  const pdus: StartedVirtualPdu[] = [];
  for (const device of plan.powerDevices) {
    if (device.kind === 'ipmi') {
      const node = plan.nodes.find((n) => n.name === device.node)!;
      const existing = existsSync(join(options.stateRoot, 'bmc', device.name, 'bmc.json')) ? StartedVirtualBmc.attach(device.name, placement) : undefined;
      if (existing?.isRunning()) {
        // A BMC answers with its machine's identity; a VM made anew since it started has another: restart it.
        const identity = await machineIdentity({ kind: 'libvirt', domain: node.domain }, options.log);
        if (identity === existing.record.identity) {
          bmcs.set(device.node, existing);
          continue;
        }
        options.log.info(`the BMC of ${device.node} answers for another machine than ${node.domain} now is: restarting it`);
        await existing.stop();
      }
      const config = parseBmcConfig(
        { name: device.name, address: plan.bmcAddress, port: device.port, username: plan.config.fencing.bmcUsername, password, target: { kind: 'libvirt', domain: node.domain } },
        `BMC of ${device.node}`,
      );
      bmcs.set(device.node, await new VirtualBmc(config, { ...placement, session: options.session }).start());
    } else {
      const existing = existsSync(join(options.stateRoot, 'pdu', device.name, 'pdu.json')) ? StartedVirtualPdu.attach(device.name, placement) : undefined;
      if (existing?.isRunning()) {
        pdus.push(existing);
        continue;
      }
      const outlets = device.outlets.map((o) => ({ ...o, target: { kind: 'libvirt' as const, domain: plan.nodes.find((n) => n.name === o.node)!.domain } }));
      // Every supply of each node, on either PDU: a node on two PDUs is off only when both outlets are.
      const supplies = Object.fromEntries(plan.nodes.map((n) => [n.name, n.supplies.map((x) => x.id)]));
      const config = { name: device.name, address: plan.bmcAddress, port: device.port, username: plan.config.fencing.bmcUsername, password, outlets, supplies };
      pdus.push(await new VirtualPdu(config, { ...placement, session: options.session }).start());
    }
  }
  return labNodePower(plan, (node) => bmcs.get(node)!, pdus);
}
