/**
 * Mutation classes of hostile target files (issue 18): each class makes seeded mutants of one
 * family of attack and declares the outcome it must have. `refused`: bad input, a ValidationError
 * (exit code 2) naming the field; a mutant of such a class that loads fails the test, so a loader
 * that validated nothing would fail it at once. `accepted`: unusual but legitimate input that must
 * load (a loader that refused everything would fail too).
 *
 * HA_CHAOS_FUZZ_SEED and HA_CHAOS_FUZZ_CASES (per class) change the seed and the size.
 */
import test from 'ava';
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exitCodeFor } from '../../harness/cli/main.ts';
import { SeededRandom } from '../../harness/core/random.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { loadTargetFile } from '../../harness/cluster/target-file.ts';
import { FAKE_SSH_KEY, tempDir } from '../helpers.ts';

const SEED = Number(process.env.HA_CHAOS_FUZZ_SEED ?? 20261205);
const CASES = Number(process.env.HA_CHAOS_FUZZ_CASES ?? 60);

interface Target {
  [key: string]: unknown;
  ssh: { user: string; key: string; knownHosts?: string };
  mail: { domain: string; accounts: { file: string } };
  nodes: Array<{ name: string; ssh: Record<string, unknown>; nics: Record<string, string>; power: Record<string, unknown> }>;
  pdus?: Record<string, unknown>;
}

function baseTarget(): Target {
  return {
    name: 'mail-fuzz',
    storage: 'drbd',
    virtualIp: '127.0.0.100',
    ssh: { user: 'root', key: 'key' },
    mail: { domain: 'example.com', accounts: { file: 'accounts' } },
    nodes: [
      { name: 'mx1', ssh: { address: '127.0.0.2' }, nics: { client: 'eno1', ring0: 'eno2', ring1: 'eno3', replication: 'eno4' }, power: { ipmi: { address: '127.0.0.201', username: 'admin', password: { passwordFile: 'bmc1' } } } },
      { name: 'mx2', ssh: { address: '127.0.0.3' }, nics: { client: 'eno1', ring0: 'eno2', ring1: 'eno3', replication: 'eno4' }, power: { ipmi: { address: '127.0.0.202', username: 'admin', password: { passwordEnv: 'BMC2_PW' } } } },
    ],
  };
}

/** One mutant: the target as edited, the environment, and the field a refusal must name. */
interface Mutant {
  target: Target;
  env: NodeJS.ProcessEnv;
  field: string;
  what: string;
}

interface MutationClass {
  name: string;
  expect: 'refused' | 'accepted';
  make(random: SeededRandom, dir: string): Mutant;
}

const pick = <T>(random: SeededRandom, items: readonly T[]): T => items[random.int(items.length)]!;
const ENV = { BMC2_PW: 'bmc-secret-two' };

const BREAKS = ['\n', '\r\n', '\r', '\u0085', '\u2028', '"\n', '" ', '%', '#', '$(', '`', ';', "'", '\\', '\u0000', '\u001b'];
const DIRECTIVES = ['ProxyCommand touch /tmp/x', 'Match exec "id"', 'includeFile /etc/shadow', 'persistentDir /tmp/x', 'LocalCommand id', 'Include /etc/ssh/x'];
/** The path fields of a target file, with the setter of each. */
const PATH_FIELDS: Array<[string, (t: Target, v: string) => void]> = [
  ['/ssh/key', (t, v) => (t.ssh.key = v)],
  ['/ssh/knownHosts', (t, v) => (t.ssh.knownHosts = v)],
  ['/mail/accounts/file', (t, v) => (t.mail.accounts.file = v)],
  ['/nodes/0/power/ipmi/password/passwordFile', (t, v) => ((t.nodes[0]!.power.ipmi as { password: object }).password = { passwordFile: v })],
  ['/nodes/1/ssh/key', (t, v) => (t.nodes[1]!.ssh.key = v)],
];

