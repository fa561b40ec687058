import test from 'ava';
import { done, notYet, StopWaiting, waitFor, WaitCancelledError, WaitTimeoutError } from '../../harness/core/wait.ts';

test('waitFor returns the value once the probe is done', async (t) => {
  let calls = 0;
  const value = await waitFor('the third call', () => (++calls >= 3 ? done('ready') : notYet(`call ${calls}`)), { timeoutMs: 2000, intervalMs: 10 });
  t.is(value, 'ready');
  t.is(calls, 3);
});

test('a timeout says what was awaited, the limit, and the last observation', async (t) => {
  const error = await t.throwsAsync(waitFor('DRBD UpToDate/UpToDate', () => notYet('Inconsistent/UpToDate'), { timeoutMs: 200, intervalMs: 20 }), {
    instanceOf: WaitTimeoutError,
  });
  t.is(error!.what, 'DRBD UpToDate/UpToDate');
  t.is(error!.lastObserved, 'Inconsistent/UpToDate');
  t.regex(error!.message, /timed out after \d+ ms \(limit 200 ms\) waiting for DRBD UpToDate\/UpToDate; last observed: Inconsistent\/UpToDate/);
  // It waited its limit out: it gives up only when one more interval would pass the deadline. The
  // upper bound is generous (a lab may boot beside this test).
  t.true(error!.elapsedMs >= 200 - 20, `gave up after ${error!.elapsedMs} ms`);
  t.true(error!.elapsedMs < 10_000, `gave up only after ${error!.elapsedMs} ms`);
});

test('a probe that throws counts as not yet and its error is the last observation', async (t) => {
  const error = await t.throwsAsync(
    waitFor('ssh', () => {
      throw new Error('connection refused\nmore');
    }, { timeoutMs: 100, intervalMs: 10 }),
    { instanceOf: WaitTimeoutError },
  );
  t.is(error!.lastObserved, 'probe failed: connection refused');
});

test('StopWaiting ends the wait at once', async (t) => {
  const started = Date.now();
  await t.throwsAsync(waitFor('a dead process', () => {
    throw new StopWaiting('it exited');
  }, { timeoutMs: 5000 }), { instanceOf: StopWaiting, message: 'it exited' });
  t.true(Date.now() - started < 1000);
});

test('a wait can be cancelled', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(waitFor('forever', () => notYet('no'), { timeoutMs: 10_000, intervalMs: 20, signal: controller.signal }), {
    instanceOf: WaitCancelledError,
    message: 'cancelled while waiting for forever',
  });
});
