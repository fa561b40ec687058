/**
 * Provisioning: the bash script each node runs (as root, over SSH, on stdin) to become a cluster
 * member, and the scripts of the one-time cluster bootstrap. Rendered from the plan; secrets
 * travel inside the script on stdin, never on a command line.
 */
import { createHash } from 'node:crypto';
import { renderCib, renderCorosyncConf, CLIENTPING_AGENT_PATH, renderClientPingAgent, renderHosts, renderNetworkd } from './cluster-files.ts';
import { type LabSecrets } from '../cluster/lab-config.ts';
import { mailServiceOf } from '../mail/mail.ts';
import type { LabPlan, NodePlan } from '../cluster/lab-config.ts';
import { powerPasswordFile } from '../power/fence-resources.ts';
import { renderDrbdStoreInit } from '../storage/drbd.ts';
import { storeOf } from '../storage/storage.ts';

import { shellQuote as q } from '../core/shell-quote.ts';

/** A heredoc writing `content` to `path` with `mode`. */
function file(path: string, content: string, mode = '0644'): string {
  const tag = 'HACHAOS_EOF';
  if (content.includes(tag)) throw new Error(`content for ${path} contains the heredoc tag`);
  return `install -d "$(dirname ${q(path)})"\ncat > ${q(path)} <<'${tag}'\n${content}${content.endsWith('\n') ? '' : '\n'}${tag}\nchmod ${mode} ${q(path)}`;
}

/** The resource configuration in crm shell syntax, kept on the node (root only) as what was loaded. */
const cibFile = (plan: LabPlan) => file('/etc/ha-chaos/cluster.crm', renderCib(plan), '0600');

/** A hash of what provisioning writes: re-provision exactly when it changes. */
export function provisionHash(plan: LabPlan): string {
  // What is rendered, not only the plan: a changed config file or CIB makes a running lab stale.
  // Secrets are fixed placeholders here: they are per lab and never change under it.
  const placeholder: LabSecrets = { bmcPassword: '-', corosyncKey: '-', accounts: {} };
  const rendered = [JSON.stringify(plan), ...plan.nodes.map((n) => renderNodeProvision(plan, n, placeholder, '-')), renderCib(plan)];
  return createHash('sha256').update(rendered.join('\0')).digest('hex').slice(0, 12);
}

/** The node's provisioning script: networks, hosts, corosync, DRBD, fencing credentials, mail stack. */
export function renderNodeProvision(plan: LabPlan, node: NodePlan, secrets: LabSecrets, hash = provisionHash(plan)): string {
  const statics = (['client', 'ring0', 'ring1', 'replication'] as const).map((role) => file(`/etc/systemd/network/20-${role}.network`, renderNetworkd(node, role)));
  const bmcFiles = plan.powerDevices.map((d) => file(powerPasswordFile(plan, d.name), secrets.bmcPassword, '0600'));
  const boot = plan.config.cluster.startOnBoot ? 'enable' : 'disable';
  return [
    'set -euo pipefail',
    // A failed step names itself (the SSH error shows stderr): not just "exit code 1".
    `trap 'echo "provisioning failed at line $LINENO: $BASH_COMMAND" >&2' ERR`,
    'install -d -m 0700 /etc/ha-chaos',
    // networkd drops addresses it did not configure (the virtual IP) when it reconfigures a link:
    // on a node that already serves, reload only if a network file really changed.
    // Addresses the platform gave (the lane's docker networks) need no networkd.
    ...(plan.addressesGiven
      ? []
      : [
          'net_before=$( (cat /etc/systemd/network/20-*.network 2>/dev/null || true) | sha256sum)', // none yet on a fresh node
          ...statics,
          '[ "$net_before" = "$(cat /etc/systemd/network/20-*.network | sha256sum)" ] || networkctl reload',
        ]),
    `for i in $(seq 1 100); do ip -4 -o addr show | grep -F ' ${node.ip.replication}/' >/dev/null && break; sleep 0.1; done`,
    `ip -4 -o addr show | grep -F ' ${node.ip.replication}/' >/dev/null || { echo "static addresses did not come up" >&2; ip -o link >&2; exit 1; }`,
    file('/etc/hosts', renderHosts(plan)),
    file('/etc/corosync/corosync.conf', renderCorosyncConf(plan)),
    `echo ${q(secrets.corosyncKey)} | base64 -d > /etc/corosync/authkey && chmod 0400 /etc/corosync/authkey`,
    ...storeOf(plan).provision(plan, file),
    ...bmcFiles,
    file(CLIENTPING_AGENT_PATH, renderClientPingAgent(), '0755'),
    // The mail service (harness/mail/): the open stand-in, or Axigen from the user's package.
    ...mailServiceOf(plan).provision(plan, secrets, file),
    // Only when it changes: enable/disable runs the SysV compatibility scripts (perl), seconds under emulation.
    `[ "$(systemctl is-enabled pacemaker.service 2>/dev/null)" = ${boot === 'enable' ? 'enabled' : 'disabled'} ] || systemctl ${boot} corosync.service pacemaker.service 2>/dev/null`,
    `echo ${hash} > /etc/ha-chaos/provisioned`,
    '',
  ].join('\n');
}