const CLASSES: MutationClass[] = [
  {
    name: 'path fields carrying config or shell syntax',
    expect: 'refused',
    make(random) {
      const [field, set] = pick(random, PATH_FIELDS);
      const target = baseTarget();
      const value = `${pick(random, ['key', 'kh', '/tmp/k', 'accounts'])}${pick(random, BREAKS)}${pick(random, DIRECTIVES)}${random.int(2) ? ' #' : ''}`;
      set(target, value);
      return { target, env: ENV, field, what: JSON.stringify(value) };
    },
  },
  {
    name: 'path fields naming system files',
    expect: 'refused',
    make(random) {
      const [field, set] = pick(random, PATH_FIELDS);
      const target = baseTarget();
      const value = pick(random, ['/etc/shadow', '/etc/passwd', '/etc/ssh/ssh_host_ed25519_key', '/proc/self/environ', '/dev/zero', '/sys/kernel/notes', '/boot/grub/grub.cfg', '/var/log/auth.log', '/usr/bin/env']);
      set(target, value);
      return { target, env: ENV, field, what: value };
    },
  },
  {
    name: 'path fields that are links, directories, FIFOs or another user\'s private files',
    expect: 'refused',
    make(random, dir) {
      const [field, set] = pick(random, PATH_FIELDS);
      const target = baseTarget();
      const kind = random.int(3);
      const name = `odd-${random.int(1_000_000)}`;
      if (kind === 0) symlinkSync(join(dir, pick(random, ['key', 'bmc1', 'accounts'])), join(dir, name));
      else if (kind === 1) mkdirSync(join(dir, name));
      else {
        writeFileSync(join(dir, name), field.endsWith('key') ? FAKE_SSH_KEY : 'user1 theirs-pw\n', { mode: 0o600 });
        chownSync(join(dir, name), 65534, 65534);
      }
      set(target, name);
      return { target, env: ENV, field, what: ['a link', 'a directory', "another user's file"][kind]! };
    },
  },
  {
    name: 'user names and PDU credentials carrying snmp.conf syntax',
    expect: 'refused',
    make(random) {
      const target = baseTarget();
      const value = `admin${pick(random, BREAKS)}${pick(random, DIRECTIVES)}`;
      if (random.int(2)) {
        (target.nodes[0]!.power.ipmi as { username: string }).username = value;
        return { target, env: ENV, field: '/nodes/0/power/ipmi/username', what: JSON.stringify(value) };
      }
      target.nodes[1]!.power = { pdu: { outlets: [{ pdu: 'pdu1', outlet: 1 }] } };
      target.pdus = { pdu1: { address: '127.0.0.50', username: random.int(2) ? value : 'apc', password: { passwordEnv: 'PDU_PW' } } };
      const username = (target.pdus.pdu1 as { username: string }).username;
      return { target, env: { ...ENV, PDU_PW: username === 'apc' ? `long-enough${value}` : 'long-enough-pass' }, field: username === 'apc' ? '/pdus/pdu1/password/passwordEnv' : '/pdus/pdu1/username', what: JSON.stringify(value) };
    },
  },
  {
    name: 'secrets of spaces, too short, or with control characters',
    expect: 'refused',
    make(random) {
      const target = baseTarget();
      const value = pick(random, ['   ', '\t', 'ab', ' x', 'pw\n', 'pw\u0000x', 'pw\u001b[2J', 'x'.repeat(21)]);
      return { target, env: { BMC2_PW: value }, field: '/nodes/1/power/ipmi/password/passwordEnv', what: JSON.stringify(value) };
    },
  },
  {
    name: 'one node, BMC or PDU spelled twice',
    expect: 'refused',
    make(random) {
      const target = baseTarget();
      const kind = random.int(3);
      if (kind === 0) {
        const [a, b] = pick(random, [['localhost', '127.0.0.1'], ['127.0.0.1', 'LOCALHOST.'], ['mx.example.com', 'MX.example.com.']] as const);
        target.nodes[0]!.ssh.address = a;
        target.nodes[1]!.ssh.address = b;
        return { target, env: ENV, field: '/nodes/1/ssh/address', what: `${a} and ${b}` };
      }
      if (kind === 1) {
        target.nodes[0]!.ssh.address = pick(random, ['127.000.000.002', '010.0.0.1', '127.0.0.02']);
        return { target, env: ENV, field: '/nodes/0/ssh/address', what: String(target.nodes[0]!.ssh.address) };
      }
      (target.nodes[1]!.power.ipmi as { address: string }).address = '127.0.0.201';
      return { target, env: ENV, field: '/nodes/1/power/ipmi/address', what: 'one BMC for both' };
    },
  },
  {
    name: 'names that are prototype properties',
    expect: 'refused',
    make(random) {
      const target = baseTarget();
      const name = pick(random, ['constructor', 'toString', 'hasOwnProperty', 'valueOf']);
      target.nodes[1]!.power = { pdu: { outlets: [{ pdu: name.toLowerCase(), outlet: 1 }] } };
      target.pdus = { pdu1: { address: '127.0.0.50', username: 'apc', password: { passwordEnv: 'PDU_PW' } } };
      return { target, env: { ...ENV, PDU_PW: 'long-enough-pass' }, field: '/nodes/1/power/pdu/outlets/0/pdu', what: name };
    },
  },
  {
    name: 'unusual but legitimate: spaces in paths, absolute paths, localhost, dotted users',
    expect: 'accepted',
    make(random, dir) {
      const target = baseTarget();
      const spaced = join(dir, `keys dir ${random.int(1000)}`);
      mkdirSync(spaced, { recursive: true });
      writeFileSync(join(spaced, 'id key'), FAKE_SSH_KEY, { mode: 0o600 });
      target.ssh.key = random.int(2) ? join(spaced, 'id key') : `./${spaced.slice(dir.length + 1)}/id key`;
      target.ssh.user = pick(random, ['root', 'ops.admin', 'ci_user-1']);
      if (random.int(2)) target.nodes[0]!.ssh.address = 'localhost';
      target.nodes[1]!.ssh.port = 2200 + random.int(100);
      return { target, env: { BMC2_PW: pick(random, ['pw with inner spaces', 'P@ss"word\'1', 'ünïcødé-pw']) }, field: '', what: String(target.ssh.key) };
    },
  },
];

