/**
 * Issue 18: a root tool on shared CI hosts. Each finding has its test on the literal input that
 * broke the harness before: no file the harness reads may run a command, write outside its own
 * state, or have its contents printed.
 */
import test from 'ava';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CliError, ExitCode } from '../../harness/cli/exit-codes.ts';
import { exitCodeFor, program } from '../../harness/cli/main.ts';
import { ensurePrivateDir, pathProblem, vetInputFile, writePrivateFile } from '../../harness/core/host-files.ts';
import { readInputFile } from '../../harness/core/input-file.ts';
import { stateRoot } from '../../harness/core/paths.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { registerSecret } from '../../harness/core/secrets.ts';
import { oneLine } from '../../harness/core/terminal-text.ts';
import { parseLabConfig, loadLabConfig, loadLabConfig as loadLab } from '../../harness/cluster/lab-config.ts';
import { renderSshConfig, SshRunner } from '../../harness/cluster/ssh.ts';
import { ApcPduClient, renderClientConf } from '../../harness/power/apc-pdu-client.ts';
import { loadScenarioFile } from '../../harness/scenario/scenario-file.ts';
import { canonicalAddress, loadTargetFile } from '../../harness/cluster/target-file.ts';
import { FAKE_SSH_KEY, tempDir } from '../helpers.ts';

const NOBODY = 65534;

/** A valid target file in a fresh directory, as YAML text edited by `edit`; returns its path. */
function targetFile(dir: string, edit: (text: string) => string = (t) => t): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'key'), FAKE_SSH_KEY, { mode: 0o600 });
  writeFileSync(join(dir, 'bmc1'), 'bmc-secret-one\n', { mode: 0o600 });
  writeFileSync(join(dir, 'accounts'), 'user1 pw-one-secret\n', { mode: 0o600 });
  const text = `name: mail-sec
storage: drbd
virtualIp: 127.0.0.100
ssh: { user: root, key: key }
mail:
  domain: example.com
  accounts: { file: accounts }
nodes:
  - name: mx1
    ssh: { address: 127.0.0.2 }
    nics: { client: eno1, ring0: eno2, ring1: eno3, replication: eno4 }
    power:
      ipmi: { address: 127.0.0.201, username: admin, password: { passwordFile: bmc1 } }
  - name: mx2
    ssh: { address: 127.0.0.3 }
    nics: { client: eno1, ring0: eno2, ring1: eno3, replication: eno4 }
    power:
      ipmi: { address: 127.0.0.202, username: admin, password: { passwordFile: bmc1 } }
`;
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, edit(text));
  return file;
}

/** The refusal a load must end in: a ValidationError (exit code 2) naming `field`. */
function refused(t: import('ava').ExecutionContext, action: () => unknown, field: RegExp): string {
  const error = t.throws(action);
  t.true(error instanceof ValidationError || (error instanceof CliError && error.exitCode === ExitCode.USAGE), `not a usage error: ${String(error)}`);
  t.is(exitCodeFor(error), 2);
  t.regex(error!.message, field);
  return error!.message;
}

// 1. Command execution as root from a target file (ssh_config injection).

test('1. knownHosts "kh\\"\\nProxyCommand touch <canary> #" is refused, and nothing runs', (t) => {
  const dir = tempDir();
  const canary = join(dir, 'x');
  const file = targetFile(dir, (s) => s.replace('ssh: { user: root, key: key }', `ssh: { user: root, key: key, knownHosts: "kh\\"\\nProxyCommand touch ${canary} #" }`));
  refused(t, () => loadTargetFile(file), /line 4: \/ssh\/knownHosts: must be a path of letters/);
  t.false(existsSync(canary));
});

