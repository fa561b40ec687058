import test from 'ava';
import { drbdStore } from '../../harness/storage/drbd.ts';
import { readFileSync } from 'node:fs';
import { DRBD_STANDALONE_WEDGE_MS, missingConnectivity, parseCrmMon, storeWedges, unmetReadiness, wedges, type ClusterStatus } from '../../harness/cluster/status.ts';
import { parseFenceConstraints, parseProcDrbd } from '../../harness/storage/drbd.ts';

const readyXml = readFileSync('fixtures/lab/crm_mon-ready.xml', 'utf8');

test('crm_mon XML of a ready lab (captured from a real one)', (t) => {
  const view = parseCrmMon(readyXml);
  t.deepEqual(view.nodes.map((n) => [n.name, n.online, n.unclean]), [
    ['node1', true, false],
    ['node2', true, false],
  ]);
  t.truthy(view.dc);
  const byId = Object.fromEntries(view.resources.map((r) => [`${r.id}@${r.nodes.join(',')}`, r]));
  t.is(byId['vip@node2']?.role, 'Started');
  t.is(byId['vip@node2']?.parent, 'g_mail');
  t.is(byId['drbd_mail@node2']?.role, 'Promoted');
  t.is(byId['drbd_mail@node1']?.role, 'Unpromoted');
  t.is(byId['fence_node1@node2']?.agent, 'stonith:fence_ipmilan');
  t.is(byId['ping_node2@node1']?.agent, 'stonith:fence_heuristics_ping');
  t.is(byId['smtp@node2']?.role, 'Started', 'the mail services run beside the store group, not in it');
  t.is(byId['smtp@node2']?.parent, undefined);
  t.deepEqual([byId['client_ping@node1']?.parent, byId['client_ping@node2']?.parent], ['cl_client_ping', 'cl_client_ping']);
  t.deepEqual(view.failures, []);
});

test('crm_mon: failures and offline nodes', (t) => {
  const xml = `<pacemaker-result api-version="2.30" request="crm_mon">
  <nodes><node name="node1" id="1" online="true" standby="false" unclean="false" is_dc="true"/><node name="node2" id="2" online="false" standby="false" unclean="true" is_dc="false"/></nodes>
  <resources><resource id="fence_node2" resource_agent="stonith:fence_ipmilan" role="Stopped" active="false" failed="false" nodes_running_on="0"/></resources>
  <failures><failure op_key="smtp_start_0" node="node2" exitstatus="not installed" exitreason="Postfix queue directory missing" exitcode="5" call="40" status="complete" task="start"/></failures>
</pacemaker-result>`;
  const view = parseCrmMon(xml);
  t.is(view.dc, 'node1');
  t.true(view.nodes[1]!.unclean);
  t.deepEqual(view.failures, [{ op: 'smtp_start_0', resource: 'smtp', task: 'start', node: 'node2', exitReason: 'Postfix queue directory missing', status: 'complete', exitStatus: 'not installed' }]);
  t.throws(() => parseCrmMon('crm_mon: Error: cluster is not available on this node'), { message: /not pacemaker-result XML/ });
});

test('/proc/drbd (DRBD 8.4)', (t) => {
  t.deepEqual(parseProcDrbd(readFileSync('fixtures/lab/proc-drbd-primary.txt', 'utf8')), {
    cs: 'Connected',
    role: 'Primary',
    peerRole: 'Secondary',
    disk: 'UpToDate',
    peerDisk: 'UpToDate',
    outOfSyncKiB: 0,
  });
  t.like(parseProcDrbd(' 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n    ns:0 nr:0 dw:8 oos:1024\n'), {
    cs: 'WFConnection',
    peerDisk: 'DUnknown',
    outOfSyncKiB: 1024,
  });
  t.like(parseProcDrbd(' 0: cs:Unconfigured\n'), { cs: 'Unconfigured', role: 'Unconfigured' });
  t.like(parseProcDrbd('version: 8.4.11\n'), { cs: 'Unconfigured' });
});

