import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTargetFile, parseAccounts } from '../../harness/cluster/target-file.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { containsSecret } from '../../harness/core/secrets.ts';
import { FAKE_SSH_KEY, tempDir } from '../helpers.ts';
import { run } from '../../harness/core/exec.ts';
import { createServer } from 'node:net';

/** A TCP port on loopback that nobody listens on right now. */
async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}


/** A complete target file (the README's example, with its files made here). */
function example(dir: string, edit: (text: string) => string = (t) => t): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'id_ed25519'), FAKE_SSH_KEY, { mode: 0o600 });
  writeFileSync(join(dir, 'bmc1'), 'bmc-secret-one\n', { mode: 0o600 });
  writeFileSync(join(dir, 'accounts'), '# test accounts\nuser1 pw-one-secret\nuser2 pw-two-secret\n', { mode: 0o600 });
  const text = `name: mail-prod-a
storage: drbd
virtualIp: 192.0.2.100
ssh: { user: root, key: id_ed25519 }
mail:
  domain: example.com
  accounts: { file: accounts }
nodes:
  - name: mx1
    ssh: { address: 198.51.100.11 }
    nics: { client: eno1, ring0: eno2, ring1: eno3, replication: eno4 }
    power:
      ipmi: { address: 198.51.100.201, username: admin, password: { passwordFile: bmc1 } }
  - name: mx2
    ssh: { address: 198.51.100.12, user: ops, port: 2222 }
    nics: { client: eno1, ring0: eno2, ring1: eno3, replication: eno4 }
    power:
      ipmi: { address: 198.51.100.202, port: 6230, username: admin, password: { passwordEnv: HA_TEST_BMC2 } }
waits: { clusterReadyS: 900 }
`;
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, edit(text));
  return file;
}

const env = { HA_TEST_BMC2: 'bmc-secret-two' };

test('a complete target file resolves: defaults applied, secrets read from their file and variable, paths beside the file', (t) => {
  const dir = tempDir();
  const target = loadTargetFile(example(dir), env);
  t.is(target.name, 'mail-prod-a');
  t.is(target.clusterReadyS, 900);
  t.deepEqual(target.accounts, { user1: 'pw-one-secret', user2: 'pw-two-secret' });
  t.deepEqual(target.nodes[0]!.ssh, { address: '198.51.100.11', port: 22, user: 'root', key: join(dir, 'id_ed25519') });
  t.deepEqual(target.nodes[1]!.ssh, { address: '198.51.100.12', port: 2222, user: 'ops', key: join(dir, 'id_ed25519') });
  t.deepEqual(target.nodes[0]!.ipmi!, { address: '198.51.100.201', port: 623, username: 'admin', password: 'bmc-secret-one' });
  t.is(target.nodes[1]!.ipmi!.password, 'bmc-secret-two');
  t.true(containsSecret('log line with bmc-secret-two in it'), 'every secret read is registered, so logs mask it');
  t.false(JSON.stringify(target.spec).includes('bmc-secret'), 'the recorded spec holds where the secrets are, never a secret');
});

