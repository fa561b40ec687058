import test from 'ava';
import { describeMailError, sendDefinitelyFailed, subjectOf } from '../../harness/workload/mail-client.ts';
import { messageNumber } from '../../harness/workload/workload.ts';

const err = (message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), extra);

test('a send definitely failed only when refused or never connected', (t) => {
  t.true(sendDefinitelyFailed(err('Message failed: 554 5.7.1 rejected', { responseCode: 554 })));
  t.true(sendDefinitelyFailed(err('Temporary failure', { responseCode: 451 })));
  t.true(sendDefinitelyFailed(err('connect ECONNREFUSED 10.213.10.100:25', { code: 'ESOCKET' })));
  t.true(sendDefinitelyFailed(err('connect EHOSTUNREACH 10.213.10.100:25', { code: 'ESOCKET' })));
  t.true(sendDefinitelyFailed(err('Connection timeout', { code: 'ETIMEDOUT' })));
  t.true(sendDefinitelyFailed(err('Greeting never received', { code: 'ETIMEDOUT' })));
});

test('a send whose outcome is unknown: lost mid-transaction or timed out after connecting', (t) => {
  t.false(sendDefinitelyFailed(err('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' })));
  t.false(sendDefinitelyFailed(err('Server closed the connection', { code: 'ECONNECTION' })));
  t.false(sendDefinitelyFailed(err('Timeout', { code: 'ETIMEDOUT', command: 'DATA' })));
  t.false(sendDefinitelyFailed(err('read ECONNRESET', { code: 'ESOCKET' })));
});

test('message numbers are read back only from the subjects of this run', (t) => {
  t.is(messageNumber('ha-chaos 20261125-121151-power-cut-active-6529 msg 17', '20261125-121151-power-cut-active-6529'), 17);
  t.is(messageNumber('ha-chaos 20261125-000000-other-1111 msg 17', '20261125-121151-power-cut-active-6529'), undefined);
  t.is(messageNumber('ha-chaos lab-tier 123', 'x'), undefined);
});

test('POP3: the subject is taken from the header block, folded lines unfolded', (t) => {
  const top = 'Return-Path: <workload@ha-chaos.test>\r\nSubject: ha-chaos r1 msg\r\n 17\r\nX-Other: Subject: not this\r\n\r\nSubject: body line\r\n';
  t.is(subjectOf(top), 'ha-chaos r1 msg 17');
  t.is(subjectOf('From: a@b\n\nSubject: only in the body\n'), '');
  t.is(subjectOf('subject:   lower case works  \n'), 'lower case works');
});

test('client errors keep what the server said', (t) => {
  const imap = Object.assign(new Error('Command failed'), { responseText: '[UNAVAILABLE] Maximum number of connections from user+IP exceeded' });
  t.is(describeMailError(imap), 'Command failed: [UNAVAILABLE] Maximum number of connections from user+IP exceeded');
  const smtp = Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <x@lab.test>: Recipient address rejected"), { response: '550 5.1.1 <x@lab.test>: Recipient address rejected' });
  t.is(describeMailError(smtp), smtp.message);
  t.is(describeMailError('plain'), 'plain');
});
