/**
 * Fencing verified before any fault (issue 19), on literal evidence captured from the lab on
 * 2026-12-05 (fixtures/lab/): the CIB's stonith devices, `ipmitool mc guid` of a virtual BMC, the
 * output of fence_ipmilan's monitor with a wrong password, and crm_mon's XML while settled.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { guidReadings, lanGuidHex, normalizeIdentity, parseSystemGuid } from '../../harness/bmc/machine-identity.ts';
import { renderLanConf } from '../../harness/bmc/sim-files.ts';
import { loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { parseCrmMon, parseDcState, unmetReadiness, viewSignature, wedges, type ClusterStatus } from '../../harness/cluster/status.ts';
import { fenceDeviceSpecs } from '../../harness/power/fence-resources.ts';
import { agentErrorText, describeDrift, deviceDrift, guidScript, isHeuristic, judgeIdentity, parseStonithDevices, speaksIpmi, targetsOf } from '../../harness/power/fence-verify.ts';
import { storeOf } from '../../harness/storage/storage.ts';

const fixture = (name: string) => readFileSync(`fixtures/lab/${name}`, 'utf8');
const plan = planLab(loadLabConfig());
const expected = plan.nodes.flatMap((n) => fenceDeviceSpecs(plan, n));

test('the CIB\'s stonith devices: two power devices, two heuristics that fence nobody; each power device names its node', (t) => {
  const devices = parseStonithDevices(fixture('cib-resources-ipmi.xml'));
  t.deepEqual(devices.map((d) => [d.id, d.agent, isHeuristic(d.agent)]), [
    ['fence_node1', 'fence_ipmilan', false],
    ['ping_node1', 'fence_heuristics_ping', true],
    ['fence_node2', 'fence_ipmilan', false],
    ['ping_node2', 'fence_heuristics_ping', true],
  ]);
  const node1 = devices.find((d) => d.id === 'fence_node1')!;
  t.deepEqual(targetsOf(node1), ['node1']);
  t.true(speaksIpmi(node1));
  t.is(node1.params.ipport, '6231');
  t.is(node1.params.password_script, 'cat /etc/ha-chaos/bmc-node1.pw');
});

test('the captured CIB holds the plan\'s devices exactly; a device aimed at the peer\'s BMC is a drift named by device, parameter, expected and actual', (t) => {
  const cib = fixture('cib-resources-ipmi.xml');
  t.deepEqual(deviceDrift(expected, parseStonithDevices(cib)), []);
  // The sabotage of the issue: fence_node1's ipport set to node2's BMC port.
  const aimed = cib.replace('name="ipport" value="6231"', 'name="ipport" value="6232"');
  t.deepEqual(deviceDrift(expected, parseStonithDevices(aimed)).map(describeDrift), ['fence_node1: ipport expected 6231, actual 6232']);
  // The other sabotage: a password script that prints a wrong password; a password itself is never shown.
  const wrong = cib.replace('value="cat /etc/ha-chaos/bmc-node2.pw"', 'value="echo wrong-password"');
  t.deepEqual(deviceDrift(expected, parseStonithDevices(wrong)).map(describeDrift), ['fence_node2: password_script expected cat /etc/ha-chaos/bmc-node2.pw, actual echo wrong-password']);
  t.is(describeDrift({ device: 'fence_node1', parameter: 'password', expected: 's3cret', actual: 'other' }), "fence_node1: password differs from the plan's");
  const gone = cib.replace(/<primitive id="fence_node2"[\s\S]*?<\/primitive>/, '');
  t.deepEqual(deviceDrift(expected, parseStonithDevices(gone)).map(describeDrift), ['fence_node2: (the device) expected stonith:fence_ipmilan, actual (missing)']);
});

test('a BMC answers `mc guid` with its machine\'s identity: the measured lan.conf GUID and what ipmitool prints', (t) => {
  // Captured: the lan.conf GUID a0b1c2d3e4f5061728394a5b6c7d8e9f printed as d3c2b1a0-f5e4-1706-2839-4a5b6c7d8e9f.
  t.is(parseSystemGuid(fixture('ipmitool-mc-guid-default-lan-guid.txt')), 'd3c2b1a0f5e4170628394a5b6c7d8e9f');
  // `mc guid dump`: the bytes as the BMC sent them, which the check reads in every encoding (no guessing).
  t.is(parseSystemGuid(fixture('ipmitool-mc-guid-dump-default-lan-guid.txt')), 'a0b1c2d3e4f5061728394a5b6c7d8e9f');
  t.deepEqual(guidReadings('a0b1c2d3e4f5061728394a5b6c7d8e9f'), ['d3c2b1a0f5e4170628394a5b6c7d8e9f', 'a0b1c2d3e4f5061728394a5b6c7d8e9f', '9f8e7d6c5b4a39281706f5e4d3c2b1a0']);
  t.is(lanGuidHex('d3c2b1a0f5e4170628394a5b6c7d8e9f'), 'a0b1c2d3e4f5061728394a5b6c7d8e9f');
  // A VM's identity (node1's product_uuid, captured) goes into lan.conf so that ipmitool prints it back.
  const vm = normalizeIdentity('a40169d7-c5f0-4078-8dc9-f044b1562e5f')!;
  t.regex(renderLanConf({ name: 'node1', address: '10.213.1.1', port: 6231, username: 'admin', password: 'pw-123456', target: { kind: 'libvirt', domain: 'd' } }, '/c', lanGuidHex(vm)), /^ {4}guid d76901a4f0c57840/m);
  // A container's identity: the first 32 hex digits of its 64-digit ID.
  t.is(normalizeIdentity('3f0c2f8e0c1b4a3e9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e'), '3f0c2f8e0c1b4a3e9d7c6b5a4f3e2d1c');
  t.is(normalizeIdentity('not an id'), undefined);
});

test('identity: a device whose BMC is the peer\'s is named as such; an unknown machine and an unreadable identity are said', (t) => {
  const ids = { node1: 'a40169d7c5f040788dc9f044b1562e5f', node2: '4acaf302d2f94ca9861c2582e1dd2c89' };
  t.deepEqual(judgeIdentity('fence_node1', 'node1', ids.node1, ids), { identity: 'matches node1' });
  t.deepEqual(judgeIdentity('fence_node1', 'node1', lanGuidHex(ids.node1), ids), { identity: 'matches node1' }, 'in SMBIOS order, as ipmi_sim and most BMCs send it');
  // Captured in the container lane: ipmitool decoded a container ID's GUID without the SMBIOS swap; the raw bytes match.
  t.deepEqual(judgeIdentity('fence_node1', 'node1', '39b74650a81407ee73bf8645248f1482', { node1: '5046b73914a8ee0773bf8645248f1482', node2: '823ad60af49ac11035b79603d0ab571f' }), { identity: 'matches node1' });
  const aimed = judgeIdentity('fence_node1', 'node1', ids.node2, ids);
  t.is(aimed.identity, 'reaches node2');
  t.is(aimed.problem, "fence_node1 is meant to fence node1 but its BMC is node2's (BMC system GUID 4acaf302-d2f9-4ca9-861c-2582e1dd2c89 is node2's machine identity; node1's is a40169d7-c5f0-4078-8dc9-f044b1562e5f): fencing node1 would power off node2");
  // The captured default GUID of a BMC started before its VM existed.
  t.regex(judgeIdentity('fence_node1', 'node1', 'a0b1c2d3e4f5061728394a5b6c7d8e9f', ids).problem!, /answers for another machine \(system GUID d3c2b1a0-f5e4-1706-2839-4a5b6c7d8e9f/);
  t.is(judgeIdentity('fence_node1', 'node1', undefined, ids).problem, undefined);
});

test('a device that cannot log in is named with its agent\'s own words (captured: fence_ipmilan, wrong password)', (t) => {
  t.is(agentErrorText(fixture('fence_ipmilan-monitor-wrong-password.txt')), 'ERROR: Failed: Unable to obtain correct plug status or plug is not available');
  t.is(agentErrorText('2026-12-05 20:45:39,651 ERROR: Connection timed out\n'), 'ERROR: Connection timed out');
  t.is(agentErrorText(''), 'no output');
});

const status = (crm: string): ClusterStatus => ({
  lab: 'lab',
  accel: 'tcg',
  virtualIp: '10.213.10.100',
  pacemaker: parseCrmMon(crm),
  drbd: { node1: { cs: 'Connected', role: 'Primary', peerRole: 'Secondary', disk: 'UpToDate', peerDisk: 'UpToDate', outOfSyncKiB: 0 }, node2: { cs: 'Connected', role: 'Secondary', peerRole: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate', outOfSyncKiB: 0 } },
  vipHolders: ['node2'],
  power: { node1: 'on', node2: 'on' },
  smtp: { ok: true, detail: '220 ok' },
  imap: { ok: true, detail: '* OK' },
});
const unmet = (crm: string, dcState = 'S_IDLE') => {
  const s = status(crm);
  s.pacemaker!.dcState = dcState;
  return unmetReadiness(s, ['node1', 'node2'], storeOf(plan)).filter((u) => !/DRBD|drbd/.test(u));
};

test('ready means settled: a fence device starting again after a cleanup, or a DC in a transition, is not ready; a monitor in flight is', (t) => {
  const ready = fixture('crm_mon-ready-settled.xml');
  t.deepEqual(unmet(ready), []);
  const inFlight = fixture('crm_mon-ready-monitor-in-flight.xml');
  t.regex(inFlight, /pending="Monitoring"/, 'captured with a recurring monitor in flight');
  t.deepEqual(unmet(inFlight), [], 'a recurring monitor in flight is the steady state');
  // The read the "lab ready in 29 s" rested on: the cleaned-up devices being started again.
  const restarting = ready.replace(/(<resource id="fence_node1"[^>]*role=")Started(")/, '$1Starting$2').replace(/(<resource id="fence_node2"[^>]*role=")Started(")/, '$1Starting$2');
  t.deepEqual(unmet(restarting), ['operations under way: fence_node1 Starting, fence_node2 Starting']);
  t.deepEqual(unmet(ready, 'S_TRANSITION_ENGINE'), ['the DC (node2) is not idle (S_TRANSITION_ENGINE): a transition is under way']);
  t.is(parseDcState('Controller on node2 in state S_TRANSITION_ENGINE: ok\n'), 'S_TRANSITION_ENGINE');
  // Two reads agree only when nothing changed between them.
  t.is(viewSignature(parseCrmMon(inFlight)), viewSignature(parseCrmMon(inFlight.replace(/ pending="Monitoring"/g, ''))), 'a monitor in flight changes nothing');
  t.not(viewSignature(parseCrmMon(ready)), viewSignature(parseCrmMon(restarting)));
});

test('heuristic devices do not count: both power devices stopped with the pings started is not ready; failed again after the cleanup is a wedge', (t) => {
  const ready = fixture('crm_mon-ready-settled.xml');
  const stopped = ready
    .replace(/(<resource id="fence_node1"[^>]*role=")Started(" active=")true(")/, '$1Stopped$2false$3')
    .replace(/(<resource id="fence_node2"[^>]*role=")Started(" active=")true(")/, '$1Stopped$2false$3');
  t.deepEqual(unmet(stopped), ['power fence devices not all started (fence_node1:Stopped, fence_node2:Stopped)']);
  // Failed again ~3 s after the one cleanup: a failed start of each, fail-count INFINITY (the wrong-password sabotage).
  const failures = `<failures>
    <failure op_key="fence_node1_start_0" node="node2" exitstatus="error" exitreason="" exitcode="1" call="52" status="complete" last-rc-change="2026-12-05 20:52:10 Z" queued="0" exec="1893" interval="0" task="start"/>
    <failure op_key="fence_node2_start_0" node="node1" exitstatus="error" exitreason="" exitcode="1" call="48" status="complete" last-rc-change="2026-12-05 20:52:11 Z" queued="0" exec="1934" interval="0" task="start"/>
  </failures>`;
  const failed = stopped.replace('</resources>', `</resources>\n  ${failures}`);
  const found = wedges(parseCrmMon(failed));
  t.deepEqual(found.map((w) => w.resource), ['fence_node1', 'fence_node2']);
  t.regex(found[0]!.why, /^start of fence_node1 on node2 failed \(complete, error\)/);
});

test("the GUID query passes the device's password to ipmitool as one shell word, from its script or in the clear (a quote in it stays a character)", (t) => {
  const base = { id: 'fence_mx1', agent: 'fence_ipmilan', params: { ip: '198.51.100.201', ipport: '623', username: 'admin', cipher: '3', pcmk_host_list: 'mx1' } };
  t.regex(guidScript({ ...base, params: { ...base.params, password_script: 'cat /etc/pw' } }), /^IPMI_PASSWORD="\$\(bash -c 'cat \/etc\/pw' 2>\/dev\/null\)" timeout 30 ipmitool -I lanplus -C '3' -H '198\.51\.100\.201' -p '623' -U 'admin' -E -N 2 -R 2 mc guid dump/);
  t.regex(guidScript({ ...base, params: { ...base.params, password: "it's-a-pw" } }), /^IPMI_PASSWORD='it'\\''s-a-pw' timeout 30 /);
});
