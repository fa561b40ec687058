/** The power-switch variant's plan and rendered cluster, on the shipped config and literal variants of it. */
import test from 'ava';
import { loadLabConfig, parseLabConfig, type LabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderCib } from '../../harness/provision/cluster-files.ts';
import { renderNodeProvision } from '../../harness/provision/provision.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { DEFAULT_LAB_CONFIG } from '../../harness/cluster/lab-config.ts';

const pdu = loadLabConfig(DEFAULT_LAB_CONFIG.replace('lab.json', 'lab-pdu.json'));
const secrets = { bmcPassword: 'DevicePw-1234', corosyncKey: 'a2V5', accounts: { user1: 'pw-user-1' } };
const variant = (fencing: Partial<LabConfig['fencing']>): LabConfig => ({ ...pdu, fencing: { ...pdu.fencing, ...fencing } });

test('lab-pdu.json: two PDUs (A and B feeds), each node on outlet N of both; supplies named as the power logs name them', (t) => {
  const plan = planLab(pdu);
  t.deepEqual(
    plan.powerDevices.map((d) => (d.kind === 'pdu' ? `${d.name}@${d.port}: ${d.outlets.map((o) => `${o.outlet}=${o.label}`).join(' ')}` : d.name)),
    ['pdu1@6241: 1=node1-psu1 2=node2-psu1', 'pdu2@6242: 1=node1-psu2 2=node2-psu2'],
  );
  t.deepEqual(plan.nodes.map((n) => n.supplies.map((s) => s.id)), [['pdu1:1', 'pdu2:1'], ['pdu1:2', 'pdu2:2']]);
});

test('one PDU, two supplies: node1 on outlets 1 and 3, node2 on 2 and 4; one supply: outlets 1 and 2', (t) => {
  t.deepEqual(planLab(variant({ pdus: 1 })).nodes.map((n) => n.supplies.map((s) => s.id)), [['pdu1:1', 'pdu1:3'], ['pdu1:2', 'pdu1:4']]);
  t.deepEqual(planLab(variant({ pdus: 1, powerSupplies: 1 })).nodes.map((n) => n.supplies.map((s) => s.id)), [['pdu1:1'], ['pdu1:2']]);
  t.deepEqual(planLab(loadLabConfig()).nodes.map((n) => n.supplies.map((s) => s.id)), [['bmc'], ['bmc']]);
});

test('the CIB: a fence_apc_snmp device per supply (SNMPv3, password from a file), both in one level after the heuristic; the delay once', (t) => {
  const cib = renderCib(planLab(pdu));
  const node1 = cib.split('\n').filter((l) => l.startsWith('primitive fence_node1'));
  t.is(node1.length, 2);
  t.regex(node1[0]!, /^primitive fence_node1_psu1 stonith:fence_apc_snmp params ip=10\.214\.1\.1 ipport=6241 snmp_version=3 username=admin snmp_sec_level=authNoPriv snmp_auth_prot=SHA password_script="cat \/etc\/ha-chaos\/pdu-pdu1\.pw" plug=1 pcmk_host_list=node1 pcmk_delay_base=5s op start timeout=\S+ op stop timeout=\S+ op monitor interval=\S+ timeout=\S+$/);
  t.notRegex(node1[1]!, /pcmk_delay_base/);
  t.regex(node1[1]!, /ipport=6242 .*plug=1 /);
  t.regex(cib, /^fencing_topology node1: ping_node1,fence_node1_psu1,fence_node1_psu2 node2: ping_node2,fence_node2_psu1,fence_node2_psu2$/m);
  t.regex(cib, /^location l_fence_node2_psu2 fence_node2_psu2 -inf: node2$/m);
  t.notRegex(cib, /fence_ipmilan|password=/);
  // Without the heuristic, two supplies still make a level (all off before any on); one supply needs none.
  t.regex(renderCib(planLab(variant({ pingHeuristic: false }))), /^fencing_topology node1: fence_node1_psu1,fence_node1_psu2 /m);
  t.notRegex(renderCib(planLab(variant({ pingHeuristic: false, pdus: 1, powerSupplies: 1 }))), /fencing_topology/);
});

test('provisioning writes each PDU password file (0600), and the default lab still its BMC files', (t) => {
  const plan = planLab(pdu);
  const script = renderNodeProvision(plan, plan.nodes[0]!, secrets);
  t.regex(script, /cat > '\/etc\/ha-chaos\/pdu-pdu1\.pw' <<'HACHAOS_EOF'\nDevicePw-1234\nHACHAOS_EOF\nchmod 0600/);
  t.regex(script, /pdu-pdu2\.pw/);
  const bmc = planLab(loadLabConfig());
  t.regex(renderNodeProvision(bmc, bmc.nodes[0]!, secrets), /bmc-node2\.pw/);
});