const ready: ClusterStatus = {
  lab: 'lab',
  accel: 'tcg',
  virtualIp: '10.213.10.100',
  pacemaker: parseCrmMon(readyXml),
  drbd: {
    node1: { cs: 'Connected', role: 'Secondary', peerRole: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate', outOfSyncKiB: 0 },
    node2: { cs: 'Connected', role: 'Primary', peerRole: 'Secondary', disk: 'UpToDate', peerDisk: 'UpToDate', outOfSyncKiB: 0 },
  },
  vipHolders: ['node2'],
  power: { node1: 'on', node2: 'on' },
  smtp: { ok: true, detail: '220 mail.lab.test ESMTP' },
  imap: { ok: true, detail: '* OK Dovecot ready.' },
};

test('readiness: a ready lab has nothing unmet (the connectivity clone on both nodes is not a split service)', (t) => {
  t.deepEqual(unmetReadiness(ready, ['node1', 'node2'], drbdStore), []);
});

test('readiness: each unmet condition is named', (t) => {
  const unmet = unmetReadiness(
    {
      ...ready,
      drbd: { ...ready.drbd, node1: { cs: 'SyncTarget', role: 'Secondary', peerRole: 'Primary', disk: 'Inconsistent', peerDisk: 'UpToDate', outOfSyncKiB: 500 } },
      vipHolders: ['node1', 'node2'],
      power: { node1: 'on', node2: 'unknown (timeout)' },
      imap: { ok: false, detail: 'connect ECONNREFUSED' },
    },
    ['node1', 'node2'],
    drbdStore,
  );
  t.deepEqual(unmet, [
    'DRBD on node1: SyncTarget Inconsistent/UpToDate (want Connected UpToDate/UpToDate)',
    'virtual IP 10.213.10.100 held by 2 nodes (want 1)',
    'power device of node2 reports power unknown (timeout)',
    'IMAP on 10.213.10.100:143 not answering (connect ECONNREFUSED)',
  ]);
  t.deepEqual(unmetReadiness({ ...ready, pacemaker: undefined, pacemakerError: 'node1: connection refused' }, ['node1', 'node2'], drbdStore)[0], 'Pacemaker not answering (node1: connection refused)');
});

test('DRBD fence-peer constraints are found in the CIB and left ones block readiness', (t) => {
  const xml = `<constraints>
  <rsc_colocation id="c_mail_on_drbd_primary" score="INFINITY" rsc="g_mail" with-rsc="ms_drbd_mail" with-rsc-role="Promoted"/>
  <rsc_location rsc="ms_drbd_mail" id="drbd-fence-by-handler-mail-ms_drbd_mail">
    <rule role="Promoted" score="-INFINITY" id="drbd-fence-by-handler-mail-rule-ms_drbd_mail">
      <expression attribute="#uname" operation="ne" value="node2" id="drbd-fence-by-handler-mail-expr-ms_drbd_mail"/>
    </rule>
  </rsc_location>
</constraints>`;
  t.deepEqual(parseFenceConstraints(xml), ['drbd-fence-by-handler-mail-ms_drbd_mail']);
  t.deepEqual(parseFenceConstraints('<constraints/>'), []);
  t.deepEqual(unmetReadiness({ ...ready, drbdFenceConstraints: ['drbd-fence-by-handler-mail-ms_drbd_mail'] }, ['node1', 'node2'], drbdStore), [
    'DRBD fence constraint(s) left in the CIB: drbd-fence-by-handler-mail-ms_drbd_mail',
  ]);
});

test('a ready lab is not wedged', (t) => {
  t.deepEqual(wedges(parseCrmMon(readyXml)), []);
  t.deepEqual(parseCrmMon(readyXml).failCounts, []);
});

test('wedged: a start that timed out with fail-count INFINITY (captured from a real lab during bring-up)', (t) => {
  const view = parseCrmMon(readFileSync('fixtures/lab/crm_mon-wedged-smtp-start-timeout.xml', 'utf8'));
  t.deepEqual(view.failCounts, [{ resource: 'smtp', node: 'node2', count: 1_000_000 }]);
  const found = wedges(view);
  t.is(found.length, 1);
  t.like(found[0], { resource: 'smtp', node: 'node2', task: 'start', fix: 'crm resource cleanup smtp node2' });
  t.is(found[0]!.why, 'start of smtp on node2 failed (Timed Out, error: "Resource agent did not complete within 2m"); fail-count INFINITY on node2: it will not run there again until cleaned up');
});

test('wedged: a stonith start timed out at the agent default, a failed monitor on a resource that runs again, a blocked resource', (t) => {
  const xml = `<pacemaker-result api-version="2.30" request="crm_mon">
  <nodes><node name="node1" id="1" online="true" standby="false" unclean="false" is_dc="true"/><node name="node2" id="2" online="true" standby="false" unclean="false" is_dc="false"/></nodes>
  <resources>
    <resource id="fence_node1" resource_agent="stonith:fence_ipmilan" role="Stopped" active="false" blocked="false" managed="true" failed="false" nodes_running_on="0"/>
    <resource id="imap" resource_agent="ocf:hachaos:dovecot" role="Started" active="true" blocked="false" managed="true" failed="false" nodes_running_on="1"><node name="node1" id="1" cached="true"/></resource>
    <resource id="fs_mail" resource_agent="ocf:heartbeat:Filesystem" role="Started" active="true" blocked="true" managed="true" failed="true" nodes_running_on="1"><node name="node1" id="1" cached="true"/></resource>
  </resources>
  <node_history>
    <node name="node2"><resource_history id="fence_node1" orphan="false" migration-threshold="1000000" fail-count="1000000"/></node>
    <node name="node1"><resource_history id="imap" orphan="false" migration-threshold="1000000" fail-count="1"/></node>
  </node_history>
  <failures>
    <failure op_key="fence_node1_start_0" node="node2" exitstatus="error" exitreason="Fence agent did not complete within 20s" exitcode="1" call="14" status="Timed Out" task="start"/>
    <failure op_key="imap_monitor_15000" node="node1" exitstatus="error" exitreason="" exitcode="1" call="80" status="complete" task="monitor"/>
  </failures>
</pacemaker-result>`;
  const found = wedges(parseCrmMon(xml));
  t.deepEqual(
    found.map((w) => w.why),
    [
      'start of fence_node1 on node2 failed (Timed Out, error: "Fence agent did not complete within 20s"); fail-count INFINITY on node2: it will not run there again until cleaned up',
      'monitor of imap on node1 failed (complete, error); fail-count 1 on node1; imap runs again, but the failed action stays until it is cleaned up',
      'fs_mail is blocked (Pacemaker will not act on it, e.g. after a stop failed)',
    ],
  );
  t.deepEqual(found.map((w) => w.fix), ['crm resource cleanup fence_node1 node2', 'crm resource cleanup imap node1', 'crm resource cleanup fs_mail']);
});

test('readiness names the failed action by operation, resource and node', (t) => {
  const view = parseCrmMon(readFileSync('fixtures/lab/crm_mon-wedged-smtp-start-timeout.xml', 'utf8'));
  t.true(unmetReadiness({ ...ready, pacemaker: view }, ['node1', 'node2'], drbdStore).includes('failed actions: start of smtp on node2'));
});

// Captured from the container lane after a run (crm_mon --show-node-attributes): both nodes' pingd in the CIB.
const laneXml = readFileSync('fixtures/lab/crm_mon-lane-node-attributes.xml', 'utf8');

test("node attributes are read from crm_mon; a node running the connectivity clone without its pingd in the CIB cannot take the service over, named with the fix", (t) => {
  const view = parseCrmMon(laneXml);
  t.deepEqual(view.nodeAttributes, { node1: { pingd: '1000' }, node2: { pingd: '1000' } });
  t.deepEqual(missingConnectivity(view), []);
  // What the lane showed after pacemaker-controld respawned on node2: the DC erased node2's transient attributes, attrd never wrote them again.
  const lost = parseCrmMon(laneXml.replace(/<node name="node2">\s*<attribute name="pingd" value="1000"\/>\s*<\/node>/, '<node name="node2"/>'));
  t.deepEqual(lost.nodeAttributes, { node1: { pingd: '1000' }, node2: {} });
  t.deepEqual(missingConnectivity(lost), [
    'node2 cannot take the mail service over: its connectivity attribute pingd is not in the CIB although the connectivity clone runs there (a rule on it bans the service from the node; Pacemaker loses a node\'s transient attributes when its controller respawns: run attrd_updater --refresh on node2)',
  ]);
  // A crm_mon read without the attributes section judges nothing about them.
  t.deepEqual(missingConnectivity(parseCrmMon(laneXml.replace(/<node_attributes>[\s\S]*<\/node_attributes>/, ''))), []);
});

// node2 after disk-bad-sectors-active beside a CPU hog (2026-12-06): Primary, StandAlone for good.
const STANDALONE = { cs: 'StandAlone', role: 'Primary', peerRole: 'Unknown', disk: 'UpToDate', peerDisk: 'DUnknown', outOfSyncKiB: 0 };
const CONNECTED = { cs: 'Connected', role: 'Secondary', peerRole: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate', outOfSyncKiB: 0 };

test('a DRBD connection StandAlone for 30 s is a wedge: named, with the guide\'s recovery; a moment of it (drbdadm adjust) is not', (t) => {
  const t0 = 1796549640_765;
  const since = new Map([['node2', t0]]);
  t.deepEqual(storeWedges({ node1: CONNECTED, node2: STANDALONE }, since, t0 + DRBD_STANDALONE_WEDGE_MS - 1, 'mail'), [], 'not yet');
  const [w, ...rest] = storeWedges({ node1: CONNECTED, node2: STANDALONE }, since, t0 + 31_000, 'mail');
  t.is(rest.length, 0);
  t.is(w!.node, 'node2');
  t.regex(w!.why, /^DRBD on node2 is StandAlone \(Primary, disk UpToDate\) for 31 s: it does not reconnect by itself/);
  t.regex(w!.fix, /drbdadm connect --discard-my-data mail/);
  t.deepEqual(storeWedges({ node1: CONNECTED, node2: CONNECTED }, since, t0 + 60_000, 'mail'), [], 'connected again');
  t.deepEqual(storeWedges(undefined, since, t0 + 60_000, 'mail'), [], 'a shared store has no DRBD');
});
