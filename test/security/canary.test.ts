/**
 * The command-injection canary (issue 18): every string field of a target file, a lab config and
 * a PDU config is replaced, one at a time, by each hostile value below. The input must either be
 * refused as bad input (a ValidationError: exit code 2), or load; when it loads, it is rendered
 * through the real config writers (ssh_config, snmp.conf, snmpd.conf, lan.conf, corosync.conf, the
 * CIB, DRBD's resource, the nodes' provisioning script), and no rendered file may carry a line the
 * input did not mean to make: the canary path, or a directive that runs or includes something.
 * A canary file that appears fails the test outright.
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ValidationError } from '../../harness/core/schema.ts';
import { renderLanConf } from '../../harness/bmc/sim-files.ts';
import { renderCib, renderCorosyncConf, renderHosts } from '../../harness/provision/cluster-files.ts';
import { DEFAULT_LAB_CONFIG, parseLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderNodeProvision } from '../../harness/provision/provision.ts';
import { renderSshConfig } from '../../harness/cluster/ssh.ts';
import { renderClientConf } from '../../harness/power/apc-pdu-client.ts';
import { renderSnmpdConf } from '../../harness/power/virtual-pdu.ts';
import { renderDrbdResource } from '../../harness/storage/drbd.ts';
import { loadTargetFile } from '../../harness/cluster/target-file.ts';
import { FAKE_SSH_KEY, tempDir } from '../helpers.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const dir = tempDir('ha-chaos-canary-');
const CANARY = join(dir, 'CANARY');

/** Hostile values: line breaks of every kind, quotes, shell syntax, ssh_config's tokens and comments, option-like words. */
const PAYLOADS = [
  `kh"\nProxyCommand touch ${CANARY} #`,
  `x\r\nMatch exec "touch ${CANARY}"`,
  `x\nincludeFile /etc/shadow ${CANARY}`,
  `x\npersistentDir ${CANARY}`,
  `x\rProxyCommand touch ${CANARY}`,
  `x\u0085ProxyCommand touch ${CANARY}`,
  `x\u2028ProxyCommand touch ${CANARY}`,
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `x;touch ${CANARY}`,
  `x' ; touch ${CANARY} ; '`,
  `x" ; touch ${CANARY} ; "`,
  `-oProxyCommand=touch ${CANARY}`,
  `x%h${CANARY}`,
  `x #${CANARY}`,
  `x\\${CANARY}`,
  `x\u0000${CANARY}`,
  `x\u001b[2K${CANARY}`,
];

/** What no rendered file may hold: the canary, or a directive that would run or include something. */
const FORBIDDEN = [/CANARY/, /^\s*(ProxyCommand|Match|LocalCommand|KnownHostsCommand|includeFile|includeDir|persistentDir|Include)\b/im];

/** Every string leaf of `value`, with a setter: the JSON pointer and a copy of `value` with that leaf replaced. */
function leaves(value: Json, pointer = ''): { pointer: string; replace: (v: string) => Json }[] {
  if (typeof value === 'string') return [{ pointer, replace: (v) => v }];
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => leaves(item, `${pointer}/${i}`).map((l) => ({ pointer: l.pointer, replace: (v: string) => value.map((x, j) => (j === i ? l.replace(v) : x)) })));
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, item]) => leaves(item, `${pointer}/${k}`).map((l) => ({ pointer: l.pointer, replace: (v: string) => ({ ...value, [k]: l.replace(v) }) })));
  }
  return [];
}

interface Tally {
  refused: number;
  loaded: number;
  failures: string[];
}

/** Runs one case: it must be refused as bad input, or load and render nothing forbidden. */
function attempt(tally: Tally, label: string, load: () => string[]): void {
  let rendered: string[];
  try {
    rendered = load();
  } catch (error) {
    if (error instanceof ValidationError) tally.refused += 1;
    else tally.failures.push(`${label}: ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error)} (not a ValidationError)`);
    return;
  }
  tally.loaded += 1;
  for (const text of rendered) {
    const bad = FORBIDDEN.find((re) => re.test(text));
    if (bad) tally.failures.push(`${label}: a rendered file carries ${bad} (${JSON.stringify(text.split('\n').find((l) => bad.test(l)) ?? '').slice(0, 160)})`);
  }
  if (existsSync(CANARY)) tally.failures.push(`${label}: THE CANARY FILE EXISTS: a command ran`);
}