test('1. Match exec and CRLF variants in ssh.key and nodes[].ssh.key are refused', (t) => {
  for (const payload of [`k\\r\\nMatch exec \\"touch /tmp/ha-chaos-canary\\"`, 'k\\nMatch exec true', 'k\\u0085ProxyCommand id', 'k #comment', 'k%d']) {
    const dir = tempDir();
    refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('ssh: { user: root, key: key }', `ssh: { user: root, key: "${payload}" }`))), /\/ssh\/key: must be a path/);
    refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('ssh: { address: 127.0.0.3 }', `ssh: { address: 127.0.0.3, key: "${payload}" }`))), /\/nodes\/1\/ssh\/key: must be a path/);
  }
});

test('1. renderSshConfig refuses what the loaders let through before: quotes, newlines, %, # in any value', (t) => {
  const host = { name: 'mx1', hostName: '127.0.0.2', port: 22, user: 'root' };
  for (const key of ['/k"\nProxyCommand touch /tmp/x #', '/k\r\nMatch exec "id"', '/k%h', '/k #x']) {
    t.throws(() => renderSshConfig([host], key, '/state/targets/a'), { instanceOf: ValidationError });
  }
  t.throws(() => renderSshConfig([{ ...host, user: 'root\nProxyCommand id' }], '/k', '/state/targets/a'), { instanceOf: ValidationError });
  t.throws(() => renderSshConfig([{ ...host, hostName: 'h"x' }], '/k', '/state/targets/a'), { instanceOf: ValidationError });
  t.throws(() => renderSshConfig([host], '/k', '/state/x"\nProxyCommand id'), { instanceOf: ValidationError }, 'the state directory reaches ControlPath');
  const good = renderSshConfig([host], '/keys/with space/k', '/state/targets/a');
  t.regex(good, /^ {2}IdentityFile "\/keys\/with space\/k"$/m);
});

test('1. HA_CHAOS_STATE_DIR with a newline, empty or relative is refused naming the variable', (t) => {
  for (const value of ['/tmp/s\nProxyCommand id', '', 'relative/state', '/tmp/s"x']) {
    const error = t.throws(() => stateRoot({ HA_CHAOS_STATE_DIR: value }), { instanceOf: ValidationError });
    t.regex(error!.message, /HA_CHAOS_STATE_DIR: /);
    t.is(exitCodeFor(error), 2);
  }
  t.is(stateRoot({ HA_CHAOS_STATE_DIR: '/tmp/ha-chaos state' }), '/tmp/ha-chaos state');
});

// 2. ssh.knownHosts may name any file, and ssh appended to it as root.

test('2. knownHosts of /etc/shadow, /etc/passwd or /root/.bashrc is refused', (t) => {
  const dir = tempDir();
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('key: key }', 'key: key, knownHosts: /etc/shadow }'))), /\/ssh\/knownHosts: it is a system file \(under \/etc\)/);
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('key: key }', 'key: key, knownHosts: /etc/passwd }'))), /system file/);
  if (existsSync('/root/.bashrc')) {
    refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('key: key }', 'key: key, knownHosts: /root/.bashrc }'))), /\/ssh\/knownHosts: cannot use this known_hosts file: (line \d+ is not a known_hosts entry|it is private)/);
  }
});

test('2. a known_hosts file the user names seeds the harness\'s own copy; ssh never writes the original', (t) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  const original = join(dir, 'known_hosts');
  const line = 'mx1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest\n';
  writeFileSync(original, line, { mode: 0o644 });
  const config = join(state, 'ssh_config');
  SshRunner.write(config, [{ name: 'mx1', hostName: '127.0.0.2', port: 22, user: 'root' }], join(dir, 'key'), state, original);
  const text = readFileSync(config, 'utf8');
  t.regex(text, new RegExp(`UserKnownHostsFile ${join(state, 'known_hosts')}$`, 'm'));
  t.false(text.includes(original + '\n'));
  t.is(readFileSync(join(state, 'known_hosts'), 'utf8'), line);
  t.is(statSync(join(state, 'known_hosts')).mode & 0o777, 0o600);
});

// 3. snmp.conf injection.

