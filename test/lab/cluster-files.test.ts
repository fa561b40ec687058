import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderCib, renderCorosyncConf, renderNetworkd } from '../../harness/provision/cluster-files.ts';
import { renderDrbdResource } from '../../harness/storage/drbd.ts';
import { renderDovecotConf, renderDovecotDropIn, renderDovecotUsers, postfixSettings } from '../../harness/mail/postfix-dovecot.ts';
import { provisionHash, renderCibMerge, renderCibOffline, renderNodeProvision, renderStoreInit } from '../../harness/provision/provision.ts';

const plan = planLab(loadLabConfig());
const secrets = { bmcPassword: 'BmcPw-123456', corosyncKey: 'a2V5', accounts: { user1: 'pw-user-1' } };

test('corosync: two knet links, one per heartbeat NIC, two_node quorum, the configured token', (t) => {
  const conf = renderCorosyncConf(plan);
  t.regex(conf, /transport: knet/);
  t.regex(conf, /token: 3000/);
  t.regex(conf, /two_node: 1/);
  t.regex(conf, /name: node1\n {4}nodeid: 1\n {4}ring0_addr: 10\.213\.20\.11\n {4}ring1_addr: 10\.213\.30\.11/);
  t.is(conf.match(/linknumber:/g)?.length, 2);
});

