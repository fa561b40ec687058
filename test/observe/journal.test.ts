import test from 'ava';
import { readFileSync } from 'node:fs';
import { failoverEvents, fenceResults, mailStarts, parseJournal } from '../../harness/observe/journal.ts';
import { toHostClock } from '../../harness/observe/clock.ts';

// Lines captured from the survivor (node2) of a real power cut of node1.
const lines = parseJournal(readFileSync('fixtures/lab/journal-survivor-power-cut.txt', 'utf8'));
const fault = 1795608901824; // the fault, on node2's clock

test('journal lines are parsed with millisecond times', (t) => {
  t.true(lines.length > 10);
  t.is(lines[1]!.time, 1795608902641.959);
  t.regex(lines[1]!.text, /^node2 corosync\[708\]: {3}\[KNET {2}\] link: host: 1 link: 0 is down$/);
});

test('the failover phases of a real power cut, in order', (t) => {
  const events = failoverEvents(lines, 'node1', fault, 1);
  const rel = Object.fromEntries(Object.entries(events.phases).map(([k, v]) => [k, Number(((v - fault) / 1000).toFixed(2))]));
  t.deepEqual(rel, {
    detected: 0.82,
    'fence-requested': 7.5,
    'fence-confirmed': 19.38,
    'drbd-promoted': 28.22,
    'fs-mounted': 35.83,
    'ip-up': 40.09,
    'smtp-started': 65.39,
    'imap-started': 80.48,
  });
  t.deepEqual(events.fences, [{ target: 'node1', action: 'reboot', ok: true, time: 1795608921207.921 }]);
  t.deepEqual(events.takeovers, [1795608930047.19]);
});

test('events before the fault, or about the other node, are ignored', (t) => {
  t.deepEqual(failoverEvents(lines, 'node1', fault + 60_000, 1).phases['fence-confirmed'], undefined);
  const wrongNode = failoverEvents(lines, 'node2', fault, 2);
  t.is(wrongNode.phases.detected, 1795608903261.393, 'only the token loss, not node1 links, counts as detecting node2');
  t.deepEqual(wrongNode.fences, []);
});

test('fence results of any target, refused ones included', (t) => {
  const race = parseJournal(
    [
      '1795608910.000000 node1 pacemaker-controld[725]:  error: Peer node2 was not terminated (reboot) by node1 on behalf of pacemaker-controld.725@node1: Error occurred',
      '1795608920.500000 node1 pacemaker-controld[725]:  notice: Peer node2 was terminated (off) by node1 on behalf of pacemaker-controld.725@node1: OK',
      '1795608921.000000 node1 kernel: unrelated line about node2',
    ].join('\n'),
  );
  t.deepEqual(fenceResults(race, 0), [
    { target: 'node2', action: 'reboot', ok: false, time: 1795608910000 },
    { target: 'node2', action: 'off', ok: true, time: 1795608920500 },
  ]);
  t.deepEqual(fenceResults(race, 1795608915000).length, 1);
  t.deepEqual(fenceResults(lines, fault), [{ target: 'node1', action: 'reboot', ok: true, time: 1795608921207.921 }]);
});

test('node times map onto the host clock by the measured offset', (t) => {
  t.is(toHostClock(10_000, { node: 'node2', offsetMs: 400, uncertaintyMs: 2 }), 9600);
  t.is(toHostClock(10_000, undefined), 10_000);
});

test('mail starts: every start of a mail resource Pacemaker logged as done, whichever node it ran on', (t) => {
  const starts = mailStarts(lines, 0, ['smtp', 'imap']);
  t.deepEqual(starts.map((s) => s.resource).sort(), ['imap', 'smtp']);
  t.deepEqual(mailStarts(lines, 0, ['axigen']), []);
  t.deepEqual(mailStarts(lines, Number.MAX_SAFE_INTEGER, ['smtp']), []);
});