test('3. a PDU username with a newline and persistentDir, or a passphrase with includeFile, never reaches snmp.conf', (t) => {
  t.throws(() => renderClientConf({ username: 'admin\npersistentDir /tmp/ha-chaos-pwn', password: 'long-enough-pass' }), { instanceOf: ValidationError });
  t.throws(() => renderClientConf({ username: 'admin', password: 'long-enough\nincludeFile /etc/shadow' }), { instanceOf: ValidationError });
  t.throws(() => renderClientConf({ username: 'admin', password: 'has space passphrase' }), { instanceOf: ValidationError });
  const dir = tempDir();
  const pdu = `pdus:\n  pdu1: { address: 127.0.0.50, username: "admin\\npersistentDir /tmp/x", password: { passwordEnv: PDU_PW } }\n`;
  const edit = (s: string) => s.replace('      ipmi: { address: 127.0.0.201, username: admin, password: { passwordFile: bmc1 } }', '      pdu: { outlets: [{ pdu: pdu1, outlet: 1 }] }') + pdu;
  refused(t, () => loadTargetFile(targetFile(dir, edit), { PDU_PW: 'long-enough-pass' }), /\/pdus\/pdu1\/username: must be a user name/);
  const good = (s: string) => edit(s).replace('"admin\\npersistentDir /tmp/x"', 'admin');
  refused(t, () => loadTargetFile(targetFile(dir, good), { PDU_PW: 'long-enough\nincludeFile /etc/shadow' }), /\/pdus\/pdu1\/password\/passwordEnv: the SNMPv3 passphrase of PDU pdu1: contains a control character/);
  refused(t, () => loadTargetFile(targetFile(dir, good), { PDU_PW: ' long-enough-pass' }), /begins or ends with a space/);
  t.is(loadTargetFile(targetFile(dir, good), { PDU_PW: 'long-enough-pass' }).pdus[0]!.username, 'admin');
});

test('3. a pre-existing 0644 snmp.conf is 0600 after the passphrase is written into it', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'snmp.conf'), 'old\n', { mode: 0o644 });
  chmodSync(join(dir, 'snmp.conf'), 0o644);
  ApcPduClient.writeConf(dir, 'admin', 'long-enough-pass');
  t.is(statSync(join(dir, 'snmp.conf')).mode & 0o777, 0o600);
  t.regex(readFileSync(join(dir, 'snmp.conf'), 'utf8'), /^defAuthPassphrase long-enough-pass$/m);
});

// 4. File content printed in errors.

const SHADOW_LIKE = 'root:$y$j9T$Fake5alt$HashThatMustNotBePrintedXyz:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n';

test('4. --scenario /etc/shadow, run /etc/shadow, a --target link to it: refused without quoting it', async (t) => {
  const secretish = existsSync('/etc/shadow') ? readFileSync('/etc/shadow', 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[1] ?? '').filter((h) => h.length > 3) : [];
  const dir = tempDir();
  symlinkSync('/etc/shadow', join(dir, 'target.yaml'));
  for (const args of [['certify', '--scenario', '/etc/shadow'], ['run', '/etc/shadow'], ['certify', '--target', join(dir, 'target.yaml')]]) {
    const error = await t.throwsAsync(program().parseAsync(['node', 'ha-chaos', ...args]));
    t.is(exitCodeFor(error), 2, args.join(' '));
    for (const hash of secretish) t.false(error!.message.includes(hash), 'no password hash in the message');
    t.regex(error!.message, /system file|symbolic link/);
  }
});

