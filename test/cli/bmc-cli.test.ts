/** `ha-chaos bmc` by hand, as README.md tells a person to try it. */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { freeUdpPort, tempDir } from '../helpers.ts';

const cli = join(process.cwd(), 'bin/ha-chaos');

function haChaos(args: string[], stateDir: string) {
  return run(cli, args, { timeoutMs: 60_000, env: { HA_CHAOS_STATE_DIR: stateDir }, reject: false });
}

test('bmc serve, then ipmitool by hand, bmc power/status, bmc stop', async (t) => {
  const state = tempDir();
  const port = await freeUdpPort();
  t.teardown(() => haChaos(['bmc', 'stop', '--all'], state));

  const serve = await haChaos(['bmc', 'serve', 'node1', '--port', String(port), '--process', 'sleep 100000'], state);
  t.is(serve.exitCode, 0, serve.stderr);
  t.regex(serve.stdout, new RegExp(`BMC node1 serving IPMI 2.0 lanplus on 127.0.0.1:${port}`));
  const password = readFileSync(join(state, 'bmc/node1/password'), 'utf8');
  t.false(serve.stdout.includes(password) || serve.stderr.includes(password), 'the generated password is not printed');

  const byHand = await run('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', 'admin', '-E', 'chassis', 'power', 'status'], {
    timeoutMs: 20_000,
    env: { IPMI_PASSWORD: password },
  });
  t.is(byHand.stdout, 'Chassis Power is off');

  const on = await haChaos(['bmc', 'power', 'node1', 'on'], state);
  t.is(on.exitCode, 0, on.stderr);
  t.is(on.stdout, 'node1: power on acknowledged; power now on');

  const status = await haChaos(['bmc', 'status', '--json'], state);
  const rows = JSON.parse(status.stdout) as { name: string; running: boolean; power: string }[];
  t.like(rows[0], { name: 'node1', running: true, power: 'on' });

  const stop = await haChaos(['bmc', 'stop', 'node1'], state);
  t.is(stop.stdout, 'stopped: node1');
  t.is((await haChaos(['bmc', 'status'], state)).stdout, 'no virtual BMCs');
});

test('bad input exits 2 and names the field or the fix', async (t) => {
  const state = tempDir();
  const noPort = await haChaos(['bmc', 'serve', 'node1', '--process', 'true'], state);
  t.is(noPort.exitCode, 2);
  t.regex(noPort.stderr, /--port is required/);

  const config = join(state, 'bmc.json');
  writeFileSync(config, JSON.stringify({ name: 'node1', port: 70000, username: 'admin', password: 'Abcdef-1', target: { kind: 'libvirt' } }));
  const badConfig = await haChaos(['bmc', 'serve', 'node1', '--config', config], state);
  t.is(badConfig.exitCode, 2);
  t.regex(badConfig.stderr, /\/port: must be <= 65535/);
  t.regex(badConfig.stderr, /\/target\/domain: is required but missing/);

  writeFileSync(config, '{ not json');
  const broken = await haChaos(['bmc', 'serve', 'node1', '--config', config], state);
  t.is(broken.exitCode, 2);
  t.regex(broken.stderr, /bmc\.json is invalid:\n {2}- not valid JSON: line 1, column 3: expected a key in double quotes/);

  const unknown = await haChaos(['bmc', 'power', 'nosuch', 'on'], state);
  t.is(unknown.exitCode, 4);
  t.regex(unknown.stderr, /no BMC named nosuch/);

  const badAction = await haChaos(['bmc', 'power', 'node1', 'explode'], state);
  t.is(badAction.exitCode, 2);
});
