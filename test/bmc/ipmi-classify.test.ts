import test from 'ava';
import { classifyIpmiFailure, parsePowerStatus } from '../../harness/bmc/ipmi-client.ts';

const base = { stdout: '', durationMs: 40, timedOut: false, reason: 'failed (exit code 1)' };

test('a fast refused session is auth-or-unreachable; a slow one is a timeout', (t) => {
  t.is(classifyIpmiFailure({ ...base, stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session' }), 'auth-or-unreachable');
  t.is(classifyIpmiFailure({ ...base, durationMs: 6051, stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session' }), 'timeout');
});

// What ipmitool -v printed against the virtual BMC (ipmi_sim): a wrong password, an unknown user, a hung BMC.
const WRONG_PASSWORD = 'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session';
const WRONG_USER = 'Loading IANA PEN Registry...\nRAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session';
const SILENT = 'Loading IANA PEN Registry...\nGet Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session';

test('ipmitool -v names the cause, whatever the time it took (a loaded host is slow to run ipmitool at all)', (t) => {
  t.is(classifyIpmiFailure({ ...base, durationMs: 75, stderr: WRONG_PASSWORD }), 'auth-or-unreachable');
  t.is(classifyIpmiFailure({ ...base, durationMs: 2500, stderr: WRONG_PASSWORD }), 'auth-or-unreachable', 'refused, however slowly');
  t.is(classifyIpmiFailure({ ...base, durationMs: 83, stderr: WRONG_USER }), 'auth-or-unreachable');
  t.is(classifyIpmiFailure({ ...base, durationMs: 6112, stderr: SILENT }), 'timeout');
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