test('target files: every path and string field, every hostile value, through ssh_config and snmp.conf', (t) => {
  const base = join(dir, 'target');
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'key'), FAKE_SSH_KEY, { mode: 0o600 });
  writeFileSync(join(base, 'bmc1'), 'bmc-secret-one\n', { mode: 0o600 });
  writeFileSync(join(base, 'accounts'), 'user1 pw-one-secret\n', { mode: 0o600 });
  writeFileSync(join(base, 'known_hosts'), 'mx1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest\n');
  const target: Json = {
    name: 'mail-canary',
    storage: 'drbd',
    virtualIp: '127.0.0.100',
    ssh: { user: 'root', key: 'key', knownHosts: 'known_hosts' },
    mail: { domain: 'example.com', accounts: { file: 'accounts' } },
    nodes: [
      { name: 'mx1', ssh: { address: '127.0.0.2' }, nics: { client: 'eno1', ring0: 'eno2', ring1: 'eno3', replication: 'eno4' }, power: { ipmi: { address: '127.0.0.201', username: 'admin', password: { passwordFile: 'bmc1' } } } },
      { name: 'mx2', ssh: { address: '127.0.0.3', user: 'ops', key: 'key' }, nics: { client: 'eno1', ring0: 'eno2', ring1: 'eno3', replication: 'eno4' }, power: { pdu: { outlets: [{ pdu: 'pdu1', outlet: 1 }] } } },
    ],
    pdus: { pdu1: { address: '127.0.0.50', username: 'apc', password: { passwordEnv: 'PDU_PW' } } },
  };
  const env = { PDU_PW: 'long-enough-pass' };
  const tally: Tally = { refused: 0, loaded: 0, failures: [] };
  const render = (file: string, environment: NodeJS.ProcessEnv) => () => {
    const resolved = loadTargetFile(file, environment);
    const hosts = resolved.nodes.map((n) => ({ name: n.name, hostName: n.ssh.address, port: n.ssh.port, user: n.ssh.user, keyFile: n.ssh.key }));
    return [renderSshConfig(hosts, resolved.nodes[0]!.ssh.key, join(dir, 'state', resolved.name)), ...resolved.pdus.map((p) => renderClientConf(p))];
  };
  // The unchanged file loads and renders clean: the test can tell the two outcomes apart.
  writeFileSync(join(base, 'cluster.yaml'), stringify(target));
  attempt(tally, 'the valid file', render(join(base, 'cluster.yaml'), env));
  t.is(tally.loaded, 1, tally.failures.join('\n'));
  const fields = leaves(target);
  for (const { pointer, replace } of fields) {
    for (const [i, payload] of PAYLOADS.entries()) {
      const file = join(base, 'cluster.yaml');
      writeFileSync(file, stringify(replace(payload)));
      attempt(tally, `${pointer} <- payload ${i}`, render(file, env));
    }
  }
  // The secrets that come from the environment and from files, too.
  for (const [i, payload] of PAYLOADS.entries()) {
    writeFileSync(join(base, 'cluster.yaml'), stringify(target));
    attempt(tally, `PDU_PW <- payload ${i}`, render(join(base, 'cluster.yaml'), { PDU_PW: payload }));
    writeFileSync(join(base, 'bmc1'), `${payload}\n`, { mode: 0o600 });
    attempt(tally, `bmc1 file <- payload ${i}`, render(join(base, 'cluster.yaml'), env));
  }
  writeFileSync(join(base, 'bmc1'), 'bmc-secret-one\n', { mode: 0o600 });
  t.log(`${fields.length} string fields x ${PAYLOADS.length} payloads (+ the secrets): ${tally.refused} refused with exit code 2, ${tally.loaded} loaded and rendered clean`);
  t.deepEqual(tally.failures.slice(0, 10), []);
  t.true(tally.refused > fields.length * PAYLOADS.length * 0.9, 'almost every hostile value is refused at load');
});

test('lab configs: every string field, every hostile value, through corosync.conf, the CIB, DRBD, /etc/hosts, provisioning, lan.conf and snmpd.conf', (t) => {
  const tally: Tally = { refused: 0, loaded: 0, failures: [] };
  const secrets = { bmcPassword: 'bmc-pw-123', corosyncKey: 'Y29yb3N5bmMta2V5', accounts: { user1: 'pw-one' } };
  let fields = 0;
  for (const configFile of [DEFAULT_LAB_CONFIG, DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-variants.json'), DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-pdu.json'), DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-shared.json')].filter((f) => existsSync(f))) {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Json;
    const render = (value: Json) => () => {
      const plan = planLab(parseLabConfig(value, configFile));
      const out = [renderCorosyncConf(plan), renderCib(plan), renderHosts(plan), ...plan.nodes.map((n) => renderNodeProvision(plan, n, secrets))];
      if (plan.storage === 'drbd') out.push(renderDrbdResource(plan));
      const username = (value as { fencing: { bmcUsername: string } }).fencing.bmcUsername;
      out.push(renderLanConf({ name: 'node1', address: plan.bmcAddress, port: 6230, username, password: 'bmc-pw-123', target: { kind: 'libvirt', domain: 'd', uri: 'qemu:///system' } }, '/state/bmc/control'));
      out.push(renderSnmpdConf({ name: 'pdu1', address: plan.bmcAddress, port: 16100, username, password: 'long-enough-pass', outlets: [] }, '/state/pdu/pdu1'));
      return out;
    };
    attempt(tally, `${configFile} unchanged`, render(config));
    const mutable = leaves(config).filter((l) => !l.pointer.endsWith('$comment'));
    fields += mutable.length;
    for (const { pointer, replace } of mutable) {
      for (const [i, payload] of PAYLOADS.entries()) attempt(tally, `${configFile}${pointer} <- payload ${i}`, render(replace(payload)));
    }
  }
  t.log(`${fields} string fields x ${PAYLOADS.length} payloads: ${tally.refused} refused with exit code 2, ${tally.loaded} loaded and rendered clean`);
  t.deepEqual(tally.failures.slice(0, 10), []);
  t.false(existsSync(CANARY));
});

test('the canary can fail: a writer that copied a value raw would be caught', (t) => {
  const tally: Tally = { refused: 0, loaded: 0, failures: [] };
  attempt(tally, 'a raw writer', () => [`Host mx1\n  IdentityFile ${PAYLOADS[0]}\n`]);
  t.is(tally.failures.length, 1);
});
