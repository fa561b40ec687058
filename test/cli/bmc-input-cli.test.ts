/** `ha-chaos bmc` with hostile names and configs: exit 2, nothing outside the state root touched, no secret printed. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { registerSecret } from '../../harness/core/secrets.ts';
import { redactWrites } from '../../harness/cli/redacted-output.ts';
import { tempDir } from '../helpers.ts';

const cli = join(process.cwd(), 'bin/ha-chaos');

function haChaos(args: string[], stateDir: string) {
  return run(cli, args, { timeoutMs: 60_000, env: { HA_CHAOS_STATE_DIR: stateDir }, reject: false });
}

test('bmc stop ../victim is refused with exit 2 and the directory outside the state folder survives', async (t) => {
  const root = tempDir();
  const state = join(root, 'state');
  const victim = join(state, 'victim');
  mkdirSync(join(state, 'bmc'), { recursive: true });
  mkdirSync(victim);
  writeFileSync(join(victim, 'bmc.json'), JSON.stringify({ name: 'victim', address: '127.0.0.1', port: 1, username: 'a', pid: 1, session: 'x', target: { kind: 'libvirt', domain: 'd' } }));
  writeFileSync(join(victim, 'password'), 'Victim-Pw-1');
  for (const args of [['bmc', 'stop', '../victim'], ['bmc', 'status', '../victim'], ['bmc', 'power', '../victim', 'status']]) {
    const r = await haChaos(args, state);
    t.is(r.exitCode, 2, args.join(' '));
    t.regex(r.stderr, new RegExp(`^ha-chaos: ${args.slice(0, 2).join(' ')}: "\\.\\./victim" is not a BMC name: a BMC name is 1-31 lowercase letters, digits and dashes, starting with a letter \\(e\\.g\\. node1\\)$`));
  }
  t.true(existsSync(join(victim, 'bmc.json')), 'nothing was removed');
});

test('bmc serve: --port 0x1F, --address 0.0.0.0, a config of /dev/zero: exit 2 with the reason', async (t) => {
  const state = tempDir();
  const hex = await haChaos(['bmc', 'serve', 'node1', '--port', '0x1F', '--process', 'true'], state);
  t.is(hex.exitCode, 2);
  t.regex(hex.stderr, /--port: "0x1F" is not a UDP port number: a decimal integer from 1024 to 65535/);
  const wildcard = await haChaos(['bmc', 'serve', 'node1', '--port', '9623', '--address', '0.0.0.0', '--process', 'true'], state);
  t.is(wildcard.exitCode, 2);
  t.regex(wildcard.stderr, /address: 0\.0\.0\.0 listens on every interface; a BMC accepts power commands/);
  const zero = await haChaos(['bmc', 'serve', 'node1', '--config', '/dev/zero'], state);
  t.is(zero.exitCode, 2);
  t.regex(zero.stderr, /\/dev\/zero is invalid:\n {2}- cannot read this BMC config: it is a character device, not a regular file/);
});

test('a config with an unquoted password, or a password file echoed back, does not print the password', async (t) => {
  const state = tempDir();
  const config = join(state, 'bmc.json');
  writeFileSync(config, '{\n  "name": "node1",\n  "port": 9623,\n  "username": "admin",\n  "password": S3cretPw77,\n  "target": {"kind": "process", "command": "true"}\n}\n');
  const unquoted = await haChaos(['bmc', 'serve', 'node1', '--config', config], state);
  t.is(unquoted.exitCode, 2);
  t.regex(unquoted.stderr, /bmc\.json is invalid:\n {2}- not valid JSON: line 5, column 15: expected a value/);
  t.false(unquoted.stderr.includes('S3cretPw77') || unquoted.stdout.includes('S3cretPw77'));

  const pwFile = join(state, 'pw');
  writeFileSync(pwFile, 'echoed back 42\n');
  const echoed = await haChaos(['bmc', 'serve', 'node1', '--port', '9623', '--process', 'true', '--password-file', pwFile], state);
  t.is(echoed.exitCode, 2);
  t.regex(echoed.stderr, /password: contains a space, a quote or a backslash/);
  t.false(echoed.stderr.includes('echoed back'));

  const fifo = join(state, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const blocked = await haChaos(['bmc', 'serve', 'node1', '--port', '9623', '--process', 'true', '--password-file', fifo], state);
  t.is(blocked.exitCode, 2, 'a FIFO as the password file does not hang');
  t.regex(blocked.stderr, /cannot read this password file: it is a FIFO/);
});

test("the CLI's output streams pass the redactor", (t) => {
  registerSecret('Printed-Secret-5');
  const written: unknown[] = [];
  const stream = { write: (chunk: unknown) => written.push(chunk) > 0 };
  redactWrites(stream);
  stream.write('error: Printed-Secret-5 and "Printed-Secret-5"\n');
  stream.write(Buffer.from('buf Printed%2DSecret-5 Printed-Secret-5'));
  t.deepEqual(written, ['error: *** and "***"\n', 'buf Printed%2DSecret-5 ***']);
});