/**
 * The mail service's layout of a new store, run where its file system is mounted (the stand-in:
 * each account's Maildir and the Postfix queue; Axigen: its working directory, domain and accounts).
 */
export function renderStoreLayout(plan: LabPlan): string[] {
  return mailServiceOf(plan).layout(plan);
}

/** The DRBD store's steps 1 and 2 (kept here for their tests): see storage/drbd.ts. */
export function renderStoreInit(plan: LabPlan): string {
  return renderDrbdStoreInit(renderStoreLayout(plan));
}

/** Step 3, every node: hand the store to Pacemaker and start the cluster stack. */
export function renderClusterStart(plan: LabPlan): string {
  return ['set -euo pipefail', ...storeOf(plan).beforeClusterStart(), 'systemctl start corosync.service pacemaker.service', ''].join('\n');
}

/**
 * The resource configuration rendered into CIB XML without a cluster (crmsh on an offline CIB),
 * printed on stdout. crmsh costs ~25 s of an emulated CPU per load, so the bootstrap runs this on
 * node2 while node1 lays out the store, and the load itself ({@link renderCibMerge}) is one
 * cibadmin call.
 */
export function renderCibOffline(plan: LabPlan): string {
  return [
    'set -euo pipefail',
    cibFile(plan),
    'offline=$(mktemp)',
    'trap \'rm -f "$offline"\' EXIT',
    'cibadmin --empty > "$offline"',
    'CIB_file="$offline" crm configure load update /etc/ha-chaos/cluster.crm >&2',
    'CIB_file="$offline" cibadmin --query --scope configuration',
    '',
  ].join('\n');
}

/**
 * Step 4, on node1 once both nodes are online: merge the configuration rendered offline into the
 * live CIB (creating what is missing; the nodes and the cluster's own properties stay).
 */
export function renderCibMerge(plan: LabPlan, configurationXml: string): string {
  if (!/^\s*<configuration[\s>]/.test(configurationXml) || !/<\/configuration>\s*$/.test(configurationXml)) {
    throw new Error(`the offline CIB rendering did not print a <configuration> element: ${configurationXml.slice(0, 200)}`);
  }
  return [
    'set -euo pipefail',
    cibFile(plan),
    file('/etc/ha-chaos/cib-configuration.xml', `${configurationXml.trim()}\n`, '0600'),
    'cibadmin --modify --allow-create --scope configuration --xml-file /etc/ha-chaos/cib-configuration.xml',
    'touch /etc/ha-chaos/bootstrapped',
    '',
  ].join('\n');
}

/** On node1, when the lab's configuration changed under a running lab: load the resource configuration. */
export function renderCibLoad(plan: LabPlan): string {
  return ['set -euo pipefail', cibFile(plan), 'crm configure load update /etc/ha-chaos/cluster.crm', 'touch /etc/ha-chaos/bootstrapped', ''].join('\n');
}
