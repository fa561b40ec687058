import test from 'ava';
import { classifyIpmiFailure, parsePowerStatus } from '../../harness/bmc/ipmi-client.ts';

const base = { stdout: '', durationMs: 40, timedOut: false, reason: 'failed (exit code 1)' };

test('a fast refused session is auth-or-unreachable; a slow one is a timeout', (t) => {
  t.is(classifyIpmiFailure({ ...base, stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session' }), 'auth-or-unreachable');
  t.is(classifyIpmiFailure({ ...base, durationMs: 6051, stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session' }), 'timeout');
});

test('other failures', (t) => {
  t.is(classifyIpmiFailure({ ...base, stderr: 'Set Chassis Power Control to Down/Off failed: Unspecified error' }), 'failed');
  t.is(classifyIpmiFailure({ ...base, stderr: 'Set Chassis Power Control failed: Insufficient privilege level' }), 'privilege');
  t.is(classifyIpmiFailure({ ...base, stderr: '', timedOut: true }), 'timeout');
  t.is(classifyIpmiFailure({ ...base, stderr: '', reason: 'command not found' }), 'not-installed');
});

test('power status replies', (t) => {
  t.is(parsePowerStatus('Chassis Power is on'), 'on');
  t.is(parsePowerStatus('Chassis Power is off\n'), 'off');
  t.is(parsePowerStatus('garbage'), undefined);
});
