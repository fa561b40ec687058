/** BMC configs from people: passwords IPMI can carry, addresses only on loopback or the lab's network, names that stay paths under the state root. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressProblem, parseBmcConfig, passwordProblem } from '../../harness/bmc/bmc-config.ts';
import { listBmcs, StartedVirtualBmc } from '../../harness/bmc/virtual-bmc.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { containsSecret, redact } from '../../harness/core/secrets.ts';
import { tempDir } from '../helpers.ts';

const good = { name: 'node1', port: 9623, username: 'admin', password: 'Passw0rd-1', target: { kind: 'libvirt', domain: 'lab_node1' } };

function problems(input: unknown): string[] {
  try {
    parseBmcConfig(input, 'bmc.json');
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
}

const rule = 'it must be 6-20 bytes of printable ASCII without spaces, quotes or backslashes';

test('passwords with NUL, BEL or ESC are refused, and length is counted in bytes (IPMI: 20)', (t) => {
  for (const control of ['Passw0rd\u0000x', 'Passw0rd\u0007x', 'Passw0rd\u001b[2J', 'Passw0rd\u007f']) {
    t.deepEqual(problems({ ...good, password: control }), [`password: contains a control character (such as NUL, BEL or ESC); ${rule}`]);
  }
  t.deepEqual(problems({ ...good, password: 'pässwörd-éé' }), [`password: contains a non-ASCII character; ${rule}`]);
  t.is(passwordProblem('x'.repeat(20)), undefined);
  t.is(passwordProblem('x'.repeat(21)), `password: is 21 bytes long; ${rule}`);
  t.is(passwordProblem('short'), `password: is 5 bytes long; ${rule}`);
  t.deepEqual(problems({ ...good, password: "it's-a-pw" }), [`password: contains a space, a quote or a backslash; ${rule}`]);
});

test('a refused password is never printed, and is masked from then on', (t) => {
  const p = problems({ ...good, password: 'Refused\u0007Pw-77' });
  t.false(p.join().includes('Refused'));
  t.true(containsSecret('x Refused\u0007Pw-77 x'));
  const file = join(tempDir(), 'pw');
  writeFileSync(file, 'file content with spaces 42\n');
  const { password: _password, ...noPassword } = good;
  t.deepEqual(problems({ ...noPassword, passwordFile: file }), [`password: contains a space, a quote or a backslash; ${rule}`]);
  t.is(redact('echo: file content with spaces 42'), 'echo: ***', 'a passwordFile whose content is echoed back stays masked');
});

test('a passwordFile of /dev/zero or a FIFO is refused at once; only one line break is dropped', (t) => {
  const { password: _password, ...noPassword } = good;
  t.deepEqual(problems({ ...noPassword, passwordFile: '/dev/zero' }), ['passwordFile: /dev/zero: cannot read this password file: it is a character device, not a regular file']);
  const fifo = join(tempDir(), 'pw');
  spawnSync('mkfifo', [fifo]);
  t.regex(problems({ ...noPassword, passwordFile: fifo })[0]!, /cannot read this password file: it is a FIFO \(named pipe\), not a regular file$/);
  const big = join(tempDir(), 'big');
  writeFileSync(big, 'x'.repeat(5000));
  t.regex(problems({ ...noPassword, passwordFile: big })[0]!, /larger than the limit of 1024 bytes$/);
  const crlf = join(tempDir(), 'crlf');
  writeFileSync(crlf, 'FromFile-123\r\n');
  t.is(parseBmcConfig({ ...noPassword, passwordFile: crlf }).password, 'FromFile-123');
});

test('address 0.0.0.0, :: and public addresses are refused, with the reason; loopback and private are fine', (t) => {
  t.deepEqual(problems({ ...good, address: '0.0.0.0' }), [
    "address: 0.0.0.0 listens on every interface; a BMC accepts power commands, so it belongs on loopback (127.0.0.1) or on the lab's own private network (such as 10.213.1.1)",
  ]);
  t.regex(problems({ ...good, address: '::' })[0]!, /^address: :: is an IPv6 address that listens on every interface; use IPv4/);
  t.regex(problems({ ...good, address: '8.8.8.8' })[0]!, /^address: 8\.8\.8\.8 is neither a loopback nor a private address/);
  t.regex(problems({ ...good, address: '255.255.255.255' })[0]!, /neither a loopback nor a private address/);
  for (const ok of ['127.0.0.1', '127.0.0.2', '10.213.1.1', '172.16.0.1', '172.31.9.1', '192.168.1.1']) t.is(addressProblem(ok), undefined, ok);
  t.deepEqual(problems({ ...good, address: '10.213.1.1' }), []);
});

test('a BMC name that is not one (../victim) never becomes a path: attach refuses it, listing skips it', (t) => {
  const root = tempDir();
  const victim = join(root, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'bmc.json'), JSON.stringify({ name: 'victim', pid: 1, port: 1, target: { kind: 'process', command: 'x' } }));
  writeFileSync(join(victim, 'password'), 'Abcdef-1');
  const error = t.throws(() => StartedVirtualBmc.attach('../victim', { stateRoot: join(root, 'state') }), { instanceOf: ValidationError });
  t.regex(error!.message, /^BMC name "\.\.\/victim" is invalid:\n {2}- is not a BMC name/);
  mkdirSync(join(root, 'state', 'bmc', 'Not A Name'), { recursive: true });
  writeFileSync(join(root, 'state', 'bmc', 'Not A Name', 'bmc.json'), '{}');
  t.deepEqual(listBmcs({ stateRoot: join(root, 'state') }), []);
});

test('a damaged BMC record is a ValidationError naming the file', (t) => {
  const root = tempDir();
  mkdirSync(join(root, 'bmc', 'node1'), { recursive: true });
  writeFileSync(join(root, 'bmc', 'node1', 'bmc.json'), 'null');
  t.throws(() => StartedVirtualBmc.attach('node1', { stateRoot: root }), { instanceOf: ValidationError, message: /bmc\/node1\/bmc\.json is invalid:\n {2}- is not a BMC record/ });
});