test('DRBD: protocol C on the dedicated disk, over the replication network, fencing through Pacemaker', (t) => {
  const res = renderDrbdResource(plan);
  t.regex(res, /protocol C;/);
  t.regex(res, /net \{\n(?: {4}#.*\n)* {4}ping-int 3;\n/);
  t.notRegex(res, /^\s*ping-timeout/m, "DRBD's default ping-timeout (see the comment in drbd.ts)");
  // The dedicated disk behind the lab's dm device (the disk faults swap its table), on-io-error said.
  t.regex(res, /disk \/dev\/mapper\/hachaos-store;/);
  t.regex(res, /on-io-error detach;/);
  t.regex(res, /on node2 \{\n {4}address 10\.213\.40\.12:7789;/);
  t.regex(res, /fencing resource-and-stonith;/);
  t.regex(res, /fence-peer "\/usr\/lib\/drbd\/crm-fence-peer.sh"/);
});

test('CIB: promotable DRBD, the store group (fs, IP) tied to the promoted node, each mail service after it on its own; one IPMI device per node, delayed for node1 only', (t) => {
  const cib = renderCib(plan);
  t.regex(cib, /clone ms_drbd_mail drbd_mail meta promotable=true promoted-max=1/);
  t.regex(cib, /^group g_mail fs_mail vip$/m);
  for (const name of ['smtp', 'imap']) {
    t.regex(cib, new RegExp(`^colocation c_${name}_with_store inf: ${name} g_mail$`, 'm'));
    t.regex(cib, new RegExp(`^order o_store_before_${name} Mandatory: g_mail ${name}$`, 'm'));
  }
  t.regex(cib, /^colocation c_mail_on_drbd_primary inf: g_mail ms_drbd_mail:Promoted$/m);
  t.regex(cib, /^order o_drbd_before_mail Mandatory: ms_drbd_mail:promote g_mail:start$/m);
  t.regex(cib, /stonith-enabled=true stonith-timeout=120s/);
  t.regex(cib, /load-threshold=400%/);
  t.regex(cib, /primitive fence_node1 stonith:fence_ipmilan params ip=10\.213\.1\.1 ipport=6231 .*cipher=3 pcmk_host_list=node1 pcmk_delay_base=5s/);
  t.notRegex(cib.split('\n').find((l) => l.startsWith('primitive fence_node2'))!, /pcmk_delay_base/);
  t.regex(cib, /^location l_fence_node1 fence_node1 -inf: node1$/m);
  t.regex(cib, /password_script="cat \/etc\/ha-chaos\/bmc-node1.pw"/);
  t.regex(cib, /primitive vip ocf:heartbeat:IPaddr2 params ip=10\.213\.10\.100 cidr_netmask=24 nic=eth1/);
  t.regex(cib, /^primitive smtp ocf:hachaos:postfix op start timeout=180s op stop timeout=90s op monitor interval=30s timeout=90s$/m);
});

test('CIB: every operation of every resource has an explicit timeout from the lab config (stonith start included); intervals too', (t) => {
  const cib = renderCib(plan);
  const primitives = cib.split('\n').filter((l) => l.startsWith('primitive '));
  t.is(primitives.length, 10);
  for (const line of primitives) {
    const ops = [...line.matchAll(/ op (\w+)((?: \w+=\S+)*)/g)];
    t.true(ops.length >= 3, `${line.split(' ')[1]} has start, stop and monitor`);
    for (const op of ops) t.regex(op[2]!, /timeout=\d+s/, `${line.split(' ')[1]} ${op[1]}`);
    t.true(['start', 'stop', 'monitor'].every((name) => ops.some((o) => o[1] === name)), line.split(' ')[1]);
  }
  t.regex(cib, /^primitive fence_node2 stonith:fence_ipmilan .* op start timeout=90s op stop timeout=60s op monitor interval=300s timeout=60s$/m);
  t.regex(cib, /^primitive drbd_mail .* op notify timeout=90s op monitor interval=59s role=Promoted timeout=60s op monitor interval=61s role=Unpromoted timeout=60s$/m);
  const slower = renderCib(planLab({ ...plan.config, cluster: { ...plan.config.cluster, monitorIntervals: { stonith: '600s' }, operationTimeouts: { ...plan.config.cluster.operationTimeouts, stonithStart: '45s' } } }));
  t.regex(slower, /^primitive fence_node2 .* op start timeout=45s op stop timeout=60s op monitor interval=600s timeout=60s$/m);
});

test('CIB: the mail service runs only where the client network answers (ping clone, -inf rule)', (t) => {
  const cib = renderCib(plan);
  t.regex(cib, /^primitive client_ping ocf:hachaos:clientping params host_list=10\.213\.10\.1 multiplier=1000 dampen=5s op start timeout=60s op stop timeout=60s op monitor interval=10s timeout=60s$/m);
  t.regex(cib, /^clone cl_client_ping client_ping$/m);
  t.regex(cib, /^location l_mail_needs_clients g_mail rule -inf: not_defined pingd or pingd lte 0$/m);
});

test('CIB: each fencing level runs the ring ping heuristic on the fencer before the BMC device', (t) => {
  const cib = renderCib(plan);
  t.regex(cib, /^primitive ping_node1 stonith:fence_heuristics_ping params ping_targets=10\.213\.20\.1,10\.213\.30\.1 ping_maxfail=1 .*pcmk_host_list=node1 /m);
  t.regex(cib, /^location l_ping_node2 ping_node2 -inf: node2$/m);
  t.regex(cib, /^fencing_topology node1: ping_node1,fence_node1 node2: ping_node2,fence_node2$/m);
});

test('CIB: without the ping heuristic, no topology and no heuristic devices', (t) => {
  const cib = renderCib(planLab({ ...plan.config, fencing: { ...plan.config.fencing, pingHeuristic: false } }));
  t.notRegex(cib, /fence_heuristics_ping|fencing_topology/);
  t.regex(cib, /^primitive fence_node2 stonith:fence_ipmilan/m);
});

test('Dovecot: logs to the journal, fsyncs its indexes, and clears stale dotlocks in the store before it starts', (t) => {
  t.notRegex(renderDovecotConf(), /^log_path/m);
  t.regex(renderDovecotConf(), /^mail_fsync = always$/m);
  t.is(renderDovecotDropIn(), '[Service]\nExecStartPre=-/usr/bin/find /srv/mail/vmail -name dovecot*.lock -type f -print -delete\n');
});

test('the provisioning hash follows what is rendered, not only the plan', (t) => {
  const other = planLab({ ...plan.config, cluster: { ...plan.config.cluster, operationTimeouts: { ...plan.config.cluster.operationTimeouts, mailStart: '121s' } } });
  t.not(provisionHash(plan), provisionHash(other));
  t.is(provisionHash(plan), provisionHash(planLab(loadLabConfig())));
  t.regex(renderNodeProvision(plan, plan.nodes[0]!, secrets), new RegExp(`echo ${provisionHash(plan)} > /etc/ha-chaos/provisioned`));
});

test('re-provisioning a serving node reloads networkd only when a network file changed (a reload drops the virtual IP)', (t) => {
  const script = renderNodeProvision(plan, plan.nodes[0]!, secrets);
  const before = script.indexOf('net_before=');
  const firstNetworkFile = script.indexOf('/etc/systemd/network/20-client.network');
  t.true(before >= 0 && before < firstNetworkFile);
  t.regex(script, /^\[ "\$net_before" = "\$\(cat \/etc\/systemd\/network\/20-\*\.network \| sha256sum\)" \] \|\| networkctl reload$/m);
  t.notRegex(script, /^networkctl reload$/m);
});

test('the network-file fingerprint survives a fresh node with no network files yet (set -euo pipefail)', async (t) => {
  const line = renderNodeProvision(plan, plan.nodes[0]!, secrets)
    .split('\n')
    .find((l) => l.startsWith('net_before='))!
    .replace('/etc/systemd/network/', `${mkdtempSync(join(tmpdir(), 'ha-chaos-net-'))}/`);
  const r = await run('bash', ['-c', `set -euo pipefail; ${line}; echo "fingerprint $net_before"`], { timeoutMs: 10_000, reject: false });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^fingerprint [0-9a-f]{64} {2}-$/);
});

test('networkd matches NICs by MAC and keeps their addresses through a carrier loss', (t) => {
  t.is(
    renderNetworkd(plan.nodes[1]!, 'ring1'),
    `[Match]\nMACAddress=${plan.nodes[1]!.mac.ring1}\n\n[Link]\nRequiredForOnline=no\n\n[Network]\nAddress=10.213.30.12/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\n`,
  );
});

test('mail: the Postfix queue and the mailboxes live on the replicated store', (t) => {
  const settings = postfixSettings(plan);
  t.true(settings.includes('queue_directory=/srv/mail/postfix'));
  t.true(settings.includes('virtual_mailbox_base=/srv/mail/vmail'));
  t.is(renderDovecotUsers(secrets), 'user1:{PLAIN}pw-user-1\n');
});

test('provisioning keeps the BMC password off the CIB and in root-only files', (t) => {
  t.false(renderCib(plan).includes(secrets.bmcPassword));
  const script = renderNodeProvision(plan, plan.nodes[0]!, secrets);
  t.regex(script, /cat > '\/etc\/ha-chaos\/bmc-node2.pw' <<'HACHAOS_EOF'\nBmcPw-123456\nHACHAOS_EOF\nchmod 0600/);
  t.regex(script, /postconf -F '\*\/\*\/chroot = n'/);
  t.regex(renderStoreInit(plan), /--clear-bitmap new-current-uuid mail/);
});

test('CIB bootstrap: rendered offline by crmsh (no cluster), merged into the live CIB by one cibadmin call; output that is not a <configuration> element is refused', (t) => {
  const offline = renderCibOffline(plan);
  t.regex(offline, /cibadmin --empty > "\$offline"/);
  t.regex(offline, /CIB_file="\$offline" crm configure load update \/etc\/ha-chaos\/cluster\.crm >&2/);
  t.regex(offline, /CIB_file="\$offline" cibadmin --query --scope configuration/);
  t.true(offline.includes(renderCib(plan)));
  const xml = '<configuration>\n  <crm_config/>\n  <resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>\n</configuration>\n';
  const merge = renderCibMerge(plan, xml);
  t.regex(merge, /cibadmin --modify --allow-create --scope configuration --xml-file \/etc\/ha-chaos\/cib-configuration\.xml/);
  t.true(merge.includes('<primitive id="vip"'));
  t.regex(merge, /touch \/etc\/ha-chaos\/bootstrapped\n$/);
  t.throws(() => renderCibMerge(plan, 'ERROR: syntax error near line 3'), { message: /did not print a <configuration> element: ERROR: syntax error/ });
  t.throws(() => renderCibMerge(plan, '<configuration>\n<resources>'), { message: /did not print a <configuration> element/ });
});
