/**
 * The running lab described as if it were hardware: a target file (schemas/target.schema.json)
 * naming each node's SSH address, the interfaces of each role, and its BMC's address, and no
 * libvirt, no Vagrant. `certify --target` on it exercises the existing-cluster path end to end:
 * the harness reaches the nodes over SSH alone, powers them through their BMCs over IPMI and their
 * PDU outlets over SNMP alone, and cuts NICs inside the nodes. The secrets go in files beside it (mode 0600), never inline.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TargetFile } from '../cluster/target-file.ts';
import type { LabPlan } from '../cluster/lab-config.ts';
import type { SshHost } from '../cluster/ssh.ts';
import { writePrivateFile } from '../core/host-files.ts';
import { ensureStateDir } from '../core/paths.ts';
import { targetFilePower } from '../power/power-plan.ts';
import { storeOf } from '../storage/storage.ts';

/** The target file of the lab: `hosts` from its ssh_config, the files the secrets are in. Pure. */
export function renderLabTargetFile(plan: LabPlan, hosts: SshHost[], files: { key: string; bmcPassword: string; accounts: string; knownHosts?: string }): TargetFile {
  const password = { passwordFile: files.bmcPassword };
  const pdus = plan.powerDevices.flatMap((d) => (d.kind === 'pdu' ? [d] : []));
  return {
    name: `${plan.prefix}cluster`,
    storage: plan.storage,
    virtualIp: plan.virtualIp,
    // The lab's own pinned host keys: a new lab (new VMs, new keys) is not refused as a changed host.
    ssh: { user: 'root', key: files.key, ...(files.knownHosts ? { knownHosts: files.knownHosts } : {}) },
    mail: { domain: plan.mailDomain, service: plan.mailService, accounts: { file: files.accounts } },
    ...(pdus.length ? { pdus: Object.fromEntries(pdus.map((d) => [d.name, { address: plan.bmcAddress, port: d.port, username: plan.config.fencing.bmcUsername, password }])) } : {}),
    nodes: plan.nodes.map((node) => {
      const host = hosts.find((h) => h.name === node.name);
      if (!host) throw new Error(`no SSH address of ${node.name} in the lab's ssh_config: is the lab up?`);
      const power = targetFilePower(plan, node, password);
      return {
        name: node.name,
        ssh: { address: host.hostName, port: host.port },
        nics: { client: node.nic.client, ring0: node.nic.ring0, ring1: node.nic.ring1, ...(storeOf(plan).replicationLink ? { replication: node.nic.replication } : {}) },
        power,
      };
    }),
    waits: { clusterReadyS: plan.config.waits.clusterReadyS },
  };
}

/** Writes the lab's target file and its secret files into `dir`; resolves the target file's path. */
export function writeLabTargetFile(dir: string, plan: LabPlan, hosts: SshHost[], key: string, secrets: { bmcPassword: string; accounts: Record<string, string> }, knownHosts?: string): string {
  ensureStateDir(dir);
  const files = { key, bmcPassword: join(dir, 'bmc-password'), accounts: join(dir, 'accounts'), knownHosts };
  writePrivateFile(files.bmcPassword, `${secrets.bmcPassword}\n`, 0o600);
  writePrivateFile(files.accounts, `${Object.entries(secrets.accounts).map(([u, p]) => `${u} ${p}`).join('\n')}\n`, 0o600);
  chmodSync(files.bmcPassword, 0o600);
  chmodSync(files.accounts, 0o600);
  const file = join(dir, 'cluster.yaml');
  const header = `# ha-chaos target file: lab ${plan.config.name} described as if it were hardware (written by ha-chaos lab target-file).\n# No libvirt or Vagrant in it: certify --target ${file} reaches the nodes over SSH and their BMCs over IPMI only.\n`;
  writePrivateFile(file, header + stringify(renderLabTargetFile(plan, hosts, files)), 0o600);
  return file;
}
