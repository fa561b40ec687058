/** Timers Node cannot honour are refused, not silently turned into 1 ms (issue: a 1e-7 sendRate flooded). */
import test from 'ava';
import { checkDelay, MAX_DELAY_MS, TimerRangeError } from '../../harness/core/delay.ts';
import { run, streamLines } from '../../harness/core/exec.ts';
import { withProgress } from '../../harness/core/progress.ts';
import { silentLogger } from '../../harness/core/log.ts';
import { notYet, sleep, waitFor } from '../../harness/core/wait.ts';

test('checkDelay passes 0 to 2^31-1 ms, makes a negative delay 0, and refuses the rest', (t) => {
  t.is(checkDelay(0, 'x'), 0);
  t.is(checkDelay(MAX_DELAY_MS, 'x'), 2147483647);
  t.is(checkDelay(-5, 'x'), 0);
  for (const bad of [MAX_DELAY_MS + 1, Number.NaN, Infinity, -Infinity, 1e308]) {
    const error = t.throws(() => checkDelay(bad, 'the sender pace'), { instanceOf: TimerRangeError });
    t.regex(error!.message, /^the sender pace: .* ms is not a usable delay \(it must be a finite number of milliseconds from 0 to 2147483647, about 24\.8 days\)$/);
  }
  t.throws(() => checkDelay(-1, 'x', 'refuse'), { instanceOf: TimerRangeError });
  t.true(new TimerRangeError('x', 1) instanceof RangeError);
});

test('sleep refuses what the issue found: 1000/sendRate for sendRate 1e-7 (1e10 ms), NaN, Infinity', async (t) => {
  await t.throwsAsync(sleep(1000 / 1e-7), { instanceOf: TimerRangeError, message: /^sleep: 10000000000 ms is not a usable delay/ });
  await t.throwsAsync(sleep(Number.NaN), { instanceOf: TimerRangeError, message: /^sleep: NaN ms/ });
  await t.throwsAsync(sleep(Infinity), { instanceOf: TimerRangeError });
  // A negative delay is no delay: it ends before a 2 s sleep started after it (ordering, not a clock bound).
  const first = await Promise.race([sleep(-100).then(() => 'negative'), sleep(2000).then(() => 'two seconds')]);
  t.is(first, 'negative');
});

test('waitFor refuses a timeout or interval no timer can honour', async (t) => {
  await t.throwsAsync(waitFor('the cluster', () => notYet('no'), { timeoutMs: 1e308 * 1000 }), {
    instanceOf: TimerRangeError,
    message: /^timeout of the wait for the cluster: Infinity ms/,
  });
  await t.throwsAsync(waitFor('the cluster', () => notYet('no'), { timeoutMs: 100, intervalMs: 2 ** 31 }), {
    instanceOf: TimerRangeError,
    message: /^poll interval of the wait for the cluster/,
  });
});

test('exec refuses waits.bootS 1e308 (Infinity ms) with its own error instead of a TypeError from execa, and a 0 timeout', async (t) => {
  const bootS = 1e308;
  await t.throwsAsync(run('true', [], { timeoutMs: (bootS + 300) * 1000 }), { instanceOf: TimerRangeError, message: /^timeout of true: Infinity ms/ });
  await t.throwsAsync(run('true', [], { timeoutMs: 2 ** 31 }), { instanceOf: TimerRangeError });
  await t.throwsAsync(run('true', [], { timeoutMs: 0 }), { instanceOf: TimerRangeError, message: /execa reads 0 as no timeout/ });
  await t.throwsAsync(streamLines('true', [], () => undefined, { timeoutMs: Number.NaN, signal: new AbortController().signal }), { instanceOf: TimerRangeError });
  await t.throwsAsync(withProgress(silentLogger, 'x', async () => 1, Infinity), { instanceOf: TimerRangeError });
  t.like(await run('true', [], { timeoutMs: 5000 }), { ok: true });
});