test('4. an unknown key is named by its line and a safe excerpt, never by raw content', (t) => {
  const dir = tempDir();
  const file = join(dir, 'copy.yaml');
  writeFileSync(file, SHADOW_LIKE, { mode: 0o644 });
  const message = refused(t, () => loadScenarioFile(file), /line 1: /);
  t.false(message.includes('HashThatMustNotBePrinted'));
  t.false(message.includes('$y$j9T'));
  t.regex(message, /\(a name of \d+ characters, not shown\): is not a known field/);
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, readFileSync('fixtures/scenarios/power-cut-active.yaml', 'utf8').replace(/^fault:/m, 'faultt:'));
  t.regex(refused(t, () => loadScenarioFile(typo), /faultt: is not a known field/), /line \d+: /);
  const json = join(dir, 'lab.json');
  writeFileSync(json, '{"name": "lab", "x:$y$secret-hash": 1, "x:$y$secret-hash": 2}');
  t.false(refused(t, () => loadLab(json), /duplicate key/).includes('secret-hash'));
});

test('4. another user\'s private file and a root-only file that is not the harness\'s own are refused before they are parsed', (t) => {
  const dir = tempDir();
  const theirs = join(dir, 'theirs.yaml');
  writeFileSync(theirs, SHADOW_LIKE, { mode: 0o600 });
  chownSync(theirs, NOBODY, NOBODY);
  const message = refused(t, () => loadScenarioFile(theirs), /private to uid 65534 \(mode 0600\)/);
  t.false(message.includes('Hash'));
  // World-readable files of another user are input like any other (a CI checkout owned by the runner).
  const shared = join(dir, 'shared.yaml');
  writeFileSync(shared, readFileSync('fixtures/scenarios/power-cut-active.yaml'), { mode: 0o644 });
  chownSync(shared, NOBODY, NOBODY);
  t.is(loadScenarioFile(shared).name, 'power-cut-active');
});

// 5. Planted state.

test('5. a state directory owned by another user, mode 0777, holding ssh_config -> victim: refused, the victim untouched', (t) => {
  const root = tempDir();
  const planted = join(root, 'targets', 'a-very-long-cluster-name-that-moves-the-control-sockets-to-run-xxxxxxxxxxxxxxxxxxxx');
  mkdirSync(planted, { recursive: true });
  chmodSync(planted, 0o777);
  chownSync(planted, NOBODY, NOBODY);
  const victim = join(root, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(planted, 'ssh_config'));
  const previous = process.env.HA_CHAOS_STATE_DIR;
  process.env.HA_CHAOS_STATE_DIR = root;
  try {
    const error = t.throws(() => SshRunner.write(join(planted, 'ssh_config'), [{ name: 'mx1', hostName: '127.0.0.2', port: 22, user: 'root' }], '/k', planted), { instanceOf: ValidationError });
    t.regex(error!.message, /belongs to uid 65534|writable by other users/);
    t.is(exitCodeFor(error), 2);
  } finally {
    if (previous === undefined) delete process.env.HA_CHAOS_STATE_DIR;
    else process.env.HA_CHAOS_STATE_DIR = previous;
  }
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
});

test('5. every file the harness writes is opened without following a link, and its mode is set on every write', (t) => {
  const dir = ensurePrivateDir(join(tempDir(), 'own'));
  const victim = join(tempDir(), 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(dir, 'file'));
  t.throws(() => writePrivateFile(join(dir, 'file'), 'x'), { message: /symbolic link the harness did not make/ });
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  writeFileSync(join(dir, 'wide'), 'old', { mode: 0o666 });
  chmodSync(join(dir, 'wide'), 0o666);
  writePrivateFile(join(dir, 'wide'), 'new');
  t.is(statSync(join(dir, 'wide')).mode & 0o777, 0o600);
  t.is(readFileSync(join(dir, 'wide'), 'utf8'), 'new');
  const other = join(dir, 'other');
  writeFileSync(other, 'theirs');
  chownSync(other, NOBODY, NOBODY);
  t.throws(() => writePrivateFile(other, 'x'), { message: /belongs to uid 65534/ });
  t.is(readFileSync(other, 'utf8'), 'theirs', 'not truncated');
});

// 6. Root-only files accepted as credentials or packages.