for (const mutation of CLASSES) {
  test(`${mutation.expect === 'refused' ? 'must be refused' : 'must load'}: ${mutation.name}`, (t) => {
    const random = new SeededRandom(SEED).fork(mutation.name);
    const dir = tempDir('ha-chaos-fuzz-class-');
    writeFileSync(join(dir, 'key'), FAKE_SSH_KEY, { mode: 0o600 });
    writeFileSync(join(dir, 'bmc1'), 'bmc-secret-one\n', { mode: 0o600 });
    writeFileSync(join(dir, 'accounts'), 'user1 pw-one-secret\n', { mode: 0o600 });
    const failures: string[] = [];
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const m = mutation.make(random, dir);
      const file = join(dir, 'cluster.yaml');
      writeFileSync(file, stringify(m.target));
      let error: unknown;
      try {
        loadTargetFile(file, m.env);
      } catch (e) {
        error = e;
      }
      if (error === undefined) {
        if (mutation.expect === 'refused') failures.push(`case ${i} (${m.field} = ${m.what}) loaded; it must be refused`);
        continue;
      }
      refused += 1;
      if (mutation.expect === 'accepted') failures.push(`case ${i} (${m.what}) was refused: ${(error as Error).message.slice(0, 200)}`);
      else if (!(error instanceof ValidationError) || exitCodeFor(error) !== 2) failures.push(`case ${i} (${m.field} = ${m.what}): ${String(error).slice(0, 200)} is not a usage error`);
      else if (!error.message.includes(m.field)) failures.push(`case ${i} (${m.field} = ${m.what}): the refusal does not name ${m.field}: ${error.message.slice(0, 200)}`);
    }
    t.log(`${CASES} mutants (seed ${SEED}): ${refused} refused, ${CASES - refused} loaded; expected: all ${mutation.expect}`);
    t.deepEqual(failures.slice(0, 5), [], `${failures.length} mutant(s) with the wrong outcome`);
  });
}
