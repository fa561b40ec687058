import test from 'ava';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { parseBmcConfig } from '../../harness/bmc/bmc-config.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { containsSecret } from '../../harness/core/secrets.ts';
import { tempDir } from '../helpers.ts';

const good = { name: 'node1', port: 9623, username: 'admin', password: 'Passw0rd-1', target: { kind: 'libvirt', domain: 'lab_node1' } };

function problems(input: unknown): string[] {
  try {
    parseBmcConfig(input, 'lab.json bmcs[0]');
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
}

test('a good config parses, with defaults, and its password becomes a secret', (t) => {
  const config = parseBmcConfig(good);
  t.is(config.address, '127.0.0.1');
  t.deepEqual(config.target, { kind: 'libvirt', domain: 'lab_node1', uri: 'qemu:///system' });
  t.true(containsSecret('xx Passw0rd-1 xx'));
});

test('errors name the field', (t) => {
  t.deepEqual(problems({ ...good, port: undefined }), ['port: is required but missing']);
  t.deepEqual(problems({ ...good, port: 80 }), ['/port: must be >= 1024']);
  t.deepEqual(problems({ ...good, address: 'localhost' }), ['/address: must match format "ipv4"']);
  t.deepEqual(problems({ ...good, colour: 'red' }), ['colour: is not a known field (check its spelling)']);
  t.deepEqual(problems({ ...good, name: 'Node 1' }), ["/name: must be 1-31 lowercase letters, digits and dashes, starting with a letter (e.g. node1): it names the BMC's directory"]);
});

test('the power target is checked by its kind', (t) => {
  t.deepEqual(problems({ ...good, target: { kind: 'process' } }), ['/target/command: is required but missing']);
  t.deepEqual(problems({ ...good, target: { kind: 'libvirt', domain: 'd', command: 'x' } }), ['/target/command: is not a known field (check its spelling)']);
  t.true(problems({ ...good, target: { kind: 'xen', domain: 'd' } }).some((p) => p.startsWith('/target/kind')));
});

test('exactly one credential source', (t) => {
  const { password: _password, ...noPassword } = good;
  t.deepEqual(problems(noPassword), ['password: missing: give exactly one of password, passwordFile, passwordEnv']);
  t.deepEqual(problems({ ...good, passwordEnv: 'X' }), ['password, passwordEnv: give exactly one of password, passwordFile, passwordEnv, not 2']);
  t.deepEqual(problems({ ...noPassword, passwordEnv: 'HA_CHAOS_TEST_UNSET_VAR' }), ['passwordEnv: environment variable HA_CHAOS_TEST_UNSET_VAR is not set']);
  t.deepEqual(problems({ ...noPassword, passwordFile: '/nonexistent/pw' }), ['passwordFile: /nonexistent/pw: cannot read this password file: it does not exist']);
  t.deepEqual(problems({ ...good, password: 'has "quote' }), ['password: contains a space, a quote or a backslash; it must be 6-20 bytes of printable ASCII without spaces, quotes or backslashes']);
});

test('a password file is read and trimmed', (t) => {
  const file = join(tempDir(), 'pw');
  writeFileSync(file, 'FromFile-123\n');
  const { password: _password, ...noPassword } = good;
  t.is(parseBmcConfig({ ...noPassword, passwordFile: file }).password, 'FromFile-123');
});