test('power options that do not fit the device are refused, naming the field', (t) => {
  const ipmi = loadLabConfig();
  const err = t.throws(() => parseLabConfig({ ...ipmi, fencing: { ...ipmi.fencing, powerSupplies: 2 } }, 'lab.json'), { instanceOf: ValidationError });
  t.regex(err.message, /\/fencing\/powerSupplies: is for PDUs \(agent fence_apc_snmp, or secondLevel/);
  t.regex(t.throws(() => parseLabConfig({ ...pdu, fencing: { ...pdu.fencing, powerSupplies: 1, pdus: 2 } }, 'lab.json'))!.message, /\/fencing\/pdus: two PDUs need two power supplies/);
  t.regex(t.throws(() => parseLabConfig({ ...pdu, fencing: { ...pdu.fencing, powerSupplies: 3 } }, 'lab.json'))!.message, /powerSupplies/);
  t.regex(t.throws(() => parseLabConfig({ ...pdu, fencing: { ...pdu.fencing, agent: 'fence_raritan' } }, 'lab.json'))!.message, /agent/);
});

const levels = loadLabConfig(DEFAULT_LAB_CONFIG.replace('lab.json', 'lab-levels.json'));

test('lab-levels.json: a BMC per node and two PDUs; the supplies are the outlets (the BMC switches the chassis they feed)', (t) => {
  const plan = planLab(levels);
  t.deepEqual(
    plan.powerDevices.map((d) => (d.kind === 'pdu' ? `${d.name}@${d.port}: ${d.outlets.map((o) => `${o.outlet}=${o.label}`).join(' ')}` : `${d.name}@${d.port}`)),
    ['node1@6231', 'node2@6232', 'pdu1@6241: 1=node1-psu1 2=node2-psu1', 'pdu2@6242: 1=node1-psu2 2=node2-psu2'],
  );
  t.deepEqual(plan.nodes.map((n) => n.supplies.map((s) => s.id)), [['pdu1:1', 'pdu2:1'], ['pdu1:2', 'pdu2:2']]);
});

test('the CIB of two levels: the BMC first, both outlets second, the heuristic in each, node1 delayed in each level', (t) => {
  const cib = renderCib(planLab(levels));
  // A heuristic per level: the fencer runs a device once per operation, so a shared one would not run for level 2.
  t.regex(cib, /^fencing_topology node1: ping_node1,fence_node1 ping_node1_l2,fence_node1_psu1,fence_node1_psu2 node2: ping_node2,fence_node2 ping_node2_l2,fence_node2_psu1,fence_node2_psu2$/m);
  t.regex(cib, /^primitive ping_node2_l2 stonith:fence_heuristics_ping params ping_targets=\S+ .*pcmk_host_list=node2 /m);
  t.regex(cib, /^location l_ping_node2_l2 ping_node2_l2 -inf: node2$/m);
  t.regex(cib, /^primitive fence_node1 stonith:fence_ipmilan params ip=10\.217\.1\.1 ipport=6231 .*pcmk_host_list=node1 pcmk_delay_base=5s /m);
  t.regex(cib, /^primitive fence_node1_psu1 stonith:fence_apc_snmp params ip=10\.217\.1\.1 ipport=6241 .*plug=1 pcmk_host_list=node1 pcmk_delay_base=5s /m);
  t.notRegex(cib.split('\n').find((l) => l.startsWith('primitive fence_node1_psu2'))!, /pcmk_delay_base/);
  t.notRegex(cib.split('\n').find((l) => l.startsWith('primitive fence_node2 '))!, /pcmk_delay_base/);
  for (const id of ['fence_node1', 'fence_node1_psu1', 'fence_node1_psu2']) t.regex(cib, new RegExp(`^location l_${id} ${id} -inf: node1$`, 'm'));
  // Without the heuristic: two levels still make a topology.
  t.regex(renderCib(planLab({ ...levels, fencing: { ...levels.fencing, pingHeuristic: false } })), /^fencing_topology node1: fence_node1 fence_node1_psu1,fence_node1_psu2 node2: fence_node2 fence_node2_psu1,fence_node2_psu2$/m);
  // Provisioning: the BMC password files and the PDUs'.
  const plan = planLab(levels);
  const script = renderNodeProvision(plan, plan.nodes[0]!, secrets);
  for (const f of ['bmc-node1.pw', 'bmc-node2.pw', 'pdu-pdu1.pw', 'pdu-pdu2.pw']) t.true(script.includes(`/etc/ha-chaos/${f}`), f);
});

test('a second level is a PDU level after BMCs: refused on a PDU lab, naming the field', (t) => {
  t.regex(t.throws(() => parseLabConfig({ ...pdu, fencing: { ...pdu.fencing, secondLevel: 'fence_apc_snmp' } }, 'lab.json'))!.message, /\/fencing\/secondLevel: is a PDU level after the BMCs: it needs agent fence_ipmilan/);
  t.regex(t.throws(() => parseLabConfig({ ...levels, fencing: { ...levels.fencing, secondLevel: 'fence_ipmilan' } }, 'lab.json'))!.message, /secondLevel/);
});

test('every shipped lab config has its own name and its own /16 (two labs up at once never share a bridge or an address)', async (t) => {
  const { readdirSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const dir = dirname(DEFAULT_LAB_CONFIG);
  const configs = readdirSync(dir).filter((f) => /^lab.*\.json$/.test(f)).map((f) => loadLabConfig(join(dir, f)));
  t.true(configs.length >= 5);
  t.is(new Set(configs.map((c) => c.name)).size, configs.length, configs.map((c) => c.name).join(' '));
  t.is(new Set(configs.map((c) => c.network.prefix)).size, configs.length, configs.map((c) => `${c.name} ${c.network.prefix}`).join(', '));
});
