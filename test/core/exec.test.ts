import test from 'ava';
import { ExecError, run } from '../../harness/core/exec.ts';
import { describeExit } from '../../harness/core/exit-words.ts';
import { registerSecret } from '../../harness/core/secrets.ts';

test('a successful command resolves with its output, duration and reason', async (t) => {
  const result = await run('sh', ['-c', 'echo out; echo err >&2'], { timeoutMs: 5000, node: 'host', phase: 'unit' });
  t.true(result.ok);
  t.is(result.exitCode, 0);
  t.is(result.stdout, 'out');
  t.is(result.stderr, 'err');
  t.is(result.reason, 'succeeded (exit code 0)');
  t.is(result.node, 'host');
  t.true(result.durationMs >= 0);
});

test('a failing command throws ExecError with node, phase, exit code in words and stderr tail', async (t) => {
  const error = await t.throwsAsync(run('sh', ['-c', 'echo broken >&2; exit 3'], { timeoutMs: 5000, node: 'node1', phase: 'probe' }), {
    instanceOf: ExecError,
  });
  t.is(error!.exitCode, 3);
  t.is(error!.node, 'node1');
  t.is(error!.phase, 'probe');
  t.false(error!.timedOut);
  t.regex(error!.message, /^\[node1 probe\] sh -c 'echo broken >&2; exit 3': exited with code 3 after \d+ ms\nbroken$/);
});

test('reject:false resolves a failure with the same shape', async (t) => {
  const result = await run('sh', ['-c', 'kill -9 $$'], { timeoutMs: 5000, reject: false });
  t.false(result.ok);
  t.is(result.signal, 'SIGKILL');
  t.is(result.reason, 'killed by SIGKILL');
});

test('a command that does not exist is reported as not found', async (t) => {
  const error = await t.throwsAsync(run('ha-chaos-no-such-command', [], { timeoutMs: 5000 }), { instanceOf: ExecError });
  t.is(error!.reason, 'command not found');
});

test('a command that outlives its timeout is killed and marked timed out', async (t) => {
  const started = Date.now();
  const error = await t.throwsAsync(run('sleep', ['30'], { timeoutMs: 300 }), { instanceOf: ExecError });
  t.true(error!.timedOut);
  t.regex(error!.message, /timed out after 300 ms/);
  t.true(Date.now() - started < 5000);
});

test('a command can be cancelled', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const error = await t.throwsAsync(run('sleep', ['30'], { timeoutMs: 10_000, signal: controller.signal }), { instanceOf: ExecError });
  t.true(error!.cancelled);
  t.is(error!.reason, 'cancelled');
});

test('secrets are masked in the command, the output and the error message', async (t) => {
  const secret = registerSecret('hunter2-exec-test');
  const error = await t.throwsAsync(
    run('sh', ['-c', `echo "pw ${secret}" >&2; exit 1`, 'x', secret], { timeoutMs: 5000, secrets: ['extra-Secret'] }),
    { instanceOf: ExecError },
  );
  t.false(error!.message.includes(secret));
  t.false(error!.command.includes(secret));
  t.false(error!.stderr.includes(secret));
  t.regex(error!.stderr, /pw \*\*\*/);
  const extra = await run('echo', ['extra-Secret'], { timeoutMs: 5000, secrets: ['extra-Secret'] });
  t.is(extra.stdout, '***');
});

test('exit codes are described in words', (t) => {
  t.is(describeExit(0), 'succeeded (exit code 0)');
  t.is(describeExit(127), 'command not found (exit code 127)');
  t.is(describeExit(137), 'killed by SIGKILL (exit code 137)');
  t.is(describeExit(143), 'killed by SIGTERM (exit code 143)');
  t.is(describeExit(255), 'failed; for ssh: the connection failed (exit code 255)');
  t.is(describeExit(42), 'exited with code 42');
  t.is(describeExit(undefined, 'SIGTERM'), 'killed by SIGTERM');
});

test('onLine hands over each stdout line as it arrives, masked, and the result still has all of it', async (t) => {
  const seen: string[] = [];
  const r = await run('bash', ['-c', 'echo "==> node1: Creating domain"; sleep 0.2; printf "  node2: password=%s\\n\\npartial" "$SECRET_VALUE_X"'], {
    timeoutMs: 5000,
    env: { SECRET_VALUE_X: 'hunter2-xyz' },
    secrets: ['hunter2-xyz'],
    onLine: (line) => seen.push(line),
  });
  t.deepEqual(seen, ['==> node1: Creating domain', 'node2: password=***', 'partial']);
  t.true(r.stdout.endsWith('partial'));
  t.false(r.stdout.includes('hunter2-xyz'));
});