test('6. passwordFile: /etc/shadow is refused as a credential', (t) => {
  const dir = tempDir();
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('password: { passwordFile: bmc1 } }\n  - name: mx2', 'password: { passwordFile: /etc/shadow } }\n  - name: mx2'))), /\/nodes\/0\/power\/ipmi\/password\/passwordFile: it is a system file/);
  const theirs = join(dir, 'their-pw');
  writeFileSync(theirs, 'their-password\n', { mode: 0o644 });
  chownSync(theirs, NOBODY, NOBODY);
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('passwordFile: bmc1 } }\n  - name: mx2', 'passwordFile: their-pw } }\n  - name: mx2'))), /belongs to uid 65534, not to this user: a credential must be the user's own file/);
  const inSsh = join(dir, '.ssh');
  mkdirSync(inSsh);
  writeFileSync(join(inSsh, 'id_rsa'), FAKE_SSH_KEY, { mode: 0o600 });
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('passwordFile: bmc1 } }\n  - name: mx2', 'passwordFile: .ssh/id_rsa } }\n  - name: mx2'))), /lies in a \.ssh directory/);
});

test('6. a mail.package link to /etc/shadow, and a text file named .deb, are refused', (t) => {
  const base = loadLabConfig();
  const dir = tempDir();
  symlinkSync('/etc/shadow', join(dir, 'axigen.deb'));
  refused(t, () => parseLabConfig({ ...base, mail: { ...base.mail, package: join(dir, 'axigen.deb') } }, 'lab.json'), /\/mail\/package: .*symbolic link/);
  writeFileSync(join(dir, 'text.deb'), 'just text\n');
  refused(t, () => parseLabConfig({ ...base, mail: { ...base.mail, package: join(dir, 'text.deb') } }, 'lab.json'), /is named \.deb but is not a Debian package/);
});

// 7. Smaller, same family.

test('7. --target \'\' and --scenario \'\' are usage errors, not the lab or every scenario', async (t) => {
  for (const args of [['certify', '--target', ''], ['certify', '--scenario', ''], ['certify', '--reports', ''], ['certify', '--config', '']]) {
    const error = await t.throwsAsync(program().parseAsync(['node', 'ha-chaos', ...args]));
    t.is(exitCodeFor(error), 2, args.join(' '));
    t.regex(error!.message, /is empty/);
  }
});

test('7. --scenario __proto__ and outlets: [{pdu: constructor}] are refused by name, not found on a prototype', async (t) => {
  const error = await t.throwsAsync(program().parseAsync(['node', 'ha-chaos', 'certify', '--scenario', '__proto__']));
  t.is(exitCodeFor(error), 2);
  t.regex(error!.message, /no scenario named "__proto__"/);
  const dir = tempDir();
  const pdus = `pdus:\n  pdu1: { address: 127.0.0.50, username: admin, password: { passwordEnv: PDU_PW } }\n`;
  refused(
    t,
    () => loadTargetFile(targetFile(dir, (s) => s.replace('      ipmi: { address: 127.0.0.201, username: admin, password: { passwordFile: bmc1 } }', '      pdu: { outlets: [{ pdu: constructor, outlet: 1 }] }') + pdus), { PDU_PW: 'long-enough-pass' }),
    /\/nodes\/0\/power\/pdu\/outlets\/0\/pdu: no PDU named "constructor"/,
  );
});

test('7. an environment password of three spaces, or under 3 characters, is refused naming the field (exit 2)', (t) => {
  const dir = tempDir();
  const file = targetFile(dir, (s) => s.replace('passwordFile: bmc1 } }\n  - name: mx2', 'passwordEnv: BMC_PW } }\n  - name: mx2'));
  refused(t, () => loadTargetFile(file, { BMC_PW: '   ' }), /\/nodes\/0\/power\/ipmi\/password\/passwordEnv: the BMC password of mx1: is only spaces/);
  refused(t, () => loadTargetFile(file, { BMC_PW: 'ab' }), /\/nodes\/0\/power\/ipmi\/password\/passwordEnv: the BMC password of mx1: is 2 bytes long/);
  t.throws(() => registerSecret('","'), { instanceOf: ValidationError }, 'a secret of punctuation would rewrite every JSON file');
});