const broken: Array<[string, (t: string) => string, RegExp]> = [
  ['a missing field', (s) => s.replace('virtualIp: 192.0.2.100\n', ''), /virtualIp/],
  ['a bad address', (s) => s.replace('virtualIp: 192.0.2.100', 'virtualIp: 192.0.2.300'), /line 3: \/virtualIp: must be an IPv4 address/],
  ['an inline password', (s) => s.replace('password: { passwordFile: bmc1 }', 'password: hunter2'), /line 13: \/nodes\/0\/power\/ipmi\/password/],
  ['both password sources', (s) => s.replace('{ passwordFile: bmc1 }', '{ passwordFile: bmc1, passwordEnv: X }'), /exactly one of passwordFile or passwordEnv/],
  ['an unset variable', (s) => s.replace('HA_TEST_BMC2', 'HA_TEST_UNSET'), /\/nodes\/1\/power\/ipmi\/password\/passwordEnv: the environment variable HA_TEST_UNSET is not set/],
  ['a missing password file', (s) => s.replace('passwordFile: bmc1', 'passwordFile: nope'), /passwordFile: cannot use this password file of the BMC password of mx1: it does not exist/],
  ['two nodes of one name', (s) => s.replace('name: mx2', 'name: mx1'), /\/nodes\/1\/name: both nodes are named "mx1"/],
  ['DRBD without a replication NIC', (s) => s.replace('ring1: eno3, replication: eno4 }\n    power:\n      ipmi: { address: 198.51.100.201', 'ring1: eno3 }\n    power:\n      ipmi: { address: 198.51.100.201'), /\/nodes\/0\/nics\/replication: a DRBD store needs/],
  ['one NIC for both rings', (s) => s.replace('ring0: eno2, ring1: eno3, replication: eno4 }\n    power:\n      ipmi: { address: 198.51.100.201', 'ring0: eno2, ring1: eno2, replication: eno4 }\n    power:\n      ipmi: { address: 198.51.100.201'), /ring0 and ring1 are both eno2/],
  ['a PDU outlet of a PDU not listed', (s) => s.replace('ipmi: { address: 198.51.100.201, username: admin, password: { passwordFile: bmc1 } }', 'pdu: { outlets: [{ pdu: pdu9, outlet: 1 }] }'), /\/nodes\/0\/power\/pdu\/outlets\/0\/pdu: no PDU named "pdu9"/],
  ['no power device', (s) => s.replace('power:\n      ipmi: { address: 198.51.100.201, username: admin, password: { passwordFile: bmc1 } }', 'power: {}'), /\/nodes\/0\/power: give its power device: ipmi \(the node's BMC\), pdu \(the outlets feeding it\), or both/],
  ['one node only', (s) => s.slice(0, s.indexOf('  - name: mx2')), /\/nodes: must have at least 2 items|nodes/],
  ['an unknown key', (s) => s.replace('storage: drbd', 'storage: drbd\nstorag: shared'), /storag/],
];

for (const [what, edit, expected] of broken) {
  test(`a target file with ${what} is refused, naming the field`, (t) => {
    const error = t.throws(() => loadTargetFile(example(tempDir(), edit), env), { instanceOf: ValidationError });
    t.regex(error!.message, expected);
    t.false(error!.message.includes('bmc-secret'), 'no secret in the error');
  });
}

test('an accounts file: user and password per line; comments skipped; a bad or repeated line named', (t) => {
  t.deepEqual(parseAccounts('# c\n\nalice pass word\nbob x\n', 'f'), { alice: 'pass word', bob: 'x' });
  t.throws(() => parseAccounts('alice\n', 'f'), { message: /line 1: expected "user password"/ });
  t.throws(() => parseAccounts('a x\na y\n', 'f'), { message: /line 2: user a is listed twice/ });
  t.throws(() => parseAccounts('# only comments\n', 'f'), { message: /no account in it/ });
});

test("the lab's target file describes it as hardware: SSH and BMC addresses, the role NICs, no libvirt; and it loads as any target file", async (t) => {
  const { renderLabTargetFile, writeLabTargetFile } = await import('../../harness/lab/lab-target-file.ts');
  const { DEFAULT_LAB_CONFIG, loadLabConfig } = await import('../../harness/cluster/lab-config.ts');
  const { planLab } = await import('../../harness/provision/lab-plan.ts');
  const plan = planLab(loadLabConfig());
  const hosts = [
    { name: 'node1', hostName: '10.213.1.90', port: 22, user: 'root' },
    { name: 'node2', hostName: '10.213.1.91', port: 22, user: 'root' },
  ];
  const spec = renderLabTargetFile(plan, hosts, { key: '/k', bmcPassword: '/p', accounts: '/a', knownHosts: '/lab/known_hosts' });
  t.is(spec.ssh?.knownHosts, '/lab/known_hosts', "the lab's own pinned host keys: a new lab's new keys are not a changed host");
  t.is(spec.name, `${plan.prefix}cluster`);
  t.deepEqual(spec.nodes[0]!.power.ipmi, { address: plan.bmcAddress, port: plan.nodes[0]!.bmcPort, username: 'admin', password: { passwordFile: '/p' } });
  t.deepEqual(spec.nodes[1]!.nics, { client: 'eth1', ring0: 'eth2', ring1: 'eth3', replication: 'eth4' });
  t.false(/libvirt|vagrant|virsh|qemu|hachaos-lab-node/i.test(JSON.stringify(spec)), 'no hypervisor name in it');
  const dir = tempDir();
  writeFileSync(join(dir, 'key'), FAKE_SSH_KEY, { mode: 0o600 });
  const file = writeLabTargetFile(join(dir, 'target'), plan, hosts, join(dir, 'key'), { bmcPassword: 'lab-bmc-pw', accounts: { user1: 'lab-pw-1' } }, join(dir, 'known_hosts'));
  const loaded = loadTargetFile(file, {});
  t.is(loaded.knownHosts, undefined, 'a known_hosts file not made yet seeds nothing');
  writeFileSync(join(dir, 'known_hosts'), 'node1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest\n');
  t.is(loadTargetFile(file, {}).knownHosts, join(dir, 'known_hosts'));
  t.is(loaded.nodes[1]!.ipmi!.password, 'lab-bmc-pw');
  t.deepEqual(loaded.accounts, { user1: 'lab-pw-1' });
  // A PDU lab (two supplies a node, one on each of two PDUs): the outlets, and the PDUs' SNMP addresses.
  const variants = planLab(loadLabConfig(DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-variants.json')));
  const pduSpec = renderLabTargetFile(variants, hosts, { key: '/k', bmcPassword: '/p', accounts: '/a' });
  t.deepEqual(pduSpec.nodes[0]!.power, { pdu: { outlets: [{ pdu: 'pdu1', outlet: 1 }, { pdu: 'pdu2', outlet: 1 }] } });
  t.deepEqual(Object.keys(pduSpec.pdus ?? {}), ['pdu1', 'pdu2']);
  t.is(pduSpec.pdus!.pdu2!.port, variants.powerDevices[1]!.port);
  t.is(pduSpec.storage, 'shared');
  t.false('replication' in pduSpec.nodes[0]!.nics, 'a shared store has no replication link');
  // Two fencing levels: the BMC and the outlets, both; and it loads, each node with both.
  const levels = planLab(loadLabConfig(DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-levels.json')));
  const levelSpec = renderLabTargetFile(levels, hosts, { key: '/k', bmcPassword: '/p', accounts: '/a' });
  t.deepEqual(levelSpec.nodes[1]!.power, { ipmi: { address: levels.bmcAddress, port: levels.nodes[1]!.bmcPort, username: 'admin', password: { passwordFile: '/p' } }, pdu: { outlets: [{ pdu: 'pdu1', outlet: 2 }, { pdu: 'pdu2', outlet: 2 }] } });
  const levelFile = writeLabTargetFile(join(dir, 'levels'), levels, hosts, join(dir, 'key'), { bmcPassword: 'lab-bmc-pw', accounts: { user1: 'lab-pw-1' } });
  const both = loadTargetFile(levelFile, {}).nodes[0]!;
  t.is(both.ipmi!.port, levels.nodes[0]!.bmcPort);
  t.deepEqual(both.outlets, [{ pdu: 'pdu1', outlet: 1 }, { pdu: 'pdu2', outlet: 1 }]);
});

test('certify --target: a scenario the target cannot do honestly is listed as not applicable, and with nothing left it exits 2 before touching a node', async (t) => {
  const dir = tempDir();
  const file = example(dir);
  const r = await run('./bin/ha-chaos', ['certify', '--target', file, '--yes', '--scenario', 'freeze-active', '--reports', join(dir, 'reports')], { timeoutMs: 60_000, reject: false, env: { ...env, HA_CHAOS_STATE_DIR: join(dir, 'state') } });
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stdout, /^N\/A {2}freeze-active: not applicable to cluster mail-prod-a \(storage drbd, real BMCs over IPMI\): needs a hypervisor to pause the machine/m);
  t.regex(r.stderr, /no scenario applies to cluster mail-prod-a/);
});

test('certify --target: a node that does not answer over SSH is a refusal (exit 2) naming it; nothing is injected', async (t) => {
  const dir = tempDir();
  const port = await freeTcpPort();
  // Loopback only: a port nobody listens on refuses the connection at once.
  const file = example(dir, (s) => s.replace('ssh: { address: 198.51.100.11 }', `ssh: { address: 127.0.0.1, port: ${port} }`).replace('ssh: { address: 198.51.100.12, user: ops, port: 2222 }', `ssh: { address: 127.0.0.2, port: ${port} }`).replaceAll(/address: 198\.51\.100\.20\d/g, 'address: 127.0.0.1'));
  const r = await run('./bin/ha-chaos', ['certify', '--target', file, '--yes', '--scenario', 'power-cut-active', '--reports', join(dir, 'reports')], { timeoutMs: 120_000, reject: false, env: { ...env, HA_CHAOS_STATE_DIR: join(dir, 'state') } });
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, /refusing to inject faults into this cluster/);
  t.regex(r.stderr, /mx1: cannot run a command as root over SSH/);
  t.false(r.stderr.includes('bmc-secret'), 'no secret in the refusal');
});
