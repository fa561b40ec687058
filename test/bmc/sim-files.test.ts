import test from 'ava';
import { parsePowerLog, renderControlWrapper, renderFaultsEnv, renderLanConf, renderTargetEnv, shellQuote } from '../../harness/bmc/sim-files.ts';
import type { BmcConfig } from '../../harness/bmc/bmc-config.ts';

const config: BmcConfig = { name: 'node2', address: '192.168.121.1', port: 9624, username: 'fence', password: 'Pw-123456', target: { kind: 'process', command: "sleep 'x'" } };

test('lan.conf: one LAN channel on the configured address, the control program, one admin user', (t) => {
  const conf = renderLanConf(config, '/s/bmc/node2/control');
  t.regex(conf, /^name "node2"$/m);
  t.regex(conf, /^ {4}addr 192\.168\.121\.1 9624$/m);
  t.regex(conf, /^ {2}chassis_control "\/s\/bmc\/node2\/control"$/m);
  t.regex(conf, /^ {2}user 2 true "fence" "Pw-123456" admin 10 none md2 md5 straight$/m);
});

test('target.env quotes values for the shell', (t) => {
  t.is(shellQuote("it's"), `'it'\\''s'`);
  t.is(renderTargetEnv(config, '/d'), `TARGET_KIND=process\nPIDFILE='/d/target.pid'\nSTART_CMD='sleep '\\''x'\\'''\n`);
  t.is(
    renderTargetEnv({ ...config, target: { kind: 'libvirt', domain: 'lab_node2', uri: 'qemu:///system' } }, '/d'),
    "TARGET_KIND=libvirt\nLIBVIRT_URI='qemu:///system'\nDOMAIN='lab_node2'\n",
  );
});

test('faults.env and the control wrapper', (t) => {
  t.is(renderFaultsEnv({ mode: 'ignore', delayMs: 1500.4 }), 'FAULT_MODE=ignore\nFAULT_DELAY_MS=1500\n');
  t.is(renderFaultsEnv({ mode: 'normal', delayMs: -5 }), 'FAULT_MODE=normal\nFAULT_DELAY_MS=0\n');
  t.is(renderControlWrapper('/repo/chassis-control.sh', '/s/b'), "#!/bin/sh\nexec '/repo/chassis-control.sh' '/s/b' \"$@\"\n");
});

test('the power log parses, skipping a torn last line', (t) => {
  const entries = parsePowerLog('{"time":1,"request":"power","value":"0","result":"done","detail":""}\n{"time":2,"request":"pow');
  t.deepEqual(entries, [{ time: 1, request: 'power', value: '0', result: 'done', detail: '' }]);
});
