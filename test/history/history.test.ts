import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { History, parseHistory } from '../../harness/history/history.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { outcome, pairOperations, type Operation } from '../../harness/history/operation.ts';
import { registerSecret } from '../../harness/core/secrets.ts';
import { tempDir } from '../helpers.ts';

const op = (index: number, process: string, type: Operation['type'], f: string, time = index): Operation => ({ index, time, process, type, f });

test('an invocation completes exactly once', (t) => {
  const history = new History();
  const pending = history.invoke('smtp-1', 'send', { id: 1 });
  pending.ok({ code: 250 });
  t.throws(() => pending.fail('again'), { message: /already completed/ });
  const ops = history.operations();
  t.deepEqual(
    ops.map((o) => [o.index, o.process, o.type, o.f]),
    [
      [0, 'smtp-1', 'invoke', 'send'],
      [1, 'smtp-1', 'ok', 'send'],
    ],
  );
  t.true(ops[1]!.time >= ops[0]!.time);
});

test('a process cannot invoke while its previous operation is open', (t) => {
  const history = new History();
  history.invoke('imap-1', 'read');
  t.throws(() => history.invoke('imap-1', 'read'), { message: /already has an operation in flight/ });
  t.notThrows(() => history.invoke('imap-2', 'read'));
});

test('record: ok on success, info on an unclassified error, fail when classified so', async (t) => {
  const history = new History();
  t.is(await history.record('c', 'send', 1, async () => 250), 250);
  await t.throwsAsync(history.record('c', 'send', 2, async () => Promise.reject(new Error('socket closed'))));
  await t.throwsAsync(history.record('c', 'send', 3, async () => Promise.reject(new Error('550 rejected')), () => 'fail'));
  t.deepEqual(
    history.operations().filter((o) => o.type !== 'invoke').map((o) => [o.type, o.error]),
    [
      ['ok', undefined],
      ['info', 'socket closed'],
      ['fail', '550 rejected'],
    ],
  );
});

test('pairing: completions match invocations per process; an unfinished one counts as info', (t) => {
  const pairs = pairOperations([op(0, 'a', 'invoke', 'send'), op(1, 'b', 'invoke', 'send'), op(2, 'a', 'ok', 'send'), op(3, 'a', 'invoke', 'send')]);
  t.deepEqual(
    pairs.map((p) => [p.invoke.index, p.completion?.index, outcome(p)]),
    [
      [0, 2, 'ok'],
      [1, undefined, 'info'],
      [3, undefined, 'info'],
    ],
  );
});

test('pairing rejects malformed histories', (t) => {
  t.throws(() => pairOperations([op(0, 'a', 'ok', 'send')]), { message: /line 0: ok for a without an open invocation/ });
  t.throws(() => pairOperations([op(0, 'a', 'invoke', 'send'), op(1, 'a', 'invoke', 'send')]), { message: /still open/ });
  t.throws(() => pairOperations([op(0, 'a', 'invoke', 'send'), op(1, 'a', 'ok', 'read')]), { message: /completed read but had invoked send/ });
});

test('the history is mirrored to JSONL as it happens, redacted, and loads back', (t) => {
  const dir = tempDir();
  const file = join(dir, 'history.jsonl');
  const secret = registerSecret('history-secret-pw');
  const history = new History(file);
  history.invoke('nemesis', 'bmc-login', { password: secret }).fail('refused');
  const text = readFileSync(file, 'utf8');
  t.is(text.trim().split('\n').length, 2);
  t.false(text.includes(secret));
  const loaded = History.load(file);
  t.is(loaded.length, 2);
  t.is(loaded[1]!.type, 'fail');
});

test('parseHistory names the bad line', (t) => {
  t.throws(() => parseHistory('{"time":1,"process":"a","type":"invoke","f":"x"}\nnot json\n', 'h.jsonl'), { instanceOf: ValidationError, message: 'h.jsonl is invalid:\n  - line 2: not valid JSON' });
  t.throws(() => parseHistory('{"time":1,"process":"a","type":"done","f":"x"}\n', 'h.jsonl'), { message: /^h.jsonl is invalid:\n {2}- line 1: an operation needs/ });
  t.throws(() => parseHistory('null\n', 'h.jsonl'), { instanceOf: ValidationError, message: /line 1: an operation needs/ });
  t.throws(() => parseHistory('{"time":1e999,"process":"a","type":"invoke","f":"x"}\n', 'h.jsonl'), { instanceOf: ValidationError, message: /a finite number/ });
  t.throws(() => parseHistory('{"time":1,"process":"a","type":"ok","f":"x"}\n', 'h.jsonl'), { instanceOf: ValidationError, message: /^h.jsonl is invalid:\n {2}- history line 0: ok for a without an open invocation$/ });
});