test('7. a key that is a FIFO, /dev/zero, a directory or an empty file is refused', (t) => {
  const dir = tempDir();
  spawnSync('mkfifo', [join(dir, 'fifo')]);
  mkdirSync(join(dir, 'adir'));
  writeFileSync(join(dir, 'empty'), '', { mode: 0o600 });
  for (const [key, why] of [['fifo', /not a regular file/], ['/dev/zero', /not a regular file|system file/], ['adir', /not a regular file/], ['empty', /it is empty/]] as const) {
    refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('key: key }', `key: ${key} }`))), why);
  }
});

test('7. duplicate nodes spelled differently, and one BMC for both nodes, are caught', (t) => {
  t.is(canonicalAddress('127.000.000.002'), '127.0.0.2');
  t.is(canonicalAddress('LOCALHOST.'), '127.0.0.1');
  const dir = tempDir();
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('address: 127.0.0.2 }', 'address: 127.000.000.003 }'))), /\/nodes\/0\/ssh\/address: an IPv4 address with leading zeros/);
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('address: 127.0.0.2 }', 'address: localhost }').replace('address: 127.0.0.3 }', 'address: 127.0.0.1 }'))), /\/nodes\/1\/ssh\/address: both nodes are reached at the same address/);
  refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('address: 127.0.0.202', 'address: 127.0.0.201'))), /\/nodes\/1\/power\/ipmi\/address: both nodes name the same BMC/);
});

test('7. an IPMI username with a newline or NUL is refused', (t) => {
  const dir = tempDir();
  for (const name of ['"admin\\nx"', '"admin\\0"']) {
    refused(t, () => loadTargetFile(targetFile(dir, (s) => s.replace('127.0.0.201, username: admin', `127.0.0.201, username: ${name}`))), /\/nodes\/0\/power\/ipmi\/username: must be a user name/);
  }
});

test('7. report prints a run\'s strings with their control characters escaped: a file cannot fake a PASS line', (t) => {
  t.is(oneLine('x\n✔ PASS power-cut-active\u001b[2K'), 'x\\u000a✔ PASS power-cut-active\\u001b[2K');
});

test('7. a 27,000-key target file is refused quickly with a bounded list of problems', (t) => {
  const dir = tempDir();
  const file = targetFile(dir, (s) => s + Array.from({ length: 27_000 }, (_, i) => `k${i}: 1`).join('\n') + '\n');
  const started = performance.now();
  const message = refused(t, () => loadTargetFile(file), /k0: is not a known field/);
  t.log(`27,000 keys: refused in ${(performance.now() - started).toFixed(0)} ms, ${message.split('\n').length} lines`);
  t.true(message.split('\n').length <= 23, `${message.split('\n').length} lines`);
  t.regex(message, /and \d+ more problems \(not listed\)/);
});

test('7. --reports /dev/null and a state directory owned by another user are bad input (exit 2) naming them', async (t) => {
  const error = await t.throwsAsync(program().parseAsync(['node', 'ha-chaos', 'certify', '--scenario', 'power-cut-active', '--reports', '/dev/null', '--target', '/nonexistent/none.yaml']));
  t.is(exitCodeFor(error), 2);
  t.regex(error!.message, /--reports: \/dev\/null is not a directory/);
  const root = tempDir();
  chownSync(root, NOBODY, NOBODY);
  const previous = process.env.HA_CHAOS_STATE_DIR;
  process.env.HA_CHAOS_STATE_DIR = root;
  try {
    const stateError = t.throws(() => ensurePrivateDir(join(stateRoot(), 'lab'), stateRoot()));
    t.is(exitCodeFor(stateError), 2);
    t.regex(stateError!.message, /belongs to uid 65534.*HA_CHAOS_STATE_DIR/s);
  } finally {
    if (previous === undefined) delete process.env.HA_CHAOS_STATE_DIR;
    else process.env.HA_CHAOS_STATE_DIR = previous;
  }
});

test('input files: a link is never followed, a system file never read', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'real.yaml'), 'a: 1\n');
  symlinkSync(join(dir, 'real.yaml'), join(dir, 'link.yaml'));
  t.throws(() => readInputFile(join(dir, 'link.yaml'), { maxBytes: 100, what: 'scenario file' }), { message: /symbolic link/ });
  t.throws(() => vetInputFile(join(dir, 'link.yaml'), 'input', 'scenario file'), { message: /symbolic link/ });
  t.throws(() => readInputFile('/etc/hostname', { maxBytes: 1000, what: 'scenario file' }), { message: /system file \(under \/etc\)/ });
  t.true(lstatSync(join(dir, 'real.yaml')).isFile());
  t.is(pathProblem('a/b c.yaml'), undefined);
  for (const bad of ['', '-rf', 'a\nb', 'a"b', "a'b", 'a$b', 'a`b', 'a%b', 'a#b', 'a\\b', 'a;b', 'a b ']) t.truthy(pathProblem(bad), JSON.stringify(bad));
});

test('7. a 60 MiB observations file with one field missing in every sample is refused within seconds, in a bounded message', async (t) => {
  const { cpSync } = await import('node:fs');
  const { readObservations } = await import('../../harness/report/run-dir.ts');
  const dir = join(tempDir(), 'run');
  cpSync('fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910', dir, { recursive: true });
  const observations = JSON.parse(readFileSync(join(dir, 'observations.json'), 'utf8')) as { samples: Record<string, unknown>[] };
  const { node: _node, ...sample } = observations.samples[0]!;
  const padded = { ...sample, source: 'snapshot'.padEnd(400, ' ') };
  observations.samples = Array.from({ length: 100_000 }, () => padded);
  writeFileSync(join(dir, 'observations.json'), JSON.stringify(observations));
  t.log(`observations.json: ${(statSync(join(dir, 'observations.json')).size / 2 ** 20).toFixed(0)} MiB`);
  const started = performance.now();
  const error = t.throws(() => readObservations(dir), { instanceOf: ValidationError });
  const ms = performance.now() - started;
  t.log(`refused in ${ms.toFixed(0)} ms, ${error!.message.split('\n').length} lines`);
  t.true(error!.message.split('\n').length <= 23);
  t.regex(error!.message, /\/samples\/0\/node: is required but missing|samples\/0: .*node/);
  t.regex(error!.message, /more problems \(not listed\)/);
});

test('7. report and replay print a run\'s strings escaped: a results.json cannot fake a PASS line or send escapes', async (t) => {
  const { cpSync } = await import('node:fs');
  const { run } = await import('../../harness/core/exec.ts');
  const dir = join(tempDir(), 'run');
  cpSync('fixtures/runs/20261125-172304-replication-loss-then-power-cut-active-9910', dir, { recursive: true });
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { checks: Record<string, { summary: string }> };
  const first = Object.keys(results.checks)[0]!;
  results.checks[first]!.summary = 'x\nPASS power-cut-active (all fine)\u001b[2K\u001b]0;pwned\u0007';
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
  const r = await run('./bin/ha-chaos', ['report', dir], { timeoutMs: 60_000, reject: false, env: { HA_CHAOS_STATE_DIR: '/nonexistent-ha-chaos-state' } });
  const out = r.stdout + r.stderr;
  t.notRegex(out, /^PASS power-cut-active \(all fine\)/m, 'no line of its own');
  t.false(out.includes('\u001b'), 'no raw escape');
  t.regex(out, /x\\u000aPASS power-cut-active \(all fine\)\\u001b\[2K/);
});
